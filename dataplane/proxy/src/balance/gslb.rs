//! Sub-cluster choice (BFE's GSLB): `murmur3(key) % total_weight` walked over the weights in
//! name order, the blackhole share last.

use std::net::IpAddr;

use bfe_config::cluster::{ClientIdSource, Cluster, HashKey, SubCluster};
use http::request::Parts;

pub enum GslbChoice {
    /// Index into `cluster.sub_clusters`.
    Sub(usize),
    Blackhole,
}

/// The request's balancing hash: the GSLB key when the cluster has a choice the key decides
/// (several sub-clusters, a blackhole share, or sticky balancing), otherwise 0 without reading
/// the request. A missing key source spreads the request at random, as BFE does.
pub fn request_hash(cluster: &Cluster, req: &Parts, client_ip: IpAddr) -> u64 {
    let used = cluster.sub_clusters.len() > 1
        || cluster.blackhole_weight > 0
        || cluster.balance == bfe_config::cluster::Balance::Sticky;
    if !used {
        return 0;
    }
    hash_key(&cluster.hash, req, client_ip).unwrap_or_else(rand::random)
}

/// The value GSLB hashes for this request, per the cluster's hash strategy; `None` when the
/// strategy's source is missing.
fn hash_key(key: &HashKey, req: &Parts, client_ip: IpAddr) -> Option<u64> {
    let id = |src: &ClientIdSource| -> Option<u64> {
        match src {
            ClientIdSource::Header(h) => req.headers.get(h).map(|v| murmur(v.as_bytes())),
            ClientIdSource::Cookie(name) => req
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
                .find_map(|pair| {
                    let pair = pair.trim_ascii();
                    let (k, v) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
                    (k == name.as_bytes()).then(|| murmur(&v[1..]))
                }),
        }
    };
    let ip = || {
        murmur(crate::http::headers::ip_text(
            client_ip,
            &mut [0; crate::http::headers::IP_TEXT_MAX],
        ))
    };
    match key {
        HashKey::ClientIp => Some(ip()),
        HashKey::ClientId(src) => id(src),
        HashKey::ClientIdPreferred(src) => id(src).or_else(|| Some(ip())),
        HashKey::RequestUri => Some(murmur(
            req.uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .as_bytes(),
        )),
    }
}

/// BFE's murmur3 (spaolacci `Sum64`), the same one the condition language buckets with.
pub fn murmur(bytes: &[u8]) -> u64 {
    bfe_config::cond::murmur3_sum64(bytes)
}

/// Walks the weights of the sub-clusters that can take traffic (`available`), then the
/// blackhole share. A sub-cluster with no healthy backend drops out of the walk, so its share
/// spreads over the others instead of failing.
pub fn choose(
    cluster: &Cluster,
    hash: u64,
    available: impl Fn(usize) -> bool,
) -> Option<GslbChoice> {
    let weight = |i: usize, s: &SubCluster| if available(i) { u64::from(s.weight) } else { 0 };
    let live: u64 = cluster
        .sub_clusters
        .iter()
        .enumerate()
        .map(|(i, s)| weight(i, s))
        .sum();
    let total = live + u64::from(cluster.blackhole_weight);
    if live == 0 {
        // Nothing can serve; the blackhole (if any) still answers with its own status.
        return (cluster.blackhole_weight > 0).then_some(GslbChoice::Blackhole);
    }
    let mut point = hash % total;
    for (i, s) in cluster.sub_clusters.iter().enumerate() {
        let w = weight(i, s);
        if point < w {
            return Some(GslbChoice::Sub(i));
        }
        point -= w;
    }
    Some(GslbChoice::Blackhole)
}
