//! A tenant's cluster rules: the basic host × path tree (most specific wins), then the ordered
//! advanced rules (first match wins). Lookups are hash probes per host label / path segment, so
//! their cost does not grow with the number of rules.
//!
//! Advanced rules are indexed by host: a rule whose condition can only be true for listed hosts
//! (`req_host_in`, see [`Condition::required_hosts`]) is filed under each of them, the others
//! in an "any host" list. `find` walks the request host's list and the "any host" list merged
//! in rule order, so it evaluates exactly the rules a linear scan would evaluate, minus rules
//! that cannot match this host: same answer, cost independent of other hosts' rules.

use crate::FastMap;
use crate::cond::{self, Condition, Facts};
use crate::host::{HostBuf, MAX_HOST_LEN};
use crate::snapshot::ClusterId;

/// What a basic rule points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicTarget {
    Cluster(ClusterId),
    /// `ADVANCED_MODE`: stop the basic lookup and consult the advanced rules.
    Advanced,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    pub(crate) basic: BasicRules,
    /// Every advanced rule, in order; only [`RouteTable::push_advanced`] adds, keeping the
    /// index below in step.
    advanced: Vec<AdvancedRule>,
    /// Rule indices (ascending) by host key, for rules whose condition can only be true for
    /// listed hosts ([`Condition::required_hosts`]); a rule appears under each of its hosts.
    by_host: FastMap<Box<str>, Vec<u32>>,
    /// Rule indices (ascending) of the rules that may match any host.
    unindexed: Vec<u32>,
}

/// More advanced rules than the index can number (`u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {} advanced rules", u32::MAX)]
pub struct TooManyRules;

#[derive(Debug)]
pub struct AdvancedRule {
    pub name: Option<String>,
    pub condition: Condition,
    pub cluster: ClusterId,
}

#[derive(Debug, Default)]
pub(crate) struct BasicRules {
    exact: FastMap<Box<str>, PathTree>,
    /// `*.example.com` stored under `example.com`; matches exactly one extra label (BFE).
    wildcard: FastMap<Box<str>, PathTree>,
    any: Option<PathTree>,
}

#[derive(Debug, Default)]
struct PathTree {
    exact: FastMap<Box<str>, BasicTarget>,
    /// `/a/b*` stored under `/a/b`; `/*` and `*` stored under ``.
    prefix: FastMap<Box<str>, BasicTarget>,
}

// === impl RouteTable ===

impl RouteTable {
    /// The cluster for a request: basic rules first, then advanced. `host` must be the
    /// request's [`crate::host::normalize_host`] form (as the host table reads it); it keys the
    /// basic rules only. The advanced index is keyed by `facts.host()` in that same normal
    /// form, computed here, so it cannot disagree with `req_host_in` whatever `host` the
    /// caller derived.
    pub fn find<F: Facts + ?Sized>(&self, host: &str, path: &str, facts: &F) -> Option<ClusterId> {
        match self.basic.find(host, path) {
            Some(BasicTarget::Cluster(c)) => return Some(c),
            Some(BasicTarget::Advanced) | None => {}
        }
        self.find_advanced(facts)
    }

    pub fn advanced(&self) -> &[AdvancedRule] {
        &self.advanced
    }

    /// Appends an advanced rule (rules are pushed in priority order) and files it in the index.
    pub(crate) fn push_advanced(&mut self, rule: AdvancedRule) -> Result<(), TooManyRules> {
        let i = u32::try_from(self.advanced.len()).map_err(|_| TooManyRules)?;
        match rule.condition.required_hosts() {
            // `req_host_in` refuses names longer than `MAX_HOST_LEN` at compile time; were one
            // to get here, it could never be looked up, so leave such a rule unindexed.
            Some(hosts) if hosts.iter().all(|h| h.len() <= MAX_HOST_LEN) => {
                for h in hosts {
                    self.by_host.entry(h.clone()).or_default().push(i);
                }
            }
            Some(_) | None => self.unindexed.push(i),
        }
        self.advanced.push(rule);
        Ok(())
    }

    /// First match among the candidates for the request's host, in rule order: the merge of
    /// two ascending index lists (disjoint: a rule is either indexed or not). No allocation.
    fn find_advanced<F: Facts + ?Sized>(&self, facts: &F) -> Option<ClusterId> {
        if self.advanced.is_empty() {
            return None;
        }
        let mut buf: HostBuf = [0; MAX_HOST_LEN];
        // No key: the host is longer than every indexed key, so only unindexed rules remain.
        let indexed = cond::host_key(facts.host(), &mut buf)
            .and_then(|key| self.by_host.get(key))
            .map_or(&[][..], Vec::as_slice);
        let unindexed = self.unindexed.as_slice();
        let (mut a, mut b) = (0, 0);
        loop {
            let next = match (indexed.get(a), unindexed.get(b)) {
                (Some(&x), Some(&y)) if x < y => {
                    a += 1;
                    x
                }
                (_, Some(&y)) => {
                    b += 1;
                    y
                }
                (Some(&x), None) => {
                    a += 1;
                    x
                }
                (None, None) => return None,
            };
            // Indices come from `push_advanced`, so the rule exists.
            let rule = self.advanced.get(next as usize)?;
            if rule.condition.eval(facts) {
                return Some(rule.cluster);
            }
        }
    }
}

// === impl BasicRules ===

impl BasicRules {
    /// Inserts one host pattern × path pattern; false if that pair already exists.
    pub(crate) fn insert(&mut self, host: &str, path: &str, target: BasicTarget) -> bool {
        let tree = if host == "*" {
            self.any.get_or_insert_with(PathTree::default)
        } else if let Some(suffix) = host.strip_prefix("*.") {
            self.wildcard.entry(suffix.into()).or_default()
        } else {
            self.exact.entry(host.into()).or_default()
        };
        tree.insert(path, target)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty() && self.any.is_none()
    }

    fn find(&self, host: &str, path: &str) -> Option<BasicTarget> {
        if self.is_empty() {
            return None;
        }
        if let Some(t) = self.exact.get(host).and_then(|t| t.find(path)) {
            return Some(t);
        }
        if let Some((_, suffix)) = host.split_once('.')
            && let Some(t) = self.wildcard.get(suffix).and_then(|t| t.find(path))
        {
            return Some(t);
        }
        self.any.as_ref().and_then(|t| t.find(path))
    }
}

// === impl PathTree ===

impl PathTree {
    fn insert(&mut self, pattern: &str, target: BasicTarget) -> bool {
        let (map, key) = match pattern.strip_suffix('*') {
            Some(prefix) => (&mut self.prefix, trim_slash(prefix)),
            None => (&mut self.exact, trim_slash(pattern)),
        };
        if map.contains_key(key) {
            return false;
        }
        map.insert(key.into(), target);
        true
    }

    /// Exact path first, then the longest prefix on a segment boundary.
    fn find(&self, path: &str) -> Option<BasicTarget> {
        let path = trim_slash(path);
        if let Some(t) = self.exact.get(path) {
            return Some(*t);
        }
        if self.prefix.is_empty() {
            return None;
        }
        let mut candidate = path;
        loop {
            if let Some(t) = self.prefix.get(candidate) {
                return Some(*t);
            }
            match candidate.rfind('/') {
                Some(i) => candidate = &candidate[..i],
                None => return None,
            }
        }
    }
}

/// Trailing slashes do not change a path's meaning here (BFE); the root becomes ``.
fn trim_slash(path: &str) -> &str {
    path.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(i: u32) -> BasicTarget {
        BasicTarget::Cluster(ClusterId(i))
    }

    #[test]
    fn most_specific_host_then_longest_path_wins() {
        let mut b = BasicRules::default();
        assert!(b.insert("www.a.com", "/static/*", c(1)));
        assert!(b.insert("www.a.com", "/static/img/*", c(2)));
        assert!(b.insert("www.a.com", "/exact", c(3)));
        assert!(b.insert("*.a.com", "/*", c(4)));
        assert!(b.insert("*", "*", c(5)));
        assert!(b.insert("www.a.com", "/adv/*", BasicTarget::Advanced));
        assert!(
            !b.insert("www.a.com", "/static/*", c(9)),
            "duplicate refused"
        );
        assert_eq!(b.find("www.a.com", "/static"), Some(c(1)));
        assert_eq!(b.find("www.a.com", "/static/x.css"), Some(c(1)));
        assert_eq!(b.find("www.a.com", "/static/img/a.png"), Some(c(2)));
        assert_eq!(
            b.find("www.a.com", "/staticx"),
            Some(c(4)),
            "prefix is per segment"
        );
        assert_eq!(b.find("www.a.com", "/exact/"), Some(c(3)));
        assert_eq!(b.find("www.a.com", "/exact/more"), Some(c(4)));
        assert_eq!(b.find("x.a.com", "/anything"), Some(c(4)));
        assert_eq!(
            b.find("y.x.a.com", "/anything"),
            Some(c(5)),
            "route wildcard is one label"
        );
        assert_eq!(b.find("other.org", "/"), Some(c(5)));
        assert_eq!(b.find("www.a.com", "/adv/1"), Some(BasicTarget::Advanced));
    }

    // === advanced index ===

    /// The facts the generated conditions read: Host as received, path, method.
    struct Req {
        host: String,
        path: String,
        method: &'static str,
    }

    impl Facts for Req {
        fn host(&self) -> &str {
            &self.host
        }

        fn path(&self) -> &str {
            &self.path
        }

        fn method(&self) -> &str {
            self.method
        }
    }

    /// SplitMix64: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }

        /// `s` with each ASCII letter upper-cased with probability 1/2.
        fn mangle_case(&mut self, s: &str) -> String {
            s.chars()
                .map(|c| {
                    if self.below(2) == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        }
    }

    /// Hosts rules list: plain names, a trailing dot (the same name as without it), an IPv6
    /// literal, an IPv4 address, a punycode name. (Empty and non-ASCII items do not compile.)
    const RULE_HOSTS: [&str; 11] = [
        "a.test",
        "b.test",
        "c.test",
        "www.a.test",
        "d.test",
        "e.test.",
        "e.test",
        "[::1]",
        "1.2.3.4",
        "xn--9ca.test",
        "f.test",
    ];

    fn host_list(rng: &mut Rng) -> String {
        let n = 1 + rng.below(3);
        let hosts: Vec<String> = (0..n)
            .map(|_| {
                let h = rng.pick(&RULE_HOSTS);
                rng.mangle_case(h)
            })
            .collect();
        hosts.join("|")
    }

    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

    /// A primitive that does not constrain the host through the index.
    fn atom(rng: &mut Rng) -> String {
        match rng.below(20) {
            0..=11 => format!("req_path_prefix_in(\"/p{}/\", false)", rng.below(40)),
            12 | 13 => format!("req_method_in(\"{}\")", rng.pick(&METHODS)),
            14 => "default_t()".to_owned(),
            15 => "req_host_suffix_in(\"d.test\")".to_owned(),
            _ => format!("req_host_in(\"{}\")", host_list(rng)),
        }
    }

    fn expr(rng: &mut Rng, depth: usize) -> String {
        if depth == 0 {
            return atom(rng);
        }
        match rng.below(5) {
            0 => atom(rng),
            1 => format!("({} && {})", expr(rng, depth - 1), expr(rng, depth - 1)),
            2 => format!("({} || {})", expr(rng, depth - 1), expr(rng, depth - 1)),
            3 => format!("!{}", expr(rng, depth - 1)),
            _ => format!(
                "req_host_in(\"{}\") && {}",
                host_list(rng),
                expr(rng, depth - 1)
            ),
        }
    }

    /// Mostly the common shape (a host and something else), with every other shape mixed in.
    fn rule_condition(rng: &mut Rng) -> String {
        match rng.below(10) {
            0..=3 => format!("req_host_in(\"{}\") && {}", host_list(rng), atom(rng)),
            4 => format!(
                "(req_host_in(\"{}\") || req_host_in(\"{}\")) && {}",
                host_list(rng),
                host_list(rng),
                atom(rng)
            ),
            5 => format!("!req_host_in(\"{}\") && {}", host_list(rng), atom(rng)),
            6 => atom(rng),
            7 => expr(rng, 3),
            _ => format!("req_host_in(\"{}\") && {}", host_list(rng), expr(rng, 2)),
        }
    }

    /// A Host value as a client might send it: any case, sometimes a port, a trailing dot, a
    /// host no rule names, no host at all, odd ports, a name longer than any index key.
    fn request_host(rng: &mut Rng) -> String {
        let base = match rng.below(8) {
            0 => "nobody.test".to_owned(),
            1 => rng
                .pick(&[
                    "",
                    ".",
                    "a.test:x",
                    "a.test:1:2",
                    "::1",
                    "[::1]:x",
                    "k.test",
                    "\u{212a}.test",
                    "\u{c9}.TEST",
                    "e.test..",
                ])
                .to_owned(),
            2 => format!("{}.test", "x".repeat(300)),
            _ => rng.pick(&RULE_HOSTS).to_owned(),
        };
        let mut host = rng.mangle_case(&base);
        if rng.below(4) == 0 && !host.ends_with('.') {
            host.push('.');
        }
        if rng.below(3) == 0 {
            host.push_str(":8080");
        }
        host
    }

    /// What the proxy passes as `host` (`bfe_dataplane::routing::find_cluster`).
    fn caller_host(raw: &str) -> String {
        let mut buf: HostBuf = [0; MAX_HOST_LEN];
        crate::host::normalize_host(raw, &mut buf)
            .unwrap_or("")
            .to_owned()
    }

    fn table(conditions: &[String]) -> RouteTable {
        let mut t = RouteTable::default();
        for (i, src) in conditions.iter().enumerate() {
            let condition =
                Condition::compile(src).unwrap_or_else(|e| panic!("{src:?} should compile: {e}"));
            t.push_advanced(AdvancedRule {
                name: None,
                condition,
                cluster: ClusterId(i as u32),
            })
            .unwrap();
        }
        t
    }

    #[test]
    fn indexed_find_equals_linear_scan() {
        let mut rng = Rng(0x5eed);
        let (mut hits, mut indexed_hits, mut unindexed_hits, mut misses) = (0, 0, 0, 0);
        for set in 0..20 {
            // Small sets leave requests unmatched; large ones put the match deep in the list.
            let rules = [12, 40, 150, 400][set % 4];
            let conditions: Vec<String> = (0..rules).map(|_| rule_condition(&mut rng)).collect();
            let t = table(&conditions);
            assert!(!t.by_host.is_empty() && !t.unindexed.is_empty());
            for _ in 0..500 {
                let req = Req {
                    host: request_host(&mut rng),
                    path: format!("/p{}/x", rng.below(50)),
                    method: rng.pick(&METHODS),
                };
                let linear = t
                    .advanced()
                    .iter()
                    .find(|r| r.condition.eval(&req))
                    .map(|r| r.cluster);
                let got = t.find(&caller_host(&req.host), &req.path, &req);
                assert_eq!(
                    got,
                    linear,
                    "set {set}, host {:?}, path {}, method {}; linear picked {:?}",
                    req.host,
                    req.path,
                    req.method,
                    linear.map(|c| &conditions[c.0 as usize]),
                );
                match linear {
                    Some(c) if t.unindexed.contains(&c.0) => unindexed_hits += 1,
                    Some(_) => indexed_hits += 1,
                    None => misses += 1,
                }
                hits += usize::from(linear.is_some());
            }
        }
        eprintln!("indexed {indexed_hits}, unindexed {unindexed_hits}, misses {misses}");
        // The generator must exercise both lists and both outcomes, or the test proves little.
        assert!(indexed_hits > 1000, "indexed hits {indexed_hits}");
        assert!(unindexed_hits > 1000, "unindexed hits {unindexed_hits}");
        assert!(misses > 100, "misses {misses}, hits {hits}");
    }

    /// Many rules on a few hosts, host-less rules between them: each request must still get
    /// the first matching rule in order, whichever list it sits in.
    #[test]
    fn interleaved_rules_keep_their_order() {
        let conditions: Vec<String> = [
            r#"req_host_in("a.test") && req_path_prefix_in("/x", false)"#,
            r#"req_path_prefix_in("/y", false)"#,
            r#"req_host_in("A.test|b.test") && req_path_prefix_in("/y", false)"#,
            r#"req_host_in("a.test") || req_host_in("c.test")"#,
            r#"!req_host_in("a.test")"#,
            r#"req_host_in("b.test")"#,
        ]
        .map(str::to_owned)
        .to_vec();
        let t = table(&conditions);
        assert_eq!(t.unindexed, [1, 4]);
        assert_eq!(t.by_host["a.test"], [0, 2, 3]);
        assert_eq!(t.by_host["b.test"], [2, 5]);
        assert_eq!(t.by_host["c.test"], [3]);
        let find = |host: &str, path: &str| {
            let req = Req {
                host: host.to_owned(),
                path: path.to_owned(),
                method: "GET",
            };
            t.find(&caller_host(host), path, &req).map(|c| c.0)
        };
        assert_eq!(find("A.TEST:80", "/x"), Some(0));
        assert_eq!(find("a.test", "/y"), Some(1));
        assert_eq!(
            find("b.test", "/z"),
            Some(4),
            "unindexed rule 4 before rule 5"
        );
        assert_eq!(find("c.test", "/z"), Some(3));
        assert_eq!(find("a.test", "/z"), Some(3));
        assert_eq!(find("other.test", "/z"), Some(4));
        let long = format!("{}.test", "x".repeat(300));
        assert_eq!(
            find(&long, "/z"),
            Some(4),
            "an over-long host skips the index"
        );
    }

    #[test]
    fn no_advanced_rules_finds_nothing() {
        let t = RouteTable::default();
        let req = Req {
            host: "a.test".to_owned(),
            path: "/".to_owned(),
            method: "GET",
        };
        assert_eq!(t.find("a.test", "/", &req), None);
    }
}
