//! Process settings: where to listen and which store to use. Not routing configuration.

use std::path::PathBuf;

/// How the control plane process runs.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// REST listen address, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// `postgres://…` for PostgreSQL; none for the embedded SQLite file.
    pub database_url: Option<String>,
    /// Directory of the embedded store (`controlplane.db` inside it).
    pub data_dir: PathBuf,
    /// Exact SQLite file; overrides `data_dir`.
    pub sqlite_path: Option<PathBuf>,
    /// Secret of the first admin token, instead of a random one shown once.
    pub bootstrap_token: Option<String>,
    /// gRPC listen address for the data-plane nodes (discovery and statistics).
    pub grpc_listen: String,
    /// Credential nodes must present; none accepts any node (local development).
    pub node_token: Option<String>,
    /// Nodes not heard from for this long are dropped from the fleet.
    pub node_grace: std::time::Duration,
    /// How long request statistics are kept.
    pub stats_retention: std::time::Duration,
    /// Once listening, write `{"rest": addr, "grpc": addr}` here (for scripts and tests).
    pub ready_file: Option<PathBuf>,
    /// TLS for the gRPC listener; with a client CA, nodes must present a certificate it signed.
    pub grpc_tls: Option<GrpcTls>,
    /// Largest REST request body accepted (413 above).
    pub max_body_bytes: usize,
}

/// PEM material of the gRPC listener's TLS.
#[derive(Clone, PartialEq, Eq)]
pub struct GrpcTls {
    pub cert_pem: String,
    pub key_pem: String,
    /// CA bundle that signs node certificates (mutual TLS); none = server-side TLS only.
    pub client_ca_pem: Option<String>,
}

impl std::fmt::Debug for Settings {
    // Secrets stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("data_dir", &self.data_dir)
            .field("grpc_listen", &self.grpc_listen)
            .field("node_token", &self.node_token.as_ref().map(|_| "<set>"))
            .field("node_grace", &self.node_grace)
            .field("stats_retention", &self.stats_retention)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "grpc_tls",
                &self.grpc_tls.as_ref().map(|t| {
                    if t.client_ca_pem.is_some() {
                        "mutual"
                    } else {
                        "server"
                    }
                }),
            )
            .finish_non_exhaustive()
    }
}

// === impl Settings ===

impl Settings {
    pub fn sqlite_path(&self) -> PathBuf {
        self.sqlite_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("controlplane.db"))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: None,
            data_dir: PathBuf::from("./.data"),
            sqlite_path: None,
            bootstrap_token: None,
            grpc_listen: "127.0.0.1:9090".to_owned(),
            node_token: None,
            node_grace: std::time::Duration::from_secs(3600),
            stats_retention: std::time::Duration::from_secs(24 * 3600),
            ready_file: None,
            grpc_tls: None,
            max_body_bytes: crate::state::DEFAULT_MAX_BODY_BYTES,
        }
    }
}
