//! Violations found while compiling a snapshot, each with the field path that caused it.
//!
//! One `Violation` type feeds every consumer: `dataplane --check`, the reload log, the control
//! plane's 422 body and the NACK reason a node sends.

use std::fmt;

/// A path into the raw config, rendered like `tenants[2].routes.advanced[0].condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(String);

/// One problem in a candidate snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

/// Every violation found in one compile, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

// === impl FieldPath ===

impl FieldPath {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// `self.name`
    pub fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Self(name.to_owned())
        } else {
            Self(format!("{}.{name}", self.0))
        }
    }

    /// `self[i]`
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }

    /// `self["key"]` for map entries, so keys with dots stay unambiguous.
    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}[{key:?}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// === impl Violation ===

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

// === impl Violations ===

impl Violations {
    pub fn push(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.0.push(Violation {
            path: path.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_the_raw_document() {
        let p = FieldPath::root()
            .field("tenants")
            .index(2)
            .field("routes")
            .field("advanced")
            .index(0)
            .field("condition");
        assert_eq!(p.as_str(), "tenants[2].routes.advanced[0].condition");
        assert_eq!(
            FieldPath::root().field("a").key("x.y").as_str(),
            "a[\"x.y\"]"
        );
    }
}
