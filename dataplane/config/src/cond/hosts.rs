//! Static analysis for the advanced-route index: the hosts a condition can possibly match.
//!
//! [`required_hosts`] is conservative: it may answer `None` ("could match any host") where a
//! cleverer analysis would find a set, but a set it returns is exact enough to skip every rule
//! whose set lacks the request's [`host_key`]. That soundness argument lives in the comments
//! below; `route_table` relies on it for results identical to a linear scan.

use super::eval::{Node, Prim};
use crate::host::{HostBuf, normalize_host};

/// A sorted, deduplicated set H of host keys such that `node` evaluating true implies that
/// the request's [`host_key`] is in H; `None` when the condition does not constrain the host.
pub(super) fn required_hosts(node: &Node) -> Option<Vec<Box<str>>> {
    match node {
        // The one primitive we index: `req_host_in` is true iff the request's normal form
        // (`normalize_host`, which is `host_key`) is one of its names, compiled into that same
        // normal form, sorted and deduplicated. So its names are exactly its set.
        Node::Prim(Prim::HostIn(names)) => Some(names.to_vec()),
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

/// The request's host as [`required_hosts`] sets spell it: its [`normalize_host`] form, the
/// one `req_host_in` compares and the host table looks up. `None` when the name is longer than
/// [`crate::host::MAX_HOST_LEN`]: `req_host_in` cannot be true then, nor is any key that long.
pub(crate) fn host_key<'a>(host: &'a str, buf: &'a mut HostBuf) -> Option<&'a str> {
    normalize_host(host, buf)
}
