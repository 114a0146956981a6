//! The fleet view's `connected` over real gRPC streams: a node that stops talking, a node a
//! dead replica left marked connected, and a node that reconnected before its old stream ended.

use std::time::{Duration, Instant};

use bfe_controlplane::grpc::{NodeAuth, services};
use bfe_controlplane::publisher::Publisher;
use bfe_proto::discovery::v1::discovery_client::DiscoveryClient;
use bfe_proto::discovery::v1::{Heartbeat, Hello, NodeMessage, node_message};
use tokio::sync::mpsc;

use crate::support::*;

/// The nodes' heartbeat interval (the data plane sends one every 10 s).
const HEARTBEAT: Duration = Duration::from_secs(10);

/// A node's end of one discovery stream over a real socket; dropping it closes the stream.
pub struct FakeNode {
    tx: mpsc::Sender<NodeMessage>,
    _inbound: tonic::Streaming<bfe_proto::discovery::v1::ControlMessage>,
}

impl FakeNode {
    pub async fn connect(addr: std::net::SocketAddr, id: &str) -> Self {
        let mut client = DiscoveryClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");
        let (tx, rx) = mpsc::channel(8);
        let hello = Hello {
            node_id: id.to_owned(),
            build: "test".to_owned(),
            ..Default::default()
        };
        tx.send(NodeMessage {
            msg: Some(node_message::Msg::Hello(hello)),
        })
        .await
        .expect("hello");
        let inbound = client
            .stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .expect("stream")
            .into_inner();
        Self {
            tx,
            _inbound: inbound,
        }
    }

    async fn heartbeat(&self) {
        let hb = Heartbeat { unix_ms: 0 };
        self.tx
            .send(NodeMessage {
                msg: Some(node_message::Msg::Heartbeat(hb)),
            })
            .await
            .expect("heartbeat");
    }
}

/// The discovery service over `h`'s store on a loopback port.
async fn serve_discovery(h: &Harness) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let publisher = Publisher::spawn(h.store.clone(), None);
    let (discovery, _stats) = services(h.store.clone(), publisher, NodeAuth::new(None));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(discovery)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}

async fn connected(h: &Harness) -> std::collections::BTreeMap<String, bool> {
    let r = h.get("/api/v1/nodes").await;
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["node_id"].as_str().expect("id").to_owned(),
                n["connected"].as_bool().expect("bool"),
            )
        })
        .collect()
}

/// Polls `$ok` until it holds; fails when `$within` passed first.
macro_rules! wait_until {
    ($what:expr, $within:expr, $ok:expr) => {{
        let start = Instant::now();
        while !$ok {
            assert!(
                start.elapsed() < $within,
                "{}: not within {:?}",
                $what,
                $within
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }};
}

both_stores! {
    async fn connected_follows_live_streams_within_one_heartbeat(h) {
        let addr = serve_discovery(&h).await;
        // A crashed replica left this row behind: connected, last heard just now.
        h.store.node_hello("ghost", &Default::default(), "test").await.expect("row");
        let hung = FakeNode::connect(addr, "hung").await; // says hello, then nothing
        let live = FakeNode::connect(addr, "live").await;
        let twice = FakeNode::connect(addr, "twice").await;
        wait_until!("three nodes connected", Duration::from_secs(5), {
            let c = connected(&h).await;
            ["hung", "live", "twice"].iter().all(|n| c.get(*n) == Some(&true))
        });

        // `twice` reconnects (a new stream, maybe to another replica) before its old stream
        // ends: the old stream's end must not mark it disconnected.
        let again = FakeNode::connect(addr, "twice").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(twice);
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(connected(&h).await.get("twice"), Some(&true), "a reconnected node stays connected");

        // The live nodes keep the real cadence; the hung node and the ghost fall silent. Both
        // must show disconnected once a heartbeat is overdue (interval + 2 s grace), not 35 s.
        let beat = tokio::spawn(async move {
            loop {
                live.heartbeat().await;
                again.heartbeat().await;
                tokio::time::sleep(HEARTBEAT).await;
            }
        });
        let start = Instant::now();
        wait_until!("the silent nodes shown disconnected", HEARTBEAT + Duration::from_secs(4), {
            let c = connected(&h).await;
            c.get("hung") == Some(&false) && c.get("ghost") == Some(&false)
        });
        let c = connected(&h).await;
        assert_eq!(c.get("live"), Some(&true), "a node on the heartbeat cadence stays connected: {c:?}");
        assert_eq!(c.get("twice"), Some(&true), "{c:?}");
        assert!(start.elapsed() >= HEARTBEAT - Duration::from_secs(2), "not before a heartbeat is due");
        beat.abort();
        drop(hung);
    }
}
