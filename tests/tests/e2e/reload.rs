//! Hot reload in standalone mode: a changed file is picked up and bumps the generation, an
//! invalid file is refused while the old snapshot keeps serving, 200 swaps under keep-alive load
//! drop no request; and against the real binary, SIGHUP reloads and SIGTERM drains.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{RawResponse, get, parse_responses, read_until_quiet};

use super::check_cli::dataplane_bin;

const HOST: &str = "reload.example";

/// A running `dataplane` process on a temporary config; killed when dropped.
struct Dataplane {
    child: tokio::process::Child,
    config: PathBuf,
    log: PathBuf,
    http: SocketAddr,
    admin: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Where the per-client load loop ended up.
#[derive(Debug, Default)]
struct LoadStats {
    ok: u64,
    failed: u64,
    backends: std::collections::BTreeSet<String>,
    first_failures: Vec<String>,
}

// === helpers ===

async fn admin_get(admin: SocketAddr, path: &str) -> RawResponse {
    tokio::time::timeout(Duration::from_secs(5), get(admin, "admin", path))
        .await
        .expect("admin answers within 5 s")
}

async fn generation(admin: SocketAddr) -> u64 {
    let res = admin_get(admin, "/config").await;
    assert_eq!(res.status, 200, "{}", res.body_str());
    res.json()["generation"]
        .as_u64()
        .unwrap_or_else(|| panic!("no generation in /config: {}", res.body_str()))
}

/// The value of one exact series (`name{labels}`) in Prometheus text; 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

async fn invalid_reloads(admin: SocketAddr) -> f64 {
    let res = admin_get(admin, "/metrics").await;
    metric(
        &res.body_str(),
        r#"bfe_config_reloads_total{result="invalid"}"#,
    )
}

/// Polls until a request to `addr` is answered by `backend`; false after `within`.
async fn wait_backend(addr: SocketAddr, backend: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let res = tokio::time::timeout(Duration::from_secs(2), get(addr, HOST, "/")).await;
        if let Ok(res) = res
            && res.status == 200
            && res.json()["backend"] == backend
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// One tenant on [`HOST`] routing everything to `backends`; `label` becomes the `version`, so
/// configs with labels of different lengths also differ in size.
fn config_for(label: &str, backends: &[SocketAddr]) -> String {
    format!("version: {label}\n{}", simple_config(&[HOST], backends, ""))
}

/// Sends GETs over one keep-alive HTTP/1.1 connection until `stop`; reconnects after a failure.
async fn load_client(addr: SocketAddr, stop: Arc<AtomicBool>) -> LoadStats {
    let mut stats = LoadStats::default();
    let mut sender = None;
    while !stop.load(Ordering::Relaxed) {
        let s = match sender.as_mut() {
            Some(s) => s,
            None => {
                let stream = TcpStream::connect(addr).await.expect("connect to proxy");
                let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("h1 handshake");
                tokio::spawn(conn);
                sender.insert(s)
            }
        };
        let req = http::Request::get("/load")
            .header(http::header::HOST, HOST)
            .body(Empty::<Bytes>::new())
            .expect("request");
        let outcome = async {
            s.ready().await.map_err(|e| format!("not ready: {e}"))?;
            let res = s
                .send_request(req)
                .await
                .map_err(|e| format!("send: {e}"))?;
            let status = res.status();
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("body: {e}"))?
                .to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            match (status.as_u16(), json["backend"].as_str()) {
                (200, Some(b)) => Ok(b.to_owned()),
                _ => Err(format!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&body)
                )),
            }
        }
        .await;
        match outcome {
            Ok(backend) => {
                stats.ok += 1;
                stats.backends.insert(backend);
            }
            Err(e) => {
                stats.failed += 1;
                if stats.first_failures.len() < 5 {
                    stats.first_failures.push(e);
                }
                sender = None;
            }
        }
    }
    stats
}

// === impl Dataplane ===

impl Dataplane {
    async fn spawn(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("snapshot.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let ready = dir.path().join("ready.json");
        let log = dir.path().join("stderr.log");
        let child = tokio::process::Command::new(dataplane_bin())
            .arg("--config")
            .arg(&config_path)
            .args(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
            .args(["--shutdown-timeout", "5"])
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn dataplane");
        let mut dp = Self {
            child,
            config: config_path,
            log,
            http: "0.0.0.0:0".parse().expect("literal"),
            admin: "0.0.0.0:0".parse().expect("literal"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break text;
            }
            if let Ok(Some(status)) = dp.child.try_wait() {
                panic!("dataplane exited early ({status}):\n{}", dp.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "no ready file within 10 s:\n{}",
                dp.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("ready file is JSON");
        dp.http = v["http"][0]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("http address in the ready file");
        dp.admin = v["admin"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("admin address in the ready file");
        dp
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("child still running");
        let status = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} {pid} failed");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Replaces `path` with `text` (write a temporary file, rename) keeping its size and
/// modification time: what two writes within one file-system timestamp tick look like to a
/// poll of (mtime, size). `text` must be as long as the file.
fn replace_keeping_stamp(path: &Path, text: &str) {
    let old_len = std::fs::metadata(path).expect("config metadata").len();
    assert_eq!(old_len, text.len() as u64, "same size required");
    let tmp = path.with_extension("swap");
    std::fs::write(&tmp, text).expect("write config");
    let touched = std::process::Command::new("touch")
        .arg("-r")
        .arg(path)
        .arg(&tmp)
        .status()
        .expect("run touch");
    assert!(touched.success(), "touch -r failed");
    std::fs::rename(&tmp, path).expect("rename config");
}

/// Pads the shorter of two YAML documents (each ending in a newline) with a trailing comment
/// line so both have the same size.
fn same_size(a: String, b: String) -> (String, String) {
    assert!(a.ends_with('\n') && b.ends_with('\n'));
    let pad = |s: String, n: usize| format!("{s}#{}", " ".repeat(n - 1));
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Equal => (a, b),
        std::cmp::Ordering::Less => {
            let n = b.len() - a.len();
            (pad(a, n), b)
        }
        std::cmp::Ordering::Greater => {
            let n = a.len() - b.len();
            (a, pad(b, n))
        }
    }
}

// === tests ===

#[tokio::test]
async fn changed_file_routes_to_the_new_origin_and_bumps_the_generation() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let proxy = TestProxy::start(&config_for("first", &[a.addr])).await;
    assert!(wait_backend(proxy.addr, "a", Duration::from_secs(2)).await);
    let before = generation(proxy.admin).await;

    proxy.write_config(&config_for("second-config", &[b.addr]));
    assert!(
        wait_backend(proxy.addr, "b", Duration::from_secs(2)).await,
        "the new origin serves within 2 s"
    );
    let after = generation(proxy.admin).await;
    assert!(after > before, "generation {before} → {after}");
    assert_eq!(after, proxy.generation(), "/config shows the running one");
    let hits_a = a.hits();
    for _ in 0..5 {
        assert_eq!(get(proxy.addr, HOST, "/").await.json()["backend"], "b");
    }
    assert_eq!(
        a.hits(),
        hits_a,
        "the old origin gets nothing after the swap"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn invalid_file_is_refused_and_the_old_snapshot_keeps_serving() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let proxy = TestProxy::start(&config_for("first", &[a.addr])).await;
    let before = generation(proxy.admin).await;
    let invalid_before = invalid_reloads(proxy.admin).await;

    // A bad condition and an unknown cluster: both violations, nothing installed.
    let invalid = format!(
        r#"
tenants:
  - name: t
    hosts: ["{HOST}"]
    routes:
      advanced:
        - {{ condition: 'req_hots_in("x")', cluster: c }}
        - {{ condition: 'default_t()', cluster: nowhere }}
clusters:
  - {{ name: c, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{}" }}] }}] }}
"#,
        b.addr
    );
    proxy.write_config(&invalid);
    let deadline = Instant::now() + Duration::from_secs(2);
    while invalid_reloads(proxy.admin).await <= invalid_before {
        assert!(
            Instant::now() < deadline,
            "the invalid file was not attempted within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        invalid_reloads(proxy.admin).await,
        invalid_before + 1.0,
        "one refused attempt counted"
    );
    assert_eq!(generation(proxy.admin).await, before, "nothing installed");
    for _ in 0..5 {
        let res = get(proxy.addr, HOST, "/").await;
        assert_eq!(res.status, 200, "{}", res.body_str());
        assert_eq!(res.json()["backend"], "a", "the old snapshot keeps serving");
    }
    assert_eq!(b.hits(), 0);

    // A valid file afterwards is picked up again.
    proxy.write_config(&config_for("second-config", &[b.addr]));
    assert!(
        wait_backend(proxy.addr, "b", Duration::from_secs(2)).await,
        "a valid file after an invalid one is installed"
    );
    assert!(generation(proxy.admin).await > before);
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_swaps_under_keepalive_load_drop_no_request() {
    const SWAPS: u64 = 200;
    const CLIENTS: usize = 3;
    let a = Origin::start("a").await;
    let (b, c) = (Origin::start("b").await, Origin::start("c").await);
    // Different shapes (one backend, then two) so that state carried across swaps is exercised.
    let configs = [
        config_for("one", &[a.addr]),
        config_for("two", &[b.addr, c.addr]),
    ];
    let proxy = TestProxy::start(&configs[0]).await;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(load_client(proxy.addr, stop.clone())))
        .collect();

    let swaps = tokio::time::timeout(Duration::from_secs(90), async {
        let mut g = proxy.generation();
        for i in 1..=SWAPS {
            proxy.write_config(&configs[(i % 2) as usize]);
            g += 1;
            if !proxy.wait_generation(g, Duration::from_secs(2)).await {
                return Err(format!("swap {i}: generation {g} not reached within 2 s"));
            }
            // Let some requests run on each snapshot.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut total = LoadStats::default();
    let mut per_client = Vec::new();
    for c in clients {
        let s = tokio::time::timeout(Duration::from_secs(10), c)
            .await
            .expect("client stops within 10 s")
            .expect("client task");
        total.ok += s.ok;
        total.failed += s.failed;
        total
            .first_failures
            .extend(s.first_failures.iter().cloned());
        per_client.push(s);
    }
    swaps
        .expect("200 swaps within 90 s")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        total.failed,
        0,
        "failed requests out of {}: {:?}",
        total.ok + total.failed,
        total.first_failures
    );
    assert!(
        total.ok >= 1000,
        "too little load to prove anything: {} requests",
        total.ok
    );
    assert_eq!(proxy.generation(), 1 + SWAPS);
    // Each keep-alive connection saw both snapshots: the snapshot is taken per request.
    for (i, s) in per_client.iter().enumerate() {
        assert!(
            s.backends.contains("a") && (s.backends.contains("b") || s.backends.contains("c")),
            "client {i} saw only {:?} over {} requests",
            s.backends,
            s.ok
        );
    }
    assert_eq!(
        a.hits() + b.hits() + c.hits(),
        total.ok,
        "one origin hit per request"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn sighup_reloads_the_config_and_the_process_survives() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let second = config_for("second", &[b.addr]);
    let dp = Dataplane::spawn(&config_for("first", &[a.addr])).await;
    assert!(
        wait_backend(dp.http, "a", Duration::from_secs(2)).await,
        "{}",
        dp.log_text()
    );
    let before = generation(dp.admin).await;

    // The 500 ms poll sees every change too (its stamp includes inode and ctime), so the log
    // line is what proves the signal was handled; the generation proves one install, not two.
    std::fs::write(dp.config.with_extension("new"), &second).expect("write config");
    std::fs::rename(dp.config.with_extension("new"), &dp.config).expect("rename config");
    dp.signal("HUP");
    assert!(
        wait_backend(dp.http, "b", Duration::from_secs(2)).await,
        "SIGHUP reloads within 2 s:\n{}",
        dp.log_text()
    );
    assert_eq!(
        generation(dp.admin).await,
        before + 1,
        "exactly one install"
    );
    assert!(
        dp.log_text().contains("SIGHUP: reloading configuration"),
        "{}",
        dp.log_text()
    );
    let mut dp = dp;
    assert!(
        dp.child.try_wait().expect("try_wait").is_none(),
        "the process survives SIGHUP:\n{}",
        dp.log_text()
    );
    // A SIGHUP with nothing changed installs nothing.
    dp.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(generation(dp.admin).await, before + 1, "unchanged file");
    assert_eq!(get(dp.http, HOST, "/").await.json()["backend"], "b");

    dp.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), dp.child.wait())
        .await
        .expect("exits within 10 s after SIGTERM")
        .expect("wait");
    assert!(status.success(), "{status}:\n{}", dp.log_text());
}

#[tokio::test]
async fn sigterm_drains_the_in_flight_request_then_exits_zero() {
    let slow = Origin::start("slow").await;
    let mut dp = Dataplane::spawn(&config_for("slow", &[slow.addr])).await;
    assert!(
        wait_backend(dp.http, "slow", Duration::from_secs(2)).await,
        "{}",
        dp.log_text()
    );
    let hits = slow.hits();

    // A keep-alive request that takes 1.5 s at the origin.
    let mut conn = TcpStream::connect(dp.http).await.expect("connect");
    conn.write_all(format!("GET /delay/1500 HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let in_flight = tokio::spawn(async move {
        let (bytes, closed) = read_until_quiet(&mut conn, Duration::from_secs(8)).await;
        (parse_responses(&bytes), closed)
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while slow.hits() == hits {
        assert!(Instant::now() < deadline, "the slow request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    dp.signal("TERM");
    // New connections are refused while the slow request is still running.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match TcpStream::connect(dp.http).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            other => {
                drop(other);
                assert!(
                    Instant::now() < deadline,
                    "still accepting connections 1 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    assert!(
        !in_flight.is_finished(),
        "the listener closed before the in-flight request finished"
    );
    let ready = admin_get(dp.admin, "/readyz").await;
    assert_eq!(ready.status, 503, "/readyz reports the drain");

    let (responses, closed) = tokio::time::timeout(Duration::from_secs(8), in_flight)
        .await
        .expect("in-flight request finishes")
        .expect("reader task");
    assert_eq!(responses.len(), 1, "{responses:?}");
    let res = &responses[0];
    assert_eq!(res.status, 200, "{}", res.body_str());
    assert_eq!(res.json()["backend"], "slow");
    assert_eq!(
        res.header("connection").map(str::to_ascii_lowercase),
        Some("close".to_owned()),
        "the drained response says Connection: close: {:?}",
        res.headers
    );
    assert!(closed, "the proxy closes the connection after the response");

    let status = tokio::time::timeout(Duration::from_secs(8), dp.child.wait())
        .await
        .expect("exits within the drain deadline")
        .expect("wait");
    assert!(status.success(), "{status}:\n{}", dp.log_text());
}

// === regressions: both failed before d7c3a31 ("reload stamps include inode and ctime") ===

/// A change written after `start()` loaded the file but before the watcher task first ran
/// used to be lost: the watcher took its first stamp late. On a current-thread runtime the
/// watcher cannot run before this test writes, so the check is deterministic.
#[tokio::test]
async fn a_change_right_after_start_is_not_lost() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let proxy = TestProxy::start(&config_for("first", &[a.addr])).await;
    proxy.write_config(&config_for("second-config", &[b.addr]));
    assert!(
        wait_backend(proxy.addr, "b", Duration::from_secs(2)).await,
        "the file written right after start was never loaded (generation {})",
        proxy.generation()
    );
    proxy.shutdown().await;
}

/// Two same-size writes within one file-system timestamp tick leave (mtime, size) unchanged
/// (seen on ext4 here: an atomic replace 2 ms after the first write got the identical mtime to
/// the nanosecond). The file did change (new content, new inode), so it must be reloaded.
/// `touch -r` makes the identical mtime deterministic.
#[tokio::test]
async fn same_size_replace_with_an_unchanged_mtime_is_picked_up() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let (first, second) = same_size(
        config_for("first", &[a.addr]),
        config_for("second", &[b.addr]),
    );
    let proxy = TestProxy::start(&first).await;
    assert!(wait_backend(proxy.addr, "a", Duration::from_secs(2)).await);
    replace_keeping_stamp(&proxy.config_path, &second);
    assert!(
        wait_backend(proxy.addr, "b", Duration::from_secs(2)).await,
        "a replaced file with the same size and mtime was never reloaded (generation {})",
        proxy.generation()
    );
    proxy.shutdown().await;
}
