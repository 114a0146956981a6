//! The `controlplane` binary: first start prints the bootstrap token once, it serves on the
//! address it logs, it stops gracefully on SIGTERM, and a restart does not print a token again.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::support::PgDb;

const DEADLINE: Duration = Duration::from_secs(60);

struct Running {
    child: Child,
    addr: String,
    token: Option<String>,
    /// Everything the process logged.
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The task copying stderr into `log`; it ends when the process closes stderr.
    drain: tokio::task::JoinHandle<()>,
}

/// Starts the binary and waits for its listening address (and the token, if it prints one).
async fn start(args: &[&str], database_url: Option<&str>) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_controlplane"));
    cmd.args(["--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"])
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
    let addr = tokio::time::timeout(DEADLINE, async {
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
                    if line.contains("REST API listening") {
                        let addr = line.split("addr=").nth(1).expect("addr field");
                        break addr.split_whitespace().next().expect("addr").to_owned();
                    }
                }
            }
        }
    })
    .await
    .expect("listening in time");
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

async fn stop(mut r: Running) {
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
