//! Compiled clusters: sub-clusters with GSLB weights, backends, and per-cluster policy.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

pub use crate::raw::{BackendProtocol, Balance, HealthKind, HealthMode, RetryLevel};

#[derive(Debug)]
pub struct Cluster {
    pub name: Arc<str>,
    /// Sub-clusters that carry traffic, sorted by name (deterministic GSLB walk, as BFE).
    pub sub_clusters: Vec<SubCluster>,
    /// GSLB weight of `GSLB_BLACKHOLE` (0 when absent).
    pub blackhole_weight: u32,
    pub balance: Balance,
    pub hash: HashKey,
    pub protocol: BackendProtocol,
    /// TLS settings for `https` / `h2` backends.
    pub tls: Option<Arc<BackendTls>>,
    pub health: HealthCheck,
    pub retry: Retry,
    pub timeouts: Timeouts,
    pub pool: Pool,
    pub slow_start: Duration,
    pub max_request_body_bytes: Option<u64>,
}

/// TLS towards a cluster's backends, parsed once.
pub struct BackendTls {
    /// Identifies these settings (SHA-256 of their raw form): connections and client
    /// configurations are shared only between equal settings.
    pub id: Arc<str>,
    pub sni: Option<Arc<str>>,
    /// DER roots; empty: the public web roots.
    pub roots: Vec<rustls_pki_types::CertificateDer<'static>>,
    pub insecure_skip_verify: bool,
    /// The cluster speaks HTTP/2 (`h2`): ALPN offers only `h2`.
    pub h2: bool,
    pub client_cert: Option<(
        Vec<rustls_pki_types::CertificateDer<'static>>,
        rustls_pki_types::PrivateKeyDer<'static>,
    )>,
}

impl std::fmt::Debug for BackendTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendTls")
            .field("id", &self.id)
            .field("sni", &self.sni)
            .field("roots", &self.roots.len())
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("client_cert", &self.client_cert.is_some())
            .finish()
    }
}

#[derive(Debug)]
pub struct SubCluster {
    pub name: Arc<str>,
    pub weight: u32,
    pub backends: Vec<Backend>,
}

#[derive(Debug, Clone)]
pub struct Backend {
    /// Stable identity across snapshots (runtime state such as health is keyed by it).
    pub id: BackendId,
    /// `host:port` to dial.
    pub addr: Arc<str>,
    pub weight: u32,
    pub name: Option<Arc<str>>,
}

/// A backend's identity: its address. Health and connection counts follow an address across
/// config swaps, whichever cluster lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendId(pub Arc<str>);

/// What the GSLB and sticky balancing hash.
#[derive(Debug, Clone)]
pub enum HashKey {
    ClientIp,
    /// A client id from a header or cookie; requests without one are spread at random.
    ClientId(ClientIdSource),
    /// The client id when present, the client IP otherwise.
    ClientIdPreferred(ClientIdSource),
    RequestUri,
}

#[derive(Debug, Clone)]
pub enum ClientIdSource {
    Header(HeaderName),
    Cookie(Arc<str>),
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub mode: HealthMode,
    pub kind: HealthKind,
    pub path: Arc<str>,
    pub host: Option<Arc<str>>,
    pub expect_status: StatusSet,
    pub interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub outlier_status: Option<StatusSet>,
    /// The cluster's backend TLS (protocols `https` and `h2`): probes speak TLS too.
    pub tls: Option<Arc<BackendTls>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub max: u32,
    pub cross: u32,
    pub level: RetryLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    pub connect: Duration,
    pub response_header: Duration,
    pub read_client_body: Duration,
    pub write_client: Duration,
    pub keepalive_idle: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool {
    pub max_idle_per_backend: usize,
    pub idle_timeout: Duration,
}

/// A set of HTTP status codes written BFE style: `"5xx|403"`, `"200|204"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusSet([u64; 10]);

// === impl Cluster ===

impl Cluster {
    /// Sum of all GSLB weights, blackhole included.
    pub fn total_weight(&self) -> u32 {
        self.sub_clusters.iter().map(|s| s.weight).sum::<u32>() + self.blackhole_weight
    }
}

// === impl StatusSet ===

impl StatusSet {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut bits = [0u64; 10];
        let mut set = |code: u16| bits[(code / 64) as usize] |= 1 << (code % 64);
        for item in text.split('|').map(str::trim) {
            let lower = item.to_ascii_lowercase();
            if let Some(class) = lower.strip_suffix("xx") {
                match class.parse::<u16>() {
                    Ok(c @ 1..=5) => (c * 100..c * 100 + 100).for_each(&mut set),
                    _ => return Err(format!("'{item}' is not a status class (1xx..5xx)")),
                }
            } else {
                match item.parse::<u16>() {
                    Ok(c @ 100..=599) => set(c),
                    _ => return Err(format!("'{item}' is not a status code (100..599)")),
                }
            }
        }
        Ok(Self(bits))
    }

    pub fn contains(&self, code: u16) -> bool {
        code < 640 && self.0[(code / 64) as usize] & (1 << (code % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets_parse_classes_and_codes() {
        let s = StatusSet::parse("5xx|403").unwrap();
        assert!(s.contains(500) && s.contains(599) && s.contains(403));
        assert!(!s.contains(404) && !s.contains(200) && !s.contains(700));
        assert!(StatusSet::parse("6xx").is_err());
        assert!(StatusSet::parse("99").is_err());
        assert!(StatusSet::parse("2xx|").is_err());
    }
}
