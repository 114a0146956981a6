//! The `controlplane` binary: first start prints the bootstrap token once, it serves on the
//! address it logs, it stops gracefully on SIGTERM, and a restart does not print a token again.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::fleet::FakeNode;
use crate::support::PgDb;

const DEADLINE: Duration = Duration::from_secs(60);

struct Running {
    child: Child,
    addr: String,
    grpc: std::net::SocketAddr,
    token: Option<String>,
    /// Everything the process logged.
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The task copying stderr into `log`; it ends when the process closes stderr.
    drain: tokio::task::JoinHandle<()>,
}

/// Starts the binary and waits for its listening address (and the token, if it prints one).
async fn start(args: &[&str], database_url: Option<&str>) -> Running {
    // Under the usual umask, which would leave new files world-readable.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "umask 022 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_controlplane"),
    ])
    .args(["--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"])
    .args(args)
    .env_remove("BFE_BOOTSTRAP_TOKEN")
    .env("RUST_LOG", "info")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    match database_url {
        Some(u) => cmd.env("DATABASE_URL", u),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let mut child = cmd.spawn().expect("spawn controlplane");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut token = None;
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut addr = None;
    let grpc = tokio::time::timeout(DEADLINE, async {
        loop {
            tokio::select! {
                line = stdout.next_line() => {
                    let line = line.expect("read").expect("stdout open");
                    if let Some(t) = line.strip_prefix("bootstrap admin token (shown once): ") {
                        token = Some(t.to_owned());
                    }
                }
                line = stderr.next_line() => {
                    let line = line.expect("read").expect("stderr open before listening");
                    log.lock().expect("log").push_str(&line);
                    let logged = || {
                        let a = line.split("addr=").nth(1).expect("addr field");
                        a.split_whitespace().next().expect("addr").to_owned()
                    };
                    if line.contains("REST API listening") {
                        addr = Some(logged());
                    }
                    if line.contains("gRPC (discovery, statistics) listening") {
                        break logged().parse().expect("gRPC address");
                    }
                }
            }
        }
    })
    .await
    .expect("listening in time");
    let addr = addr.expect("the REST address is logged first");
    // The token line is printed before the listener starts; drain what is already there.
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_millis(200), stdout.next_line()).await
    {
        if let Some(t) = line.strip_prefix("bootstrap admin token (shown once): ") {
            token = Some(t.to_owned());
        }
    }
    let sink = log.clone();
    let drain = tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            sink.lock().expect("log").push_str(&line);
        }
    });
    Running {
        child,
        addr,
        grpc,
        token,
        log,
        drain,
    }
}

async fn status_of(addr: &str, path: &str, token: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: cp\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out.lines().next().unwrap_or_default().to_owned()
}

/// Sends SIGTERM and waits for a clean exit; returns everything the process logged.
async fn stop(mut r: Running) -> String {
    let pid = r.child.id().expect("pid");
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("kill");
    assert!(ok.success());
    let status = tokio::time::timeout(DEADLINE, r.child.wait())
        .await
        .expect("graceful shutdown in time")
        .expect("wait");
    assert!(status.success(), "exit status {status}");
    tokio::time::timeout(DEADLINE, r.drain)
        .await
        .expect("stderr closed")
        .expect("drain task");
    let log = r.log.lock().expect("log").clone();
    assert!(log.contains("Shutting down."), "{log}");
    if let Some(t) = &r.token {
        assert!(!log.contains(t.as_str()), "the token is in the log");
    }
    log
}

async fn check(args: &[&str], database_url: Option<&str>) {
    let first = start(args, database_url).await;
    let token = first
        .token
        .clone()
        .expect("first start prints a bootstrap token");
    assert!(token.starts_with("bfe_") && token.len() == 68);
    assert_eq!(
        status_of(&first.addr, "/api/v1/tenants", &token).await,
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        status_of(&first.addr, "/api/v1/tenants", "bfe_wrong").await,
        "HTTP/1.1 401 Unauthorized"
    );
    stop(first).await;

    let second = start(args, database_url).await;
    assert_eq!(second.token, None, "the token is shown once");
    assert_eq!(
        status_of(&second.addr, "/api/v1/audit", &token).await,
        "HTTP/1.1 200 OK"
    );
    stop(second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    check(&["--data-dir", data], None).await;
    assert!(dir.path().join("data/controlplane.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_on_postgres() {
    let db = PgDb::create().await;
    let url = db.url.clone();
    let result = tokio::spawn(async move { check(&[], Some(&url)).await }).await;
    db.drop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// SIGTERM with nodes connected: the streams end (their disconnects recorded while the store is
/// still open), nothing retries against a closed pool, and the process does not sit out the
/// gRPC server's 5 s drain fallback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_nodes_connected_stops_promptly_and_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cp = start(&["--data-dir", data.to_str().expect("utf-8 path")], None).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        nodes.push(FakeNode::connect(cp.grpc, id).await);
    }
    let log = cp.log.clone();
    let deadline = std::time::Instant::now() + DEADLINE;
    while log.lock().expect("log").matches("Node connected.").count() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "nodes did not connect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The store holds private keys: owner-only, WAL and SHM included, despite umask 022
    // (checked at the end; the WAL and SHM files are gone after a clean stop).
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: std::path::PathBuf| {
        std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let files = [
        "",
        "controlplane.db",
        "controlplane.db-wal",
        "controlplane.db-shm",
    ];
    let modes: Vec<u32> = files.iter().map(|f| mode(data.join(f))).collect();
    let stopping = std::time::Instant::now();
    let log = stop(cp).await;
    let took = stopping.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "shutdown took {took:?}: {log}"
    );
    for noise in ["will retry", "closed pool", "PoolClosed", "failed"] {
        assert!(!log.contains(noise), "{noise:?} logged at shutdown: {log}");
    }
    assert_eq!(log.matches("Node disconnected.").count(), 3, "{log}");
    let store = bfe_controlplane::Store::open_sqlite(&data.join("controlplane.db"))
        .await
        .expect("reopen");
    for id in ["n1", "n2", "n3"] {
        let node = store.node(id).await.expect("read").expect("node row");
        assert!(!node.connected, "{id} is recorded disconnected");
    }
    store.close().await;
    drop(nodes);
    assert_eq!(modes, [0o700, 0o600, 0o600, 0o600], "modes of {files:?}");
}
