//! Tenant routing and cluster routing: thin glue between a request and the snapshot's tables.

use bfe_config::host::{HostBuf, MAX_HOST_LEN, normalize_host};
use bfe_config::host_table::HostMatch;
use bfe_config::{ClusterId, Snapshot};

use crate::facts::ReqFacts;

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
    // The host table's normal form (no port, no trailing dot, lower case); a host too long
    // to be one matches no host-specific rule.
    let mut buf: HostBuf = [0; MAX_HOST_LEN];
    let lower = normalize_host(facts.host(), &mut buf).unwrap_or("");
    snapshot
        .tenant(m.tenant)
        .routes
        .find(lower, facts.req.uri.path(), facts)
}

/// A backend of `cluster` for a stream-mode connection from `client` (no HTTP request: the
/// GSLB and balancing key is the client address), with its in-flight guard.
pub fn pick_stream_backend(
    active: &crate::live::Active,
    cluster: ClusterId,
    client: std::net::IpAddr,
) -> Option<(std::sync::Arc<str>, crate::health::ActiveGuard)> {
    use crate::balance::{GslbChoice, choose};
    let c = active.snapshot.clusters.get(cluster.0 as usize)?;
    let cidx = cluster.0 as usize;
    // A fixed-key hash: the same client lands on the same sub-cluster while weights hold.
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        client.hash(&mut h);
        h.finish()
    };
    let none: &[std::sync::Arc<str>] = &[];
    let sub = match choose(c, hash, |i| active.view.has_candidates(cidx, c, i, none))? {
        GslbChoice::Blackhole => return None,
        GslbChoice::Sub(s) => s,
    };
    let pick = active.view.pick(cidx, c, sub, hash, none)?;
    Some((pick.backend.addr.clone(), pick.state.start()))
}
