//! Sets of IP addresses given as single addresses, CIDR blocks or `start-end` ranges (BFE's
//! Begin/End pairs), merged and sorted once so a lookup is a binary search.

use std::net::IpAddr;

use ipnet::IpNet;

/// An immutable set of IP ranges. IPv4-mapped IPv6 addresses match the IPv4 ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRanges {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

/// Collects ranges, then [`IpRangesBuilder::build`] merges them.
#[derive(Debug, Default)]
pub struct IpRangesBuilder {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

// === impl IpRanges ===

impl IpRanges {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)),
                None => find(&self.v6, u128::from(v6)),
            },
        }
    }
}

fn find<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    // The last range starting at or before x is the only candidate (ranges are disjoint).
    let i = ranges.partition_point(|&(start, _)| start <= x);
    i > 0 && ranges[i - 1].1 >= x
}

// === impl IpRangesBuilder ===

impl IpRangesBuilder {
    /// Adds `10.0.0.1`, `10.0.0.0/8` or `10.0.0.1-10.0.0.9`; the error says what is wrong.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let entry = entry.trim();
        if let Some((a, b)) = entry.split_once('-') {
            let parse = |s: &str| {
                s.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| format!("invalid IP address '{}'", s.trim()))
            };
            match (parse(a)?, parse(b)?) {
                (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => self.v4.push((a.into(), b.into())),
                (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => self.v6.push((a.into(), b.into())),
                (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                    return Err(format!("range '{entry}' ends before it starts"));
                }
                _ => return Err(format!("range '{entry}' mixes IPv4 and IPv6")),
            }
            return Ok(());
        }
        if entry.contains('/') {
            let net: IpNet = entry
                .parse()
                .map_err(|_| format!("invalid CIDR block '{entry}'"))?;
            match net {
                IpNet::V4(n) => self.v4.push((n.network().into(), n.broadcast().into())),
                IpNet::V6(n) => self.v6.push((n.network().into(), n.broadcast().into())),
            }
            return Ok(());
        }
        match entry.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => self.v4.push((a.into(), a.into())),
            Ok(IpAddr::V6(a)) => self.v6.push((a.into(), a.into())),
            Err(_) => return Err(format!("invalid IP address '{entry}'")),
        }
        Ok(())
    }

    pub fn build(self) -> IpRanges {
        IpRanges {
            v4: merge(self.v4),
            v6: merge(self.v6),
        }
    }
}

/// Sorts and merges overlapping or adjacent ranges.
fn merge<T: Ord + Copy + num_like::Succ>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1.succ() => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

mod num_like {
    /// The next value, saturating at the maximum.
    pub trait Succ {
        fn succ(self) -> Self;
    }
    impl Succ for u32 {
        fn succ(self) -> Self {
            self.saturating_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Self {
            self.saturating_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(entries: &[&str]) -> IpRanges {
        let mut b = IpRangesBuilder::default();
        for e in entries {
            b.add(e).expect("valid entry");
        }
        b.build()
    }

    #[test]
    fn singles_cidrs_and_ranges_match() {
        let r = ranges(&[
            "10.0.0.0/8",
            "192.168.1.250",
            "192.168.1.253-192.168.1.254",
            "2001:db8::/32",
        ]);
        for ip in ["10.1.2.3", "192.168.1.250", "192.168.1.254", "2001:db8::1"] {
            assert!(r.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["11.0.0.0", "192.168.1.251", "192.168.1.255", "2001:db9::1"] {
            assert!(!r.contains(ip.parse().unwrap()), "{ip}");
        }
        // IPv4-mapped IPv6 peers (dual-stack sockets) match the IPv4 ranges.
        assert!(r.contains("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn overlapping_ranges_merge() {
        let r = ranges(&[
            "1.0.0.0-1.0.0.10",
            "1.0.0.5-1.0.0.20",
            "1.0.0.21",
            "0.0.0.0",
        ]);
        assert_eq!(r.v4.len(), 2);
        assert!(r.contains("1.0.0.15".parse().unwrap()));
        assert!(r.contains("1.0.0.21".parse().unwrap()));
        assert!(!r.contains("1.0.0.22".parse().unwrap()));
    }

    #[test]
    fn bad_entries_say_why() {
        let mut b = IpRangesBuilder::default();
        assert!(b.add("1.2.3").unwrap_err().contains("invalid IP"));
        assert!(
            b.add("1.0.0.9-1.0.0.1")
                .unwrap_err()
                .contains("ends before")
        );
        assert!(b.add("1.0.0.1-::1").unwrap_err().contains("mixes"));
        assert!(b.add("1.0.0.0/33").unwrap_err().contains("CIDR"));
    }
}
