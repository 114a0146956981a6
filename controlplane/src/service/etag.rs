//! ETags of resources: the version that last wrote the resource, so a delete and re-create never
//! brings an old ETag back to life.

/// The ETag of a resource written by version `revision` (0 = never written).
pub fn etag_of(revision: i64) -> String {
    format!("\"r{revision}\"")
}

/// What an `If-Match` value asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: the resource must exist.
    Any,
    /// The resource must be at this revision.
    Revision(i64),
    /// Not an ETag this server issues: never matches.
    Unknown,
}

/// Parses an `If-Match` value: `"r5"`, `W/"r5"`, `r5` or `*`.
pub fn parse_etag(value: &str) -> Precondition {
    let v = value.trim();
    if v == "*" {
        return Precondition::Any;
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.strip_prefix('r')
        .and_then(|n| n.parse().ok())
        .map_or(Precondition::Unknown, Precondition::Revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag_of(7)), Precondition::Revision(7));
        assert_eq!(parse_etag("W/\"r7\""), Precondition::Revision(7));
        assert_eq!(parse_etag("*"), Precondition::Any);
        assert_eq!(parse_etag("\"x\""), Precondition::Unknown);
    }
}
