//! The per-node config stream (controlplane/README.md, "The fleet over gRPC"): hello, then the newest version whenever it
//! changes — never one this node's build has refused, never one it already runs — and the
//! node's RECEIVED / ACK / ACTIVE / NACK statuses recorded in the fleet table.

use std::pin::Pin;
use std::time::Duration;

use bfe_proto::discovery::v1::{
    self as pb, ControlMessage, NodeMessage, control_message, discovery_server::Discovery,
    node_message, status::State,
};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::NodeAuth;
use crate::publisher::Publisher;
use crate::store::{HEARTBEAT, LIVENESS, Nack, NackViolation, Store};
use crate::text::{has_control, scrub};

type Outbound = Pin<Box<dyn Stream<Item = Result<ControlMessage, Status>> + Send>>;

pub struct DiscoveryService {
    store: Store,
    publisher: Publisher,
    auth: NodeAuth,
}

impl DiscoveryService {
    pub fn new(store: Store, publisher: Publisher, auth: NodeAuth) -> Self {
        Self {
            store,
            publisher,
            auth,
        }
    }
}

#[tonic::async_trait]
impl Discovery for DiscoveryService {
    type StreamStream = Outbound;

    async fn stream(
        &self,
        req: Request<Streaming<NodeMessage>>,
    ) -> Result<Response<Outbound>, Status> {
        let metadata = req.metadata().clone();
        let mut inbound = req.into_inner();
        let hello = match tokio::time::timeout(Duration::from_secs(10), inbound.message()).await {
            Ok(Ok(Some(NodeMessage {
                msg: Some(node_message::Msg::Hello(h)),
            }))) => h,
            Ok(Err(status)) => return Err(status),
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must be a Hello",
                ));
            }
        };
        self.auth.check(&metadata, &hello.token)?;
        if !valid_node_id(&hello.node_id) {
            return Err(Status::invalid_argument(
                "node_id: use 1-128 characters of A-Z a-z 0-9 - _ . :",
            ));
        }
        if hello
            .labels
            .iter()
            .chain(std::iter::once((&hello.build, &hello.build)))
            .any(|(k, v)| has_control(k) || has_control(v))
        {
            return Err(Status::invalid_argument(
                "labels and build: control characters are not allowed",
            ));
        }
        let labels = hello.labels.clone().into_iter().collect();
        let session = self
            .store
            .node_hello(&hello.node_id, &labels, &hello.build)
            .await
            .map_err(|e| Status::unavailable(format!("store: {e}")))?;
        // A version this build refused before is not offered again (until another build).
        let refused = match self.store.node(&hello.node_id).await {
            Ok(Some(n)) => n
                .last_nack
                .filter(|n| n.build == hello.build)
                .map(|n| n.version),
            _ => None,
        };
        tracing::info!(node = %hello.node_id, build = %hello.build, held = hello.held_version, "Node connected.");
        let (tx, rx) = mpsc::channel::<Result<ControlMessage, Status>>(8);
        let session = Session {
            store: self.store.clone(),
            session,
            node_id: hello.node_id.clone(),
            build: hello.build.clone(),
            held: (hello.held_version as i64, hello.held_sha256.clone()),
            offered: None,
            refused,
        };
        tokio::spawn(session.run(inbound, tx, self.publisher.clone()));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

struct Session {
    store: Store,
    /// This stream's id in the node's row (see `Store::node_hello`).
    session: String,
    node_id: String,
    build: String,
    /// What the node runs: (version, sha256).
    held: (i64, String),
    /// The last version sent on this stream.
    offered: Option<i64>,
    refused: Option<i64>,
}

impl Session {
    async fn run(
        mut self,
        mut inbound: Streaming<NodeMessage>,
        tx: mpsc::Sender<Result<ControlMessage, Status>>,
        publisher: Publisher,
    ) {
        let mut latest = publisher.subscribe();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        // A node that stops talking (hung, or its network gone without a reset) is cut off once
        // a heartbeat is overdue, rather than when TCP or HTTP/2 keepalive notice.
        let mut heard = tokio::time::Instant::now();
        let first = latest.borrow_and_update().clone();
        if !self.offer(&first, &tx).await {
            return self.gone().await;
        }
        loop {
            tokio::select! {
                changed = latest.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let newest = latest.borrow_and_update().clone();
                    if !self.offer(&newest, &tx).await {
                        break;
                    }
                }
                msg = inbound.message() => match msg {
                    Ok(Some(NodeMessage { msg: Some(m) })) => {
                        heard = tokio::time::Instant::now();
                        self.on_message(m).await;
                    }
                    Ok(Some(_)) => heard = tokio::time::Instant::now(),
                    Ok(None) | Err(_) => break,
                },
                () = tokio::time::sleep_until(heard + LIVENESS) => {
                    tracing::warn!(node = %self.node_id, "Node silent for a heartbeat interval; closing its stream.");
                    break;
                }
                _ = heartbeat.tick() => {
                    let hb = pb::Heartbeat { unix_ms: crate::store::now_ms() };
                    let m = ControlMessage { msg: Some(control_message::Msg::Heartbeat(hb)) };
                    if tx.send(Ok(m)).await.is_err() {
                        break;
                    }
                }
            }
        }
        self.gone().await;
    }

    async fn gone(&self) {
        tracing::info!(node = %self.node_id, "Node disconnected.");
        if let Err(e) = self
            .store
            .node_disconnected(&self.node_id, &self.session)
            .await
        {
            tracing::warn!(error = %e, "Recording a disconnect failed.");
        }
    }

    /// Sends `newest` unless the node runs it, was just offered it, or refused it. False when
    /// the stream is gone.
    async fn offer(
        &mut self,
        newest: &Option<std::sync::Arc<crate::publisher::Published>>,
        tx: &mpsc::Sender<Result<ControlMessage, Status>>,
    ) -> bool {
        let Some(p) = newest else { return true };
        let runs_it = self.held.0 == p.version && self.held.1 == p.sha256;
        if runs_it || self.offered == Some(p.version) || self.refused == Some(p.version) {
            return true;
        }
        self.offered = Some(p.version);
        let snapshot = pb::Snapshot {
            version: u64::try_from(p.version).unwrap_or(0),
            sha256: p.sha256.clone(),
            body: p.body.as_ref().clone(),
            committed_unix_ms: p.committed_unix_ms,
        };
        let m = ControlMessage {
            msg: Some(control_message::Msg::Snapshot(snapshot)),
        };
        tx.send(Ok(m)).await.is_ok()
    }

    async fn on_message(&mut self, m: node_message::Msg) {
        let result = match m {
            node_message::Msg::Heartbeat(_) => {
                self.store.node_seen(&self.node_id, &self.session).await
            }
            node_message::Msg::Hello(_) => Ok(()),
            node_message::Msg::Status(s) => {
                let version = i64::try_from(s.version).unwrap_or(0);
                match State::try_from(s.state) {
                    Ok(State::Active) => {
                        self.held = (version, s.sha256.clone());
                        self.store
                            .node_active(&self.node_id, version, &s.sha256)
                            .await
                    }
                    Ok(State::Nack) => {
                        tracing::warn!(node = %self.node_id, version, reason = %s.message, "Node refused a version.");
                        self.refused = Some(version);
                        // A node's report is recorded, not refused: stray control characters
                        // are replaced (PostgreSQL cannot store NUL).
                        let nack = Nack {
                            version,
                            build: self.build.clone(),
                            reason: scrub(&s.message),
                            violations: s
                                .violations
                                .into_iter()
                                .map(|v| NackViolation {
                                    path: scrub(&v.path),
                                    message: scrub(&v.message),
                                })
                                .collect(),
                        };
                        self.store.node_nack(&self.node_id, &nack).await
                    }
                    // RECEIVED and ACK are progress on the way to ACTIVE or NACK: not worth a
                    // write each (with a thousand nodes they would queue behind each other).
                    _ => {
                        tracing::debug!(node = %self.node_id, version, state = s.state, "Node status.");
                        Ok(())
                    }
                }
            }
        };
        if let Err(e) = result {
            tracing::warn!(node = %self.node_id, error = %e, "Recording node status failed.");
        }
    }
}
