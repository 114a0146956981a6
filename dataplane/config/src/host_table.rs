//! Host → tenant lookup (BFE's host table): exact names, then `*.` wildcards matching one or
//! more extra labels (most specific wins), then the VIP table, then the default tenant.

use std::net::IpAddr;

use crate::FastMap;
use crate::host::{HostBuf, MAX_HOST_LEN, normalize_host};
use crate::snapshot::TenantId;

/// Kept here for callers that already import it; the rule lives in [`crate::host`].
pub use crate::host::strip_port;

/// Where a host lookup landed: the tenant and the host tag that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMatch {
    pub tenant: TenantId,
    /// Index into the tenant's host tags, or `None` when found by VIP or default.
    pub tag: Option<u32>,
}

#[derive(Debug, Default)]
pub struct HostTable {
    exact: FastMap<Box<str>, HostMatch>,
    /// `*.example.com` stored under `example.com`.
    wildcard: FastMap<Box<str>, HostMatch>,
    vips: FastMap<IpAddr, TenantId>,
    default: Option<TenantId>,
}

// === impl HostTable ===

impl HostTable {
    pub(crate) fn new(default: Option<TenantId>) -> Self {
        Self {
            default,
            ..Self::default()
        }
    }

    /// Adds a lower-cased, validated host pattern; returns false if it was already taken.
    pub(crate) fn insert(&mut self, pattern: &str, m: HostMatch) -> bool {
        let (map, key) = match pattern.strip_prefix("*.") {
            Some(suffix) => (&mut self.wildcard, suffix),
            None => (&mut self.exact, pattern),
        };
        if map.contains_key(key) {
            return false;
        }
        map.insert(key.into(), m);
        true
    }

    pub(crate) fn insert_vip(&mut self, vip: IpAddr, tenant: TenantId) -> bool {
        self.vips.insert(vip, tenant).is_none()
    }

    /// Finds the tenant for a Host value, read as [`normalize_host`] reads it (any case,
    /// optional `:port`, optional trailing dot), and the VIP the connection arrived on.
    /// Allocation-free.
    pub fn lookup(&self, host: Option<&str>, vip: Option<IpAddr>) -> Option<HostMatch> {
        if let Some(found) = host.and_then(|h| self.lookup_host(h)) {
            return Some(found);
        }
        if let Some(t) = vip.and_then(|v| self.vips.get(&v)) {
            return Some(HostMatch {
                tenant: *t,
                tag: None,
            });
        }
        self.default.map(|tenant| HostMatch { tenant, tag: None })
    }

    fn lookup_host(&self, host: &str) -> Option<HostMatch> {
        let mut buf: HostBuf = [0; MAX_HOST_LEN];
        let lower = normalize_host(host, &mut buf).filter(|h| !h.is_empty())?;
        if let Some(m) = self.exact.get(lower) {
            return Some(*m);
        }
        if self.wildcard.is_empty() {
            return None;
        }
        // Walk suffixes from the longest: for a.b.c try b.c, then c.
        let mut rest = lower;
        while let Some(dot) = rest.bytes().position(|b| b == b'.') {
            rest = &rest[dot + 1..];
            if let Some(m) = self.wildcard.get(rest) {
                return Some(*m);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: u32) -> HostMatch {
        HostMatch {
            tenant: TenantId(t),
            tag: Some(0),
        }
    }

    #[test]
    fn exact_beats_wildcard_and_longer_wildcard_wins() {
        let mut t = HostTable::new(Some(TenantId(9)));
        assert!(t.insert("www.a.com", m(1)));
        assert!(t.insert("*.a.com", m(2)));
        assert!(t.insert("*.b.a.com", m(3)));
        assert!(!t.insert("*.a.com", m(4)));
        assert!(t.insert_vip("10.0.0.1".parse().unwrap(), TenantId(5)));
        let get = |h: &str| t.lookup(Some(h), None).map(|m| m.tenant.0);
        assert_eq!(get("WWW.A.COM:8080"), Some(1));
        assert_eq!(get("www.a.com."), Some(1));
        assert_eq!(get("x.a.com"), Some(2));
        assert_eq!(
            get("x.y.a.com"),
            Some(2),
            "wildcards match one or more labels"
        );
        assert_eq!(get("x.b.a.com"), Some(3));
        assert_eq!(
            get("a.com"),
            Some(9),
            "the bare suffix is not matched by *."
        );
        assert_eq!(
            t.lookup(Some("zzz"), Some("10.0.0.1".parse().unwrap()))
                .map(|m| m.tenant.0),
            Some(5)
        );
        let none = HostTable::new(None);
        assert_eq!(none.lookup(Some("a"), None), None);
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("a.com:80"), "a.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("a.com"), "a.com");
    }
}
