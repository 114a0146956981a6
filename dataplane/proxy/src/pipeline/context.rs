//! Per-connection (`Session`) and per-request (`RequestCtx`) state, passed to every filter.
//! Filters never call each other; they share what they learn through these.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bfe_config::cluster::Backend;
use bfe_config::{ClusterId, TenantId};
use http::{HeaderValue, Method, Uri, Version};
use smallvec::SmallVec;

use crate::error::ProxyError;
use crate::health::ActiveGuard;
use crate::live::Active;
use crate::tls::TlsInfo;

/// One client connection.
#[derive(Debug)]
pub struct Session {
    pub id: u64,
    /// The socket peer (BFE's session RemoteAddr).
    pub peer: SocketAddr,
    /// The local address the client connected to.
    pub local: SocketAddr,
    /// The virtual IP the client aimed at (the local address until PROXY protocol says more).
    pub vip: Option<IpAddr>,
    pub secure: bool,
    pub started: Instant,
    /// Requests served on this connection so far.
    pub requests: AtomicU32,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Set at HandleAccept by trust_clientip: the peer may tell us the real client address
    /// (X-Real-Ip / X-Forwarded-For) and a log id.
    pub trusted: AtomicBool,
    /// What the TLS handshake established (set once, before HandleHandshake).
    pub tls: OnceLock<TlsInfo>,
    /// X-Forwarded-For / -Port values of this connection, rendered once.
    pub forwarded: crate::http::headers::PeerValues,
    /// The metric handles its last request used.
    pub metric_handles: crate::metrics::HandleCache,
}

/// One request, from its head being read to its last response byte.
pub struct RequestCtx {
    /// The configuration this request runs against, taken once at its start.
    pub active: Arc<Active>,
    pub session: Arc<Session>,
    pub started: Instant,
    /// The client address after trust logic (the peer until a trust module says otherwise).
    pub client_ip: IpAddr,
    /// What the access log and the finish filters report about the request.
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub host: Option<HeaderValue>,
    pub referer: Option<HeaderValue>,
    pub user_agent: Option<HeaderValue>,
    pub tenant: Option<TenantId>,
    pub host_tag: Option<u32>,
    pub cluster: Option<ClusterId>,
    pub sub_cluster: Option<Arc<str>>,
    pub backend: Option<Backend>,
    /// Forwarding attempts made (retries included).
    pub attempts: u32,
    /// Status sent to the client (0 until the response head is known).
    pub status: u16,
    pub error: Option<ProxyError>,
    pub request_body_bytes: u64,
    pub response_body_bytes: u64,
    /// When the backend's response head arrived.
    pub backend_header_at: Option<Instant>,
    /// Set by a Finish decision: close the connection after this response.
    pub close_after: bool,
    /// Request id (BFE log id), set by the logid module; logged and forwarded.
    pub log_id: Option<Arc<str>>,
    /// Tags set by modules (name, value), read by `req_tag_match`.
    pub tags: Vec<(Arc<str>, Arc<str>)>,
    /// String values modules share (key, value), read by `req_context_value_in`.
    pub context: Vec<(Arc<str>, Arc<str>)>,
    /// What modules did to this request, for the access log and metrics (module, action).
    pub actions: Vec<(&'static str, &'static str)>,
    /// Backends tried, in order (the access log's attempt list).
    pub tried: SmallVec<[Arc<str>; 2]>,
    /// Keeps the chosen backend's in-flight count while its response streams.
    pub backend_load: Option<ActiveGuard>,
    /// The `Upgrade` protocol asked for (HTTP/1.1 WebSocket), forwarded to HTTP/1 backends.
    pub upgrade: Option<crate::http::upgrade::Asked>,
}

// === impl Session ===

impl Session {
    pub fn new(id: u64, peer: SocketAddr, local: SocketAddr, secure: bool) -> Self {
        Self {
            id,
            peer,
            local,
            vip: Some(local.ip()),
            secure,
            started: Instant::now(),
            requests: AtomicU32::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            trusted: AtomicBool::new(false),
            tls: OnceLock::new(),
            forwarded: crate::http::headers::PeerValues::new(peer.ip(), local.port()),
            metric_handles: crate::metrics::HandleCache::default(),
        }
    }

    pub fn request_count(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted.load(Ordering::Relaxed)
    }
}

// === impl RequestCtx ===

impl RequestCtx {
    pub fn new(active: Arc<Active>, session: Arc<Session>, parts: &http::request::Parts) -> Self {
        let header = |name| parts.headers.get(name).cloned();
        Self {
            active,
            started: Instant::now(),
            client_ip: session.peer.ip(),
            session,
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            version: parts.version,
            host: header(http::header::HOST).or_else(|| {
                parts
                    .uri
                    .authority()
                    .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            }),
            referer: header(http::header::REFERER),
            user_agent: header(http::header::USER_AGENT),
            tenant: None,
            host_tag: None,
            cluster: None,
            sub_cluster: None,
            backend: None,
            attempts: 0,
            status: 0,
            error: None,
            request_body_bytes: 0,
            response_body_bytes: 0,
            backend_header_at: None,
            close_after: false,
            log_id: None,
            tags: Vec::new(),
            context: Vec::new(),
            actions: Vec::new(),
            tried: SmallVec::new(),
            backend_load: None,
            upgrade: None,
        }
    }

    pub fn tenant_name(&self) -> Option<&str> {
        self.tenant.map(|t| &*self.active.snapshot.tenant(t).name)
    }

    /// The status class for metrics and statistics: `2xx`…`5xx`, `none` when nothing was sent.
    pub fn status_class(&self) -> &'static str {
        match self.status {
            0 => "none",
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        }
    }

    /// Records a module's action (for the access log and `bfe_module_actions_total`).
    pub fn record_action(&mut self, module: &'static str, action: &'static str) {
        self.actions.push((module, action));
    }

    pub fn cluster_name(&self) -> Option<&str> {
        self.cluster.map(|c| &*self.active.snapshot.cluster(c).name)
    }

    /// The Host value without port, as received (for logs).
    pub fn host_str(&self) -> &str {
        self.host
            .as_ref()
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
    }
}
