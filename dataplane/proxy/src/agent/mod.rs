//! Managed mode: one gRPC stream to the control plane. The node says hello with the version it
//! holds; for every snapshot pushed it answers RECEIVED, then compiles it (ACK, or NACK with the
//! violations), swaps it in, persists it, and answers ACTIVE. Pushes that arrive while one is
//! being applied are coalesced: only the newest is applied. The stream reconnects with jittered
//! exponential backoff; the node keeps serving whatever it has meanwhile.

pub mod cache;
pub mod stats;

use std::sync::Arc;
use std::time::Duration;

use bfe_config::RawSnapshot;
use bfe_proto::discovery::v1::{
    self as pb, ControlMessage, NodeMessage, control_message, discovery_client::DiscoveryClient,
    node_message, status::State,
};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

use self::cache::{Cache, Cached};
use crate::live::Live;
use crate::metrics::Metrics;

/// How a managed node reaches its control plane.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub url: String,
    pub node_id: String,
    pub labels: Vec<(String, String)>,
    pub token: Option<String>,
    pub cache_dir: std::path::PathBuf,
    pub stats_interval: Duration,
    /// Largest snapshot this node accepts; a bigger push is NACKed (protects a small node).
    pub max_snapshot_bytes: usize,
    /// TLS towards the control plane (`https://` URLs).
    pub tls: Option<AgentTls>,
}

/// PEM material for TLS to the control plane.
#[derive(Debug, Clone)]
pub struct AgentTls {
    /// CA bundle that signs the control plane's certificate.
    pub ca_pem: String,
    /// This node's certificate chain and key (mutual TLS), when the control plane asks for one.
    pub identity: Option<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("invalid control-plane URL: {0}")]
    Url(String),
    #[error("connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    #[error("stream: {0}")]
    Stream(#[from] tonic::Status),
    #[error("the control plane closed the stream")]
    Closed,
}

pub fn build_info() -> String {
    format!("bfe-dataplane/{}", env!("CARGO_PKG_VERSION"))
}

pub fn endpoint(url: &str, tls: Option<&AgentTls>) -> Result<Endpoint, tonic::transport::Error> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(5))
        .keep_alive_while_idle(true);
    if let Some(tls) = tls {
        let mut config = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&tls.ca_pem));
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(config)?;
    }
    Ok(endpoint)
}

/// Runs the discovery stream until `stop`, reconnecting forever.
pub async fn run(
    settings: AgentSettings,
    live: Arc<Live>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let cache = Arc::new(Cache::new(settings.cache_dir.clone()));
    let mut backoff = Duration::from_millis(200);
    loop {
        let started = std::time::Instant::now();
        let result = tokio::select! {
            r = session(&settings, &live, &metrics, &cache) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match result {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, url = %settings.url, "Control-plane stream ended; serving the current config meanwhile.")
            }
        }
        // A stream that lived a while resets the backoff.
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(200);
        }
        let jitter = rand::random::<f64>() * 0.5 + 0.75;
        let wait = backoff.mul_f64(jitter);
        backoff = (backoff * 2).min(Duration::from_secs(15));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn session(
    settings: &AgentSettings,
    live: &Arc<Live>,
    metrics: &Arc<Metrics>,
    cache: &Arc<Cache>,
) -> Result<(), SessionError> {
    let channel: Channel = endpoint(&settings.url, settings.tls.as_ref())
        .map_err(|e| SessionError::Url(e.to_string()))?
        .connect()
        .await?;
    let mut client = DiscoveryClient::new(channel)
        .send_compressed(tonic::codec::CompressionEncoding::Gzip)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .max_decoding_message_size(256 * 1024 * 1024);
    let (tx, rx) = mpsc::channel::<NodeMessage>(64);
    let held = live.current();
    let hello = pb::Hello {
        node_id: settings.node_id.clone(),
        labels: settings.labels.iter().cloned().collect(),
        build: build_info(),
        capabilities: vec!["snapshot-json".to_owned(), "stats-hdr".to_owned()],
        held_version: held.version.unwrap_or(0),
        held_sha256: if held.version.is_some() {
            held.snapshot.hash.clone()
        } else {
            String::new()
        },
        token: settings.token.clone().unwrap_or_default(),
    };
    let _ = tx.send(msg(node_message::Msg::Hello(hello))).await;
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    if let Some(token) = &settings.token
        && let Ok(v) = format!("Bearer {token}").parse()
    {
        request.metadata_mut().insert("authorization", v);
    }
    let mut inbound = client.stream(request).await?.into_inner();
    tracing::info!(url = %settings.url, node = %settings.node_id, "Connected to the control plane.");

    // Newest push wins: the applier always takes the latest one.
    let (latest_tx, mut latest_rx) = watch::channel::<Option<pb::Snapshot>>(None);
    let max_bytes = settings.max_snapshot_bytes;
    let applier = {
        let (tx, live, metrics, cache) = (tx.clone(), live.clone(), metrics.clone(), cache.clone());
        tokio::spawn(async move {
            while latest_rx.changed().await.is_ok() {
                let Some(snap) = latest_rx.borrow_and_update().clone() else {
                    continue;
                };
                apply(snap, max_bytes, &tx, &live, &metrics, &cache).await;
            }
        })
    };
    let heartbeat = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                let hb = pb::Heartbeat { unix_ms: unix_ms() };
                if tx
                    .send(msg(node_message::Msg::Heartbeat(hb)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    };
    let result = loop {
        match inbound.message().await {
            Ok(Some(ControlMessage {
                msg: Some(control_message::Msg::Snapshot(s)),
            })) => {
                let _ = latest_tx.send(Some(s));
            }
            Ok(Some(_)) => {}
            Ok(None) => break Err(SessionError::Closed),
            Err(status) => break Err(SessionError::Stream(status)),
        }
    };
    applier.abort();
    heartbeat.abort();
    result
}

fn msg(m: node_message::Msg) -> NodeMessage {
    NodeMessage { msg: Some(m) }
}

fn status(
    snap: &pb::Snapshot,
    state: State,
    message: String,
    violations: Vec<pb::Violation>,
) -> NodeMessage {
    msg(node_message::Msg::Status(pb::Status {
        version: snap.version,
        sha256: snap.sha256.clone(),
        state: state as i32,
        violations,
        message,
    }))
}

/// Verifies, compiles, installs and persists one pushed version, reporting each step.
async fn apply(
    snap: pb::Snapshot,
    max_bytes: usize,
    tx: &mpsc::Sender<NodeMessage>,
    live: &Live,
    metrics: &Metrics,
    cache: &Arc<Cache>,
) {
    let _ = tx
        .send(status(&snap, State::Received, String::new(), Vec::new()))
        .await;
    let current = live.current();
    if current.version == Some(snap.version) && current.snapshot.hash == snap.sha256 {
        let _ = tx
            .send(status(
                &snap,
                State::Active,
                "already active".to_owned(),
                Vec::new(),
            ))
            .await;
        return;
    }
    let nack = |message: String, violations: Vec<pb::Violation>| {
        status(&snap, State::Nack, message, violations)
    };
    if snap.body.len() > max_bytes {
        let message = format!(
            "snapshot of {} bytes exceeds this node's limit of {max_bytes} bytes (--max-snapshot-bytes)",
            snap.body.len()
        );
        tracing::error!(version = snap.version, %message, "Pushed config refused.");
        let _ = tx.send(nack(message, Vec::new())).await;
        return;
    }
    let actual = hex(&Sha256::digest(&snap.body));
    if actual != snap.sha256 {
        let _ = tx
            .send(nack(
                format!("hash mismatch: body hashes to {actual}"),
                Vec::new(),
            ))
            .await;
        return;
    }
    let body = snap.body.clone();
    let compiled = tokio::task::spawn_blocking(move || {
        let raw: RawSnapshot = serde_json::from_slice(&body)
            .map_err(|e| (format!("invalid snapshot document: {e}"), Vec::new()))?;
        let snapshot = bfe_config::compile(&raw).map_err(|v| {
            let list = v
                .iter()
                .map(|v| pb::Violation {
                    path: v.path.clone(),
                    message: v.message.clone(),
                })
                .collect();
            (format!("{} violation(s)", v.len()), list)
        })?;
        Ok::<_, (String, Vec<pb::Violation>)>((raw, snapshot))
    })
    .await;
    let (raw, snapshot) = match compiled {
        Ok(Ok(r)) => r,
        Ok(Err((message, violations))) => {
            tracing::error!(version = snap.version, %message, "Pushed config refused; the current one keeps serving.");
            metrics.reload(false);
            let _ = tx.send(nack(message, violations)).await;
            return;
        }
        Err(e) => {
            let _ = tx
                .send(nack(format!("compile task failed: {e}"), Vec::new()))
                .await;
            return;
        }
    };
    let _ = tx
        .send(status(&snap, State::Ack, String::new(), Vec::new()))
        .await;
    let hash = snapshot.hash.clone();
    let generation = live.install_versioned(snapshot, Some(snap.version));
    metrics.reload(true);
    metrics.config_installed(generation, &hash);
    let cached = Cached {
        version: snap.version,
        sha256: snap.sha256.clone(),
        snapshot: raw,
    };
    let cache = cache.clone();
    let persisted = tokio::task::spawn_blocking(move || cache.store(&cached)).await;
    let message = match persisted {
        Ok(Ok(())) => String::new(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "Active config could not be persisted.");
            format!("active but not persisted: {e}")
        }
        Err(e) => format!("active but not persisted: {e}"),
    };
    tracing::info!(version = snap.version, generation, "Config version active.");
    let _ = tx
        .send(status(&snap, State::Active, message, Vec::new()))
        .await;
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
