//! The data-plane proxy. `start` binds the listeners and runs everything in the background;
//! `main.rs` adds argument parsing, logging and signals.

pub mod admin;
pub mod balance;
pub mod error;
pub mod facts;
pub mod health;
pub mod http;
pub mod live;
pub mod metrics;
pub mod modules;
pub mod pipeline;
pub mod reload;
pub mod routing;
pub mod server;
pub mod settings;
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
use crate::settings::Settings;

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
    pub admin: Option<SocketAddr>,
    pub live: Arc<Live>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Loads the config file, binds every listener and starts serving.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let loaded = reload::stamp(&settings.config_file);
    let snapshot = reload::load(&settings.config_file)?;
    let metrics = Arc::new(Metrics::new());
    metrics.config_installed(1, &snapshot.hash);
    let health = Arc::new(health::Health::default());
    let live = Arc::new(Live::new(snapshot, modules::Registry::standard(), health));
    let (stop, stop_rx) = watch::channel(false);
    let engine = Arc::new(Engine {
        live: live.clone(),
        upstreams: Default::default(),
        metrics: metrics.clone(),
        limits: settings.limits,
        draining: stop_rx.clone(),
    });

    let mut listeners = Vec::new();
    for addr in &settings.http_listen {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: *addr,
                source,
            })?;
        listeners.push(l);
    }
    let http = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
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
    tokio::spawn(reload::watch_file(
        settings.config_file.clone(),
        loaded,
        live.clone(),
        metrics.clone(),
        settings.config_poll,
        stop_rx.clone(),
    ));

    let (abort, abort_rx) = watch::channel(false);
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let drain = server::Drain {
        draining: stop_rx.clone(),
        abort: abort_rx,
        alive,
    };
    let ids = Arc::new(AtomicU64::new(1));
    let mut loops = Vec::new();
    for l in listeners {
        loops.push(tokio::spawn(server::accept_loop(
            l,
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
    tracing::info!(http = ?http, admin = ?admin, "Data plane started.");
    Ok(Running {
        http,
        admin,
        live,
        stop,
        task,
    })
}

// === impl Running ===

impl Running {
    /// Stops accepting, drains in-flight work (up to the shutdown timeout) and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
