//! Compiling one primitive's type-checked arguments into matchers (BFE `build.go`). Builders
//! fail with `(argument index, message)`; the checker turns that into `InvalidArgValue` at the
//! argument's column.

use regex::bytes::Regex;

use super::eval::{IpSource, IpTest, Prim, TextSource, TextTest};
use super::json::JsonPath;
use super::matcher::{Buckets, IpRange, StrList, StrOp, ip_key, parse_ip};
use super::parse::Lit;
use super::time;
use crate::host::{self, HostBuf, MAX_HOST_LEN};

/// A primitive's arguments after the type check: `s(i)` is a string argument, `b(i)` a bool.
pub(super) struct Args<'a>(pub &'a [Lit]);

pub(super) type BuildResult = Result<Prim, (usize, String)>;

// === impl Args ===

impl Args<'_> {
    pub(super) fn s(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(Lit::Str(s)) => s,
            _ => "",
        }
    }

    pub(super) fn b(&self, i: usize) -> bool {
        matches!(self.0.get(i), Some(Lit::Bool(true)))
    }
}

// === builders ===

pub(super) fn text(src: TextSource, test: TextTest) -> BuildResult {
    Ok(Prim::Text(src, test))
}

pub(super) fn list(a: &Args<'_>, i: usize, op: StrOp, ci: bool) -> TextTest {
    TextTest::List(StrList::new(a.s(i), op, ci))
}

/// `req_host_in`: each `|` item in the normal form of [`host::normalize_host`] (lower case,
/// one trailing dot dropped), the same form the request's Host is compared in at eval and the
/// host table looks up, so the three agree on every Host value. An item must be a non-empty
/// ASCII name or a bracketed IPv6 literal, without a port. Deliberate, against BFE: BFE kept an
/// empty item (matching a request without Host) and folded non-ASCII case with Unicode rules;
/// both are refused here (a compile-time Unicode fold also made the Kelvin sign `\u{212a}` an
/// ASCII `k` that eval, folding ASCII only, then disagreed with).
pub(super) fn host_in(a: &Args<'_>) -> BuildResult {
    let mut names = a
        .s(0)
        .split('|')
        .map(|item| host_item(item).map(Box::<str>::from).map_err(|m| (0, m)))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort_unstable();
    names.dedup();
    Ok(Prim::HostIn(names.into_boxed_slice()))
}

/// One `req_host_in` item in normal form, or why it can never name a host.
fn host_item(item: &str) -> Result<String, String> {
    if item.is_empty() {
        return Err("empty host in the list (a doubled, leading or trailing '|'?)".to_owned());
    }
    if !item.is_ascii() {
        return Err(format!(
            "host '{item}' must be ASCII: write an internationalized name in its xn-- form"
        ));
    }
    if let Some(inner) = item.strip_prefix('[') {
        // A bracketed IPv6 literal, nothing after the `]` (BFE rejected any `:`).
        let Some(addr) = inner.strip_suffix(']') else {
            return Err(format!(
                "host '{item}' must not include a port ('[v6]' with nothing after the ']')"
            ));
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{addr}' in host '{item}' is not an IPv6 address"));
        }
    } else if item.contains(':') {
        return Err(format!("host '{item}' must not include a port"));
    }
    let mut buf: HostBuf = [0; MAX_HOST_LEN];
    match host::normalize_host(item, &mut buf) {
        Some("") => Err(format!("host '{item}' is empty without its trailing dot")),
        Some(name) => Ok(name.to_owned()),
        None => Err(format!(
            "host '{item}' is longer than {MAX_HOST_LEN} bytes, so no request can match it"
        )),
    }
}

/// A regex compiled once here; Go RE2 and the `regex` crate share their syntax for practical
/// purposes (both linear-time, no backreferences).
pub(super) fn regex(a: &Args<'_>, i: usize) -> Result<TextTest, (usize, String)> {
    Regex::new(a.s(i)).map(TextTest::Regex).map_err(|e| {
        (
            i,
            format!("not a valid regex: {}", one_line(&e.to_string())),
        )
    })
}

pub(super) fn hash(a: &Args<'_>, i: usize, fold: bool) -> Result<TextTest, (usize, String)> {
    let buckets = Buckets::parse(a.s(i)).map_err(|m| (i, m))?;
    Ok(TextTest::Hash { buckets, fold })
}

pub(super) fn ip_range(src: IpSource, a: &Args<'_>) -> BuildResult {
    let range = IpRange::new(a.s(0), a.s(1))?;
    Ok(Prim::Ip(src, IpTest::Range(range)))
}

pub(super) fn ip_in(src: IpSource, a: &Args<'_>) -> BuildResult {
    let set = a
        .s(0)
        .split('|')
        .map(|s| parse_ip(s).map(ip_key).map_err(|m| (0, m)))
        .collect::<Result<Box<[u128]>, _>>()?;
    Ok(Prim::Ip(src, IpTest::In(set)))
}

pub(super) fn ip_hash(src: IpSource, a: &Args<'_>) -> BuildResult {
    let buckets = Buckets::parse(a.s(0)).map_err(|m| (0, m))?;
    Ok(Prim::Ip(src, IpTest::Hash(buckets)))
}

/// Header names fold case (HTTP); `Facts::header` receives them lower-case.
pub(super) fn header_name(a: &Args<'_>, i: usize) -> Box<str> {
    a.s(i).to_ascii_lowercase().into()
}

pub(super) fn names(a: &Args<'_>, i: usize) -> Box<[Box<str>]> {
    a.s(i).split('|').map(Into::into).collect()
}

pub(super) fn lower_names(a: &Args<'_>, i: usize) -> Box<[Box<str>]> {
    a.s(i)
        .split('|')
        .map(|n| n.to_ascii_lowercase().into())
        .collect()
}

/// A `|` list of decimal numbers. Deliberate: BFE compared these as strings, so a typo such as
/// `"8o8o"` silently never matched; we reject it at load.
pub(super) fn numbers(a: &Args<'_>, i: usize, what: &str) -> Result<Box<[u16]>, (usize, String)> {
    a.s(i)
        .split('|')
        .map(|n| {
            n.parse::<u16>()
                .map_err(|_| (i, format!("'{n}' is not a {what} (0-65535)")))
        })
        .collect()
}

pub(super) fn body_json(a: &Args<'_>, op: StrOp) -> BuildResult {
    let path = JsonPath::parse(a.s(0)).map_err(|m| (0, m))?;
    text(TextSource::BodyJson(path), list(a, 1, op, a.b(2)))
}

/// `bfe_time_range(start, end)`: inclusive, start not after end.
pub(super) fn time_range(a: &Args<'_>) -> BuildResult {
    let start = time::parse_datetime(a.s(0)).map_err(|m| (0, m))?;
    let end = time::parse_datetime(a.s(1)).map_err(|m| (1, m))?;
    if start > end {
        return Err((1, format!("end '{}' is before start '{}'", a.s(1), a.s(0))));
    }
    Ok(Prim::Time { start, end })
}

/// `bfe_periodic_time_range(start, end, period)`: a daily window in one zone. As in BFE, the
/// window may not wrap midnight (start not after end), both ends use the same zone letter,
/// and `period` must be `""` (daily; BFE reserves it).
pub(super) fn periodic_time_range(a: &Args<'_>) -> BuildResult {
    let (start, zone_start) = time::parse_time_of_day(a.s(0)).map_err(|m| (0, m))?;
    let (end, zone_end) = time::parse_time_of_day(a.s(1)).map_err(|m| (1, m))?;
    if start > end {
        return Err((1, format!("end '{}' is before start '{}'", a.s(1), a.s(0))));
    }
    if zone_start != zone_end {
        return Err((1, "start and end must use the same time zone".to_owned()));
    }
    if !a.s(2).is_empty() {
        return Err((
            2,
            "period must be \"\" (daily); other periods are not supported".to_owned(),
        ));
    }
    Ok(Prim::Periodic {
        start,
        end,
        offset: zone_start,
    })
}

/// The regex crate's errors span several lines; a condition error is one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
