//! A tenant's cluster rules: the basic host × path tree (most specific wins), then the ordered
//! advanced rules (first match wins). Lookups are hash probes per host label / path segment, so
//! their cost does not grow with the number of rules.

use std::collections::HashMap;

use crate::cond::{Condition, Facts};
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
    pub(crate) advanced: Vec<AdvancedRule>,
}

#[derive(Debug)]
pub struct AdvancedRule {
    pub name: Option<String>,
    pub condition: Condition,
    pub cluster: ClusterId,
}

#[derive(Debug, Default)]
pub(crate) struct BasicRules {
    exact: HashMap<Box<str>, PathTree>,
    /// `*.example.com` stored under `example.com`; matches exactly one extra label (BFE).
    wildcard: HashMap<Box<str>, PathTree>,
    any: Option<PathTree>,
}

#[derive(Debug, Default)]
struct PathTree {
    exact: HashMap<Box<str>, BasicTarget>,
    /// `/a/b*` stored under `/a/b`; `/*` and `*` stored under ``.
    prefix: HashMap<Box<str>, BasicTarget>,
}

// === impl RouteTable ===

impl RouteTable {
    /// The cluster for a request: basic rules first, then advanced. `host` must be lower-case
    /// without port (as the host table leaves it).
    pub fn find<F: Facts + ?Sized>(&self, host: &str, path: &str, facts: &F) -> Option<ClusterId> {
        match self.basic.find(host, path) {
            Some(BasicTarget::Cluster(c)) => return Some(c),
            Some(BasicTarget::Advanced) | None => {}
        }
        self.advanced
            .iter()
            .find(|r| r.condition.eval(facts))
            .map(|r| r.cluster)
    }

    pub fn advanced(&self) -> &[AdvancedRule] {
        &self.advanced
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
}
