//! Static analysis for the advanced-route index: the hosts a condition can possibly match.
//!
//! [`required_hosts`] is conservative: it may answer `None` ("could match any host") where a
//! cleverer analysis would find a set, but a set it returns is exact enough to skip every rule
//! whose set lacks the request's [`host_key`]. That soundness argument lives in the comments
//! below; `route_table` relies on it for results identical to a linear scan.

use super::eval::{Node, Prim, TextSource, TextTest};
use super::text::host_without_port;

/// A sorted, deduplicated set H of host keys such that `node` evaluating true implies that
/// the request's [`host_key`] is in H; `None` when the condition does not constrain the host.
pub(super) fn required_hosts(node: &Node) -> Option<Vec<Box<str>>> {
    match node {
        // The one primitive we index: `req_host_in`, an exact, case-insensitive list. Only an
        // all-ASCII list qualifies: then `StrList::matches` compares with ASCII case folding
        // alone, i.e. true iff the ASCII-lower-cased value equals an item. A list with a
        // non-ASCII item folds non-ASCII values with Unicode rules, which `host_key` does not.
        Node::Prim(Prim::Text(TextSource::Host, TextTest::List(list))) => {
            let items = list.ascii_folded_exact_items()?;
            let mut hosts = items
                .iter()
                .map(|i| std::str::from_utf8(i).ok().map(Box::<str>::from))
                .collect::<Option<Vec<_>>>()?;
            hosts.sort_unstable();
            hosts.dedup();
            Some(hosts)
        }
        // True needs every term true, so the host is in every constrained term's set: their
        // intersection (possibly empty: the rule can never match). Unconstrained terms add
        // nothing; with none constrained, neither is the conjunction.
        Node::And(terms) => terms
            .iter()
            .filter_map(required_hosts)
            .reduce(|mut acc, set| {
                acc.retain(|h| set.binary_search(h).is_ok());
                acc
            }),
        // True needs some term true: the union, but only if every term is constrained.
        Node::Or(terms) => {
            let mut all = Vec::new();
            for t in terms.iter() {
                all.extend(required_hosts(t)?);
            }
            all.sort_unstable();
            all.dedup();
            Some(all)
        }
        // `!req_host_in(..)` is true for every other host; we do not index complements.
        Node::Not(_) | Node::Prim(_) => None,
    }
}

/// The request's host as [`required_hosts`] sets spell it: the Host fact without its port,
/// cut exactly as `req_host_*` cut it, then ASCII lower-cased (in `buf` only when it has an
/// upper-case letter). `None` when it is longer than `buf`: the caller must then know that no
/// indexed key is that long.
pub(crate) fn host_key<'a>(host: &'a str, buf: &'a mut [u8]) -> Option<&'a str> {
    let host = host_without_port(host);
    if host.len() > buf.len() {
        return None;
    }
    if !host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(host);
    }
    let dst = buf.get_mut(..host.len())?;
    dst.copy_from_slice(host.as_bytes());
    dst.make_ascii_lowercase();
    // ASCII lower-casing keeps UTF-8 valid, so this never fails.
    std::str::from_utf8(dst).ok()
}
