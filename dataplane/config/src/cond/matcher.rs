//! Compiled matchers: string lists, IP ranges and sets, hash buckets. Built once by `build`,
//! read by `eval`; matching never panics and allocates only to fold non-ASCII case.

use std::net::IpAddr;

/// How a list item is compared with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StrOp {
    Exact,
    Prefix,
    Suffix,
    Contain,
    /// Prefix on `/`-element boundaries: items end in `/`, and the value is read as if it ended
    /// in `/` (BFE appends one), so `/a/b` matches `/a/b`, `/a/b/` and `/a/b/c` but not `/a/bc`.
    ElementPrefix,
}

/// A `|`-separated list from one string argument, split at compile time. With `ci`, items are
/// lower-cased here and values are folded at match time. Empty items are kept, as BFE's
/// `strings.Split` keeps them (`""` matches an empty value; an empty prefix matches anything).
#[derive(Debug, Clone)]
pub(super) struct StrList {
    op: StrOp,
    ci: bool,
    all_ascii: bool,
    items: Box<[Box<[u8]>]>,
}

/// An inclusive range of addresses, IPv4 kept as IPv4-mapped IPv6 so one compare serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IpRange {
    start: u128,
    end: u128,
}

/// Hash buckets (`0..=9999`) as sorted inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Buckets {
    ranges: Box<[(u16, u16)]>,
}

pub(super) const BUCKETS: u64 = 10_000;

/// An address as one comparable number: canonical IPv4 (also when written as `::ffff:a.b.c.d`)
/// maps to `::ffff:a.b.c.d`, IPv6 stays itself. BFE compares 16-byte forms the same way.
pub(super) fn ip_key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

// === impl StrList ===

impl StrList {
    pub(super) fn new(list: &str, op: StrOp, ci: bool) -> Self {
        let items: Box<[Box<[u8]>]> = list
            .split('|')
            .map(|item| {
                let mut s = if ci {
                    item.to_lowercase()
                } else {
                    item.to_owned()
                };
                if op == StrOp::ElementPrefix && !s.ends_with('/') {
                    s.push('/');
                }
                s.into_bytes().into_boxed_slice()
            })
            .collect();
        let all_ascii = items.iter().all(|i| i.is_ascii());
        Self {
            op,
            ci,
            all_ascii,
            items,
        }
    }

    pub(super) fn matches(&self, value: &[u8]) -> bool {
        if !self.ci {
            return self
                .items
                .iter()
                .any(|p| op_match(self.op, value, p, false));
        }
        // Folding ASCII needs no copy; only a non-ASCII value against non-ASCII items does.
        if value.is_ascii() || self.all_ascii {
            return self.items.iter().any(|p| op_match(self.op, value, p, true));
        }
        match std::str::from_utf8(value) {
            Ok(s) => {
                let lower = s.to_lowercase();
                let lower = lower.as_bytes();
                self.items
                    .iter()
                    .any(|p| op_match(self.op, lower, p, false))
            }
            Err(_) => self.items.iter().any(|p| op_match(self.op, value, p, true)),
        }
    }
}

/// `pattern` is already lower-case when `fold`.
fn op_match(op: StrOp, v: &[u8], p: &[u8], fold: bool) -> bool {
    let eq = |a: &[u8], b: &[u8]| {
        if fold {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match op {
        StrOp::Exact => v.len() == p.len() && eq(v, p),
        StrOp::Prefix => v.len() >= p.len() && eq(&v[..p.len()], p),
        StrOp::Suffix => v.len() >= p.len() && eq(&v[v.len() - p.len()..], p),
        StrOp::Contain => {
            p.is_empty() || (v.len() >= p.len() && v.windows(p.len()).any(|w| eq(w, p)))
        }
        StrOp::ElementPrefix => {
            // `p` ends in '/'. Reading `v` as `v + "/"` (unless it already ends in '/'): `p` is a
            // prefix of that iff it is a prefix of `v`, or `p` is exactly `v + "/"`.
            let prefix = v.len() >= p.len() && eq(&v[..p.len()], p);
            let whole = !v.ends_with(b"/") && v.len() + 1 == p.len() && eq(v, &p[..v.len()]);
            prefix || whole
        }
    }
}

// === impl IpRange ===

impl IpRange {
    /// `Err(arg index, message)`: both ends must be the same family and `start <= end`.
    pub(super) fn new(start: &str, end: &str) -> Result<Self, (usize, String)> {
        let s = parse_ip(start).map_err(|m| (0, m))?;
        let e = parse_ip(end).map_err(|m| (1, m))?;
        if s.is_ipv4() != e.is_ipv4() {
            return Err((
                1,
                format!("'{start}' and '{end}' are not the same IP family"),
            ));
        }
        let (start_k, end_k) = (ip_key(s), ip_key(e));
        if start_k > end_k {
            return Err((
                1,
                format!("range end '{end}' is before its start '{start}'"),
            ));
        }
        Ok(Self {
            start: start_k,
            end: end_k,
        })
    }

    pub(super) fn contains(&self, ip: IpAddr) -> bool {
        (self.start..=self.end).contains(&ip_key(ip))
    }
}

/// An IPv4 or IPv6 address; IPv4-mapped IPv6 counts as IPv4 (as Go's `To4` does).
pub(super) fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| format!("'{s}' is not an IP address"))
}

// === impl Buckets ===

impl Buckets {
    /// `"0-99|500"`: sections split by `|`, each `n` or `start-end` within `0..=9999`, start not
    /// after end; spaces inside a section are ignored (BFE strips them).
    pub(super) fn parse(list: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for section in list.split('|') {
            let bad = |why: &str| format!("bad hash bucket section '{section}': {why}");
            let compact: String = section.chars().filter(|c| *c != ' ').collect();
            let mut ends = compact.split('-');
            let (Some(first), second, None) = (ends.next(), ends.next(), ends.next()) else {
                return Err(bad("expected 'n' or 'start-end'"));
            };
            let num = |s: &str| match s.parse::<u16>() {
                Ok(n) if u64::from(n) < BUCKETS => Ok(n),
                Ok(_) => Err(bad("buckets are 0 to 9999")),
                Err(_) => Err(bad("not a number")),
            };
            let start = num(first)?;
            let end = match second {
                Some(s) => num(s)?,
                None => start,
            };
            if end < start {
                return Err(bad("start is after end"));
            }
            ranges.push((start, end));
        }
        ranges.sort_unstable();
        Ok(Self {
            ranges: ranges.into_boxed_slice(),
        })
    }

    pub(super) fn contains(&self, bucket: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(s, e)| (u64::from(s)..=u64::from(e)).contains(&bucket))
    }
}
