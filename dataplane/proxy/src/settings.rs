//! Process settings: where to listen and how hard to protect the listener. Routing config is
//! not here; it arrives as snapshots.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Cleartext HTTP listeners (HTTP/1.1 and HTTP/2 with prior knowledge).
    pub http_listen: Vec<SocketAddr>,
    /// TLS listeners (HTTP/1.1, HTTP/2 and stream mode by ALPN); certificates and rules come
    /// with the snapshot (`tls`, `certificates`).
    pub https_listen: Vec<SocketAddr>,
    /// PROXY protocol (v1 and v2) expected in front of connections on every listener.
    pub proxy_protocol: crate::proxy_protocol::Mode,
    /// Local admin listener: /healthz, /readyz, /metrics, /config.
    pub admin_listen: Option<SocketAddr>,
    /// Where configuration comes from.
    pub source: ConfigSource,
    pub limits: Limits,
    /// How long in-flight work may take to finish after SIGTERM.
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// Standalone: a snapshot file, hot-reloaded on change (polled every `poll`) and SIGHUP.
    File { path: PathBuf, poll: Duration },
    /// Managed: snapshots streamed by a control plane, the last one cached on disk.
    Managed(crate::agent::AgentSettings),
}

/// Protection of the client side, before any cluster is known.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to read a request head, and idle time before the first request (BFE ClientReadTimeout).
    pub header_read_timeout: Duration,
    /// Largest request head (request line + headers); larger gets 431.
    pub max_header_bytes: usize,
    /// Longest request URI; longer gets 414.
    pub max_uri_bytes: usize,
    /// Per-write timeout towards the client before a cluster is chosen.
    pub write_timeout: Duration,
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 flow-control windows we grant clients: per stream (BFE `isw`) and per
    /// connection. They bound what a client may push before we read.
    pub h2_stream_window: u32,
    pub h2_connection_window: u32,
    /// Time for a TLS handshake, ClientHello included (BFE TlsHandshakeTimeout).
    pub tls_handshake_timeout: Duration,
    /// Largest PROXY protocol header accepted (BFE MaxProxyHeaderBytes).
    pub proxy_header_max_bytes: usize,
    /// Time to read the PROXY protocol header.
    pub proxy_header_timeout: Duration,
    /// HTTP/2 streams a client may reset before their handling started (rapid reset,
    /// CVE-2023-44487) and streams we may reset for its errors, before the connection closes.
    pub h2_max_pending_resets: usize,
    /// Idle time of an upgraded (WebSocket) connection before it is closed.
    pub upgrade_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
            max_uri_bytes: 8 * 1024,
            write_timeout: Duration::from_secs(60),
            h2_max_concurrent_streams: 200,
            h2_stream_window: 256 * 1024,
            h2_connection_window: 1024 * 1024,
            tls_handshake_timeout: Duration::from_secs(10),
            proxy_header_max_bytes: 1024,
            proxy_header_timeout: Duration::from_secs(5),
            h2_max_pending_resets: 20,
            upgrade_idle_timeout: Duration::from_secs(600),
        }
    }
}
