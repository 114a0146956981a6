//! The data-plane proxy. `start` binds the listeners and runs everything in the background;
//! `main.rs` adds argument parsing, logging and signals.

pub mod admin;
pub mod agent;
pub mod balance;
pub mod deadline;
pub mod error;
pub mod facts;
pub mod gated;
pub mod health;
pub mod http;
pub mod live;
pub mod metrics;
pub mod modules;
pub mod pipeline;
pub mod proxy_protocol;
pub mod reload;
pub mod routing;
pub mod server;
pub mod settings;
pub mod stream;
pub mod tls;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::live::Live;
use crate::metrics::Metrics;
use crate::pipeline::Engine;
use crate::settings::{ConfigSource, Settings};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] reload::LoadError),
}

/// A started data plane.
pub struct Running {
    /// Bound addresses of the HTTP listeners (port 0 resolved).
    pub http: Vec<SocketAddr>,
    /// Bound addresses of the HTTPS listeners.
    pub https: Vec<SocketAddr>,
    pub admin: Option<SocketAddr>,
    pub live: Arc<Live>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Loads the configuration (the file, or the managed node's cache), binds every listener and
/// starts serving.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let metrics = Arc::new(Metrics::new());
    let (snapshot, version, ready, stamp) = initial_config(&settings.source)?;
    metrics.config_installed(1, &snapshot.hash);
    let health = Arc::new(health::Health::default());
    let live = Arc::new(Live::new(
        snapshot,
        version,
        ready,
        modules::Registry::standard(),
        health,
    ));
    let stats = match &settings.source {
        ConfigSource::Managed(_) => Some(Arc::new(agent::stats::Aggregator::default())),
        ConfigSource::File { .. } => None,
    };
    let (stop, stop_rx) = watch::channel(false);
    let engine = Arc::new(Engine {
        live: live.clone(),
        upstreams: Default::default(),
        metrics: metrics.clone(),
        limits: settings.limits,
        draining: stop_rx.clone(),
        stats: stats.clone(),
    });
    engine.upstreams.spawn_idle_sweeper();

    let mut listeners = Vec::new();
    let (mut http, mut https) = (Vec::new(), Vec::new());
    for (addrs, tls) in [
        (&settings.http_listen, false),
        (&settings.https_listen, true),
    ] {
        for addr in addrs {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: *addr,
                    source,
                })?;
            if let Ok(a) = l.local_addr() {
                if tls { https.push(a) } else { http.push(a) }
            }
            let kind = server::ListenerKind {
                tls,
                proxy_protocol: settings.proxy_protocol,
            };
            listeners.push((l, kind));
        }
    }
    let admin_listener = match settings.admin_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?,
        ),
        None => None,
    };
    let admin = admin_listener.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(l) = admin_listener {
        let a = admin::Admin {
            live: live.clone(),
            metrics: metrics.clone(),
            draining: stop_rx.clone(),
        };
        // The admin listener outlives the drain so /readyz can report it.
        let (_keep, admin_stop) = watch::channel(false);
        tokio::spawn(async move {
            let _keep = _keep;
            admin::serve(l, a, admin_stop).await;
        });
    }
    match &settings.source {
        ConfigSource::File { path, poll } => {
            tokio::spawn(reload::watch_file(
                path.clone(),
                stamp,
                live.clone(),
                metrics.clone(),
                *poll,
                stop_rx.clone(),
            ));
        }
        ConfigSource::Managed(agent_settings) => {
            tokio::spawn(agent::run(
                agent_settings.clone(),
                live.clone(),
                metrics.clone(),
                stop_rx.clone(),
            ));
            if let Some(stats) = stats {
                tokio::spawn(agent::stats::report(
                    agent_settings.clone(),
                    stats,
                    stop_rx.clone(),
                ));
            }
        }
    }

    let (abort, abort_rx) = watch::channel(false);
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let drain = server::Drain {
        draining: stop_rx.clone(),
        abort: abort_rx,
        alive,
    };
    let ids = Arc::new(AtomicU64::new(1));
    let mut loops = Vec::new();
    for (l, kind) in listeners {
        loops.push(tokio::spawn(server::accept_loop(
            l,
            kind,
            engine.clone(),
            drain.clone(),
            ids.clone(),
        )));
    }
    drop(drain);
    let timeout = settings.shutdown_timeout;
    let task = tokio::spawn(async move {
        for l in loops {
            let _ = l.await;
        }
        // Listeners are closed and every connection is draining; recv() returns None once the
        // last connection task dropped its sender.
        match tokio::time::timeout(timeout, all_gone.recv()).await {
            Ok(_) => tracing::info!("All connections drained."),
            Err(_) => {
                tracing::warn!(
                    ?timeout,
                    "Drain deadline passed; closing the remaining connections."
                );
                let _ = abort.send(true);
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(1), all_gone.recv()).await;
            }
        }
    });
    tracing::info!(http = ?http, https = ?https, admin = ?admin, "Data plane started.");
    Ok(Running {
        http,
        https,
        admin,
        live,
        stop,
        task,
    })
}

/// The config to start with: the file (standalone), or the cached version (managed; an empty
/// placeholder, not ready, when there is none).
fn initial_config(
    source: &ConfigSource,
) -> Result<
    (
        bfe_config::Snapshot,
        Option<u64>,
        bool,
        Option<reload::Stamp>,
    ),
    StartError,
> {
    match source {
        ConfigSource::File { path, .. } => {
            let stamp = reload::stamp(path);
            Ok((reload::load(path)?, None, true, stamp))
        }
        ConfigSource::Managed(a) => {
            let cache = agent::cache::Cache::new(a.cache_dir.clone());
            let cached = match cache.load() {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "Ignoring the cached config.");
                    None
                }
            };
            if let Some(c) = cached {
                match bfe_config::compile(&c.snapshot) {
                    Ok(s) => {
                        tracing::info!(
                            version = c.version,
                            "Serving the cached config until the control plane answers."
                        );
                        return Ok((s, Some(c.version), true, None));
                    }
                    Err(v) => {
                        tracing::error!(violations = %v, "The cached config no longer compiles; ignoring it.")
                    }
                }
            }
            let empty =
                bfe_config::compile(&bfe_config::RawSnapshot::default()).map_err(|violations| {
                    reload::LoadError::Invalid {
                        path: a.cache_dir.clone(),
                        violations,
                    }
                })?;
            Ok((empty, None, false, None))
        }
    }
}

// === impl Running ===

impl Running {
    /// Stops accepting, drains in-flight work (up to the shutdown timeout) and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
