//! An in-process control plane for data-plane tests: a Discovery service that pushes the
//! snapshots a test gives it and records every status a node reports, and a Stats service that
//! records every batch.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bfe_config::RawSnapshot;
use bfe_proto::discovery::v1::discovery_server::{Discovery, DiscoveryServer};
use bfe_proto::discovery::v1::{
    ControlMessage, NodeMessage, Snapshot, Status, control_message, node_message,
};
use bfe_proto::stats::v1::stats_server::{Stats, StatsServer};
use bfe_proto::stats::v1::{Ack, Batch};
use tokio::sync::{broadcast, oneshot};
use tokio_stream::{Stream, StreamExt, wrappers::TcpListenerStream};
use tonic::{Request, Response, Streaming};

#[derive(Default)]
struct Shared {
    hellos: Mutex<Vec<bfe_proto::discovery::v1::Hello>>,
    statuses: Mutex<Vec<Status>>,
    batches: Mutex<Vec<Batch>>,
    latest: Mutex<Option<Snapshot>>,
}

/// A running fake control plane on 127.0.0.1:0.
pub struct FakeControlPlane {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    pushes: broadcast::Sender<Snapshot>,
    stop: Option<oneshot::Sender<()>>,
}

struct Svc {
    shared: Arc<Shared>,
    pushes: broadcast::Sender<Snapshot>,
}

type Outbound = Pin<Box<dyn Stream<Item = Result<ControlMessage, tonic::Status>> + Send>>;

#[tonic::async_trait]
impl Discovery for Svc {
    type StreamStream = Outbound;

    async fn stream(
        &self,
        req: Request<Streaming<NodeMessage>>,
    ) -> Result<Response<Outbound>, tonic::Status> {
        let mut inbound = req.into_inner();
        let shared = self.shared.clone();
        let mut pushes = self.pushes.subscribe();
        let initial = shared.latest.lock().map(|l| l.clone()).unwrap_or(None);
        tokio::spawn(async move {
            while let Some(Ok(m)) = inbound.next().await {
                match m.msg {
                    Some(node_message::Msg::Hello(h)) => shared
                        .hellos
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(h),
                    Some(node_message::Msg::Status(s)) => shared
                        .statuses
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(s),
                    _ => {}
                }
            }
        });
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            if let Some(s) = initial
                && tx.send(Ok(wrap(s))).await.is_err()
            {
                return;
            }
            while let Ok(s) = pushes.recv().await {
                if tx.send(Ok(wrap(s))).await.is_err() {
                    return;
                }
            }
        });
        let out: Outbound = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
        Ok(Response::new(out))
    }
}

fn wrap(s: Snapshot) -> ControlMessage {
    ControlMessage {
        msg: Some(control_message::Msg::Snapshot(s)),
    }
}

struct StatsSvc {
    shared: Arc<Shared>,
}

#[tonic::async_trait]
impl Stats for StatsSvc {
    async fn report(&self, req: Request<Batch>) -> Result<Response<Ack>, tonic::Status> {
        let batch = req.into_inner();
        let sequence = batch.sequence;
        self.shared
            .batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(batch);
        Ok(Response::new(Ack {
            sequence,
            stored: true,
        }))
    }
}

impl FakeControlPlane {
    pub async fn start() -> Self {
        Self::bind("127.0.0.1:0".parse().expect("literal")).await
    }

    pub async fn bind(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind fake control plane");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::default());
        let (pushes, _) = broadcast::channel(16);
        let (stop, stopped) = oneshot::channel::<()>();
        let discovery = Svc {
            shared: shared.clone(),
            pushes: pushes.clone(),
        };
        let stats = StatsSvc {
            shared: shared.clone(),
        };
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(
                    DiscoveryServer::new(discovery)
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                        .send_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .add_service(
                    StatsServer::new(stats)
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            shared,
            pushes,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Pushes `raw` as `version` to every connected node (and to nodes that connect later).
    pub fn push(&self, version: u64, raw: &RawSnapshot) {
        let body = raw.canonical_json();
        let snap = Snapshot {
            version,
            sha256: raw.sha256_hex(),
            body,
            committed_unix_ms: 0,
        };
        self.push_raw(snap);
    }

    pub fn push_raw(&self, snap: Snapshot) {
        *self.shared.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(snap.clone());
        let _ = self.pushes.send(snap);
    }

    pub fn statuses(&self) -> Vec<Status> {
        self.shared
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn hellos(&self) -> Vec<bfe_proto::discovery::v1::Hello> {
        self.shared
            .hellos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn batches(&self) -> Vec<Batch> {
        self.shared
            .batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until a status for `version` in `state` arrives.
    pub async fn wait_status(&self, version: u64, state: i32, within: Duration) -> Option<Status> {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if let Some(s) = self
                .statuses()
                .into_iter()
                .find(|s| s.version == version && s.state == state)
            {
                return Some(s);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for FakeControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}
