//! The control plane: a validated, versioned configuration store behind a REST admin API.
//!
//! A write is a change set: the whole candidate snapshot is compiled with the data plane's own
//! compiler (`bfe_config::compile`) and either becomes one immutable version or is refused whole
//! with every violation's field path. See `controlplane/README.md` and the `store` and `service` modules.

pub mod api;
pub mod auth;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod model;
pub mod publisher;
pub mod service;
pub mod settings;
pub mod state;
pub mod store;
pub mod text;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use settings::Settings;
pub use state::AppState;
pub use store::Store;

use crate::auth::{Role, new_secret};
use crate::store::NewToken;

/// Why the control plane could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Open(#[from] store::OpenError),
    #[error("bootstrap token: {0}")]
    Bootstrap(error::ApiError),
    #[error("creating the admin token: {0}")]
    AdminToken(error::ApiError),
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
    #[error("gRPC TLS: {0}")]
    Tls(String),
}

/// How long a stopping control plane waits for gRPC connections to end.
const GRPC_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Expires stale nodes and drops old statistics, once a minute.
async fn housekeeping(
    store: Store,
    node_grace: std::time::Duration,
    retention: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    loop {
        if let Err(e) = store.expire_nodes(ms(node_grace)).await {
            tracing::warn!(error = %e, "Expiring stale nodes failed.");
        }
        if let Err(e) = store.prune_stats(ms(retention)).await {
            tracing::warn!(error = %e, "Pruning statistics failed.");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The REST API for `state`, for tests (`oneshot`) and for [`run`].
pub fn app(state: AppState) -> Router {
    let metrics = Router::new()
        .route("/metrics", axum::routing::get(metrics::handler))
        .with_state(state.clone());
    api::router(state).merge(metrics)
}

/// On first start (no token at all) creates the bootstrap admin token: `secret` when given,
/// random otherwise. Returns the secret when one was created, so the caller can show it once.
pub async fn ensure_bootstrap_token(
    store: &Store,
    secret: Option<&str>,
) -> Result<Option<String>, error::ApiError> {
    if store.count_tokens().await? > 0 {
        return Ok(None);
    }
    let secret = secret.map_or_else(new_secret, str::to_owned);
    store
        .create_token(&NewToken {
            name: "bootstrap",
            role: Role::Admin,
            tenants: None,
            secret: &secret,
            created_by: "system",
            request_id: "bootstrap",
        })
        .await?;
    Ok(Some(secret))
}

/// Offline recovery: opens the store `settings` name and creates an unscoped admin token
/// called `name`, whatever tokens exist (e.g. after the last admin's secret was lost). Returns
/// the secret, which the caller shows once. The audit log records it as `offline-recovery`.
pub async fn create_admin_token(settings: &Settings, name: &str) -> Result<String, RunError> {
    api::check_token_name(name).map_err(RunError::AdminToken)?;
    let store = Store::open(settings.database_url.as_deref(), &settings.sqlite_path()).await?;
    let secret = new_secret();
    let created = store
        .create_token(&NewToken {
            name,
            role: Role::Admin,
            tenants: None,
            secret: &secret,
            created_by: "offline-recovery",
            request_id: "cli",
        })
        .await;
    store.close().await;
    let row = created.map_err(RunError::AdminToken)?;
    tracing::info!(id = row.id, name, "Admin token created offline.");
    Ok(secret)
}

/// Opens the store, makes sure an admin can log in, and serves the REST API until `shutdown`
/// resolves (then drains in-flight requests).
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let store = Store::open(settings.database_url.as_deref(), &settings.sqlite_path()).await?;
    tracing::info!(backend = ?store.backend(), "Store opened and migrated.");
    let created = ensure_bootstrap_token(&store, settings.bootstrap_token.as_deref())
        .await
        .map_err(RunError::Bootstrap)?;
    if let Some(secret) = created {
        if settings.bootstrap_token.is_none() {
            // Shown once, on stdout only (not through the log pipeline).
            println!("bootstrap admin token (shown once): {secret}");
        } else {
            tracing::info!("Bootstrap admin token created from the configured secret.");
        }
    }
    let listener = TcpListener::bind(&settings.listen)
        .await
        .map_err(|source| RunError::Listen {
            addr: settings.listen.clone(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_or_else(|_| settings.listen.clone(), |a| a.to_string());
    tracing::info!(%addr, "REST API listening.");
    let grpc_listener = TcpListener::bind(&settings.grpc_listen)
        .await
        .map_err(|source| RunError::Listen {
            addr: settings.grpc_listen.clone(),
            source,
        })?;
    let grpc_addr = grpc_listener
        .local_addr()
        .map_or_else(|_| settings.grpc_listen.clone(), |a| a.to_string());
    if settings.node_token.is_none() {
        tracing::warn!("No --node-token: any node may connect. Set one outside local development.");
    }
    tracing::info!(addr = %grpc_addr, "gRPC (discovery, statistics) listening.");
    if let Some(path) = &settings.ready_file {
        let ready = format!(r#"{{"rest":"{addr}","grpc":"{grpc_addr}"}}"#);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, ready)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|source| RunError::Listen {
                addr: path.display().to_string(),
                source,
            })?;
    }
    let publisher = publisher::Publisher::spawn(store.clone(), settings.database_url.clone());
    let (discovery, stats) = grpc::services(
        store.clone(),
        publisher.clone(),
        grpc::NodeAuth::new(settings.node_token.clone()),
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let housekeeping = tokio::spawn(housekeeping(
        store.clone(),
        settings.node_grace,
        settings.stats_retention,
        stop_rx.clone(),
    ));
    let mut grpc_stop = stop_rx.clone();
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = &settings.grpc_tls {
        let mut config = tonic::transport::ServerTlsConfig::new().identity(
            tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem),
        );
        if let Some(ca) = &tls.client_ca_pem {
            config = config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
        }
        server = server
            .tls_config(config)
            .map_err(|e| RunError::Tls(e.to_string()))?;
        tracing::info!(
            mutual = tls.client_ca_pem.is_some(),
            "gRPC listener uses TLS."
        );
    }
    let mut state = AppState::new(store.clone());
    state.node_grace = settings.node_grace;
    state.max_body_bytes = settings.max_body_bytes;
    let app = app(state);
    let admin =
        bfe_proto::admin::v1::admin_server::AdminServer::new(grpc::AdminService::new(app.clone()))
            .max_encoding_message_size(256 * 1024 * 1024);
    let grpc = tokio::spawn(
        server
            .http2_keepalive_interval(Some(std::time::Duration::from_secs(15)))
            .add_service(discovery)
            .add_service(stats)
            .add_service(admin)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
                async move {
                    let _ = grpc_stop.wait_for(|s| *s).await;
                },
            ),
    );
    let stopping = publisher.clone();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
            // Ends every node stream; each records its disconnect while the store is open.
            // Nodes keep serving and reconnect elsewhere.
            stopping.shutdown().await;
        })
        .await
        .map_err(RunError::Serve);
    // The gRPC server is done once its streams have ended; a connection still busy after the
    // fallback is cut off, so that nothing uses the store once it is closed.
    let mut grpc = grpc;
    if tokio::time::timeout(GRPC_DRAIN, &mut grpc).await.is_err() {
        tracing::warn!("gRPC connections still open after the drain period; closing them.");
        grpc.abort();
    }
    let _ = housekeeping.await;
    publisher.shutdown().await;
    result?;
    store.close().await;
    tracing::info!("Control plane stopped.");
    Ok(())
}
