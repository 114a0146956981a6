//! Tenant routing and cluster routing: thin glue between a request and the snapshot's tables.

use bfe_config::host_table::{HostMatch, strip_port};
use bfe_config::{ClusterId, Snapshot};

use crate::facts::ReqFacts;

/// Longest host we route on; longer matches nothing (DNS names are ≤ 253 bytes).
const MAX_HOST: usize = 255;

pub fn find_tenant(snapshot: &Snapshot, facts: &ReqFacts<'_>) -> Option<HostMatch> {
    use bfe_config::cond::Facts as _;
    let host = facts.host();
    snapshot
        .hosts
        .lookup((!host.is_empty()).then_some(host), facts.ctx.session.vip)
}

/// The cluster for the request in its tenant's route table.
pub fn find_cluster(snapshot: &Snapshot, m: HostMatch, facts: &ReqFacts<'_>) -> Option<ClusterId> {
    use bfe_config::cond::Facts as _;
    let host = strip_port(facts.host());
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut buf = [0u8; MAX_HOST];
    let lower = match buf.get_mut(..host.len()) {
        Some(dst) => {
            dst.copy_from_slice(host.as_bytes());
            dst.make_ascii_lowercase();
            std::str::from_utf8(dst).unwrap_or("")
        }
        None => "",
    };
    snapshot
        .tenant(m.tenant)
        .routes
        .find(lower, facts.req.uri.path(), facts)
}
