use serde::{Deserialize, Serialize};

/// Reserved sub-cluster name: its GSLB share of traffic is refused with 503 (load shedding).
pub const GSLB_BLACKHOLE: &str = "GSLB_BLACKHOLE";

/// A backend cluster: sub-clusters (usually one per site) with GSLB weights, then backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: String,
    /// The tenant that owns the cluster: only its routes may use it, and a tenant-scoped
    /// control-plane token manages only its tenants' clusters. Absent: global (any tenant's
    /// routes; only unscoped tokens manage it). The data plane itself does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub sub_clusters: Vec<RawSubCluster>,
    #[serde(default)]
    pub balance: Balance,
    /// The key hashed for the sub-cluster choice and for `balance: sticky`.
    #[serde(default)]
    pub hash: RawHashConf,
    #[serde(default)]
    pub protocol: BackendProtocol,
    /// TLS towards the backends (protocols `https` and `h2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RawBackendTls>,
    #[serde(default)]
    pub health: RawHealthCheck,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    #[serde(default)]
    pub pool: RawPool,
    /// New and recovered backends ramp up to full weight over this window (0 = off).
    #[serde(default)]
    pub slow_start_ms: u64,
    /// Largest request body accepted for this cluster; larger gets 413 (None = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_body_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubCluster {
    /// Sub-cluster name; `GSLB_BLACKHOLE` (with no backends) sheds its share.
    pub name: String,
    /// GSLB weight of this sub-cluster within the cluster.
    pub weight: u32,
    #[serde(default)]
    pub backends: Vec<RawBackend>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    /// Optional display name; identity is the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ip:port` or `host:port`.
    pub addr: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

/// Backend choice inside a sub-cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Smooth weighted round robin (nginx/BFE `WRR`).
    #[default]
    Wrr,
    /// Weighted least connections with smooth-WRR tie break (BFE `WLC`).
    Wlc,
    /// Consistent hash of the hash key: removing a backend moves only its share.
    Sticky,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHashConf {
    #[serde(default)]
    pub strategy: HashStrategy,
    /// Request header holding the client id (for the client-id strategies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Cookie holding the client id (for the client-id strategies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
}

/// BFE's `HashStrategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashStrategy {
    ClientId,
    #[default]
    ClientIp,
    ClientIdPreferred,
    RequestUri,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendProtocol {
    #[default]
    Http,
    /// Cleartext HTTP/2 with prior knowledge (gRPC backends).
    H2c,
    /// HTTP/1.1 over TLS.
    Https,
    /// HTTP/2 over TLS, negotiated by ALPN (gRPC over TLS).
    H2,
}

/// How the proxy speaks TLS to a cluster's backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackendTls {
    /// Server name sent and verified (default: the backend address's host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// PEM CA bundle backends' certificates must chain to (default: the public web roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Accept any backend certificate (test setups only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
    /// Name of an entry of `certificates` presented to backends asking for one (mTLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
}

// === impl BackendProtocol ===

impl BackendProtocol {
    /// Spoken as HTTP/1.1 (so Upgrade can be forwarded).
    pub fn is_http1(self) -> bool {
        matches!(self, Self::Http | Self::Https)
    }

    /// Spoken as HTTP/2 (one multiplexed connection per backend).
    pub fn is_h2(self) -> bool {
        matches!(self, Self::H2c | Self::H2)
    }

    /// Over TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Https | Self::H2)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHealthCheck {
    pub mode: HealthMode,
    pub kind: HealthKind,
    /// Probe path for `kind: http`.
    pub path: String,
    /// Host header for `kind: http` probes (default: the backend address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Accepted probe statuses, BFE style: `"2xx|3xx"`, `"200|204"`.
    pub expect_status: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// Consecutive probe successes that bring a backend back.
    pub rise: u32,
    /// Consecutive failures (traffic or probes) that take a backend out.
    pub fall: u32,
    /// Backend response statuses counted as failures (`"5xx|403"`); the response is still sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_status: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthMode {
    /// BFE's behaviour: failures in live traffic take a backend out, probes bring it back.
    #[default]
    Passive,
    /// Probes run all the time, plus the passive marking.
    Active,
    /// Never mark backends down.
    Off,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthKind {
    #[default]
    Http,
    Tcp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRetry {
    /// Retries inside the chosen sub-cluster (BFE `RetryMax`).
    pub max: u32,
    /// Retries in other sub-clusters after those (BFE `CrossRetry`).
    pub cross: u32,
    pub level: RetryLevel,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryLevel {
    /// Only failures to connect are retried (nothing reached the backend).
    #[default]
    Connect,
    /// Also other backend failures, for idempotent requests whose body was not sent.
    Idempotent,
}

/// Per-cluster timeouts in milliseconds (BFE names in the comments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTimeouts {
    /// Dial a backend (`TimeoutConnSrv`).
    pub connect_ms: u64,
    /// Wait for the backend's response header (`TimeoutResponseHeader`).
    pub response_header_ms: u64,
    /// Read the client's request body, per read (`TimeoutReadClient`).
    pub read_client_body_ms: u64,
    /// Write the response to the client, per write (`TimeoutWriteClient`).
    pub write_client_ms: u64,
    /// Keep-alive idle time between client requests (`TimeoutReadClientAgain`).
    pub keepalive_idle_ms: u64,
}

/// Backend connection pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPool {
    /// Idle keep-alive connections kept per backend (0 = a new connection per request).
    pub max_idle_per_backend: u32,
    pub idle_timeout_ms: u64,
}

fn default_weight() -> u32 {
    1
}

// === impl Default ===

impl Default for RawHealthCheck {
    fn default() -> Self {
        Self {
            mode: HealthMode::Passive,
            kind: HealthKind::Http,
            path: "/health_check".to_owned(),
            host: None,
            expect_status: "2xx|3xx".to_owned(),
            interval_ms: 1000,
            timeout_ms: 1000,
            rise: 1,
            fall: 5,
            outlier_status: None,
        }
    }
}

impl Default for RawRetry {
    fn default() -> Self {
        Self {
            max: 2,
            cross: 0,
            level: RetryLevel::Connect,
        }
    }
}

impl Default for RawTimeouts {
    fn default() -> Self {
        Self {
            connect_ms: 2000,
            response_header_ms: 60_000,
            read_client_body_ms: 30_000,
            write_client_ms: 60_000,
            keepalive_idle_ms: 60_000,
        }
    }
}

impl Default for RawPool {
    fn default() -> Self {
        Self {
            max_idle_per_backend: 32,
            idle_timeout_ms: 90_000,
        }
    }
}
