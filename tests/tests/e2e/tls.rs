//! HTTPS: certificate choice (exact SNI, wildcard, default), TLS 1.2 and 1.3 with curl,
//! ALPN and resumption with openssl s_client, HTTP/2 over TLS with curl and h2load, SNI facts
//! in routing, mutual TLS with a CRL, and a certificate swap under load.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bfe_tests::tls_util::{Leaf, TestCa, write, yaml_block};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

/// The certificates and files one test uses.
struct Certs {
    ca: TestCa,
    exact: Leaf,
    wild: Leaf,
    default: Leaf,
    dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl Certs {
    fn new() -> Self {
        let ca = TestCa::new("Test");
        let dir = tempfile::tempdir().unwrap();
        let root = write(dir.path(), "root.pem", &ca.root_pem());
        Self {
            exact: ca.server("exact.test", &["exact.test"]),
            wild: ca.server("wild.test", &["*.wild.test"]),
            default: ca.server("default.test", &["other.test", "localhost"]),
            ca,
            dir,
            root,
        }
    }
}

fn cert_entry(name: &str, leaf: &Leaf) -> String {
    format!(
        "  - name: {name}\n    cert_pem: {}    key_pem: {}",
        yaml_block(&leaf.chain_pem, 6),
        yaml_block(&leaf.key_pem, 6)
    )
}

/// Tenant `t` (default tenant) routes `ses_tls_sni_in("exact.test")` to cluster `sni` on
/// `sni_origin`, everything else to cluster `c` on `origin`; `tls` is the `tls:` section.
fn config(certs: &Certs, origin: SocketAddr, sni_origin: SocketAddr, tls: &str) -> String {
    format!(
        r#"
default_tenant: t
tenants:
  - name: t
    hosts: [exact.test, a.wild.test, other.test]
    routes:
      advanced:
        - {{ condition: 'ses_tls_sni_in("exact.test") && req_proto_secure()', cluster: sni }}
        - {{ condition: "default_t()", cluster: c }}
clusters:
  - name: c
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{{ addr: "{origin}" }}] }}
  - name: sni
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{{ addr: "{sni_origin}" }}] }}
certificates:
{}
{}
{}
tls:
{tls}
"#,
        cert_entry("exact", &certs.exact),
        cert_entry("wild", &certs.wild),
        cert_entry("default", &certs.default),
    )
}

const RULES: &str = r#"  default_certificate: default
  rules:
    - { name: exact, certificate: exact, sni: [exact.test] }
    - { name: wild, certificate: wild, sni: ["*.wild.test"] }
    - { name: h1only, certificate: exact, sni: [h1.exact.test], mandatory_protocol: http/1.1 }
"#;

async fn curl(args: &[&str]) -> (String, String, bool) {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        Command::new("curl").args(args).output(),
    )
    .await
    .expect("curl finished in time")
    .expect("curl is installed (scripts/test.sh installs it)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

async fn openssl(args: &[&str]) -> String {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("openssl finished in time")
    .expect("openssl is installed (scripts/test.sh installs it)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn resolve(host: &str, addr: SocketAddr) -> String {
    format!("{host}:{}:{}", addr.port(), addr.ip())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_tls12_and_tls13_get_exact_wildcard_and_default_certificates() {
    let certs = Certs::new();
    let origin = Origin::start("plain").await;
    let sni_origin = Origin::start("by-sni").await;
    let proxy = TestProxy::start_tls(&config(&certs, origin.addr, sni_origin.addr, RULES)).await;
    let https = proxy.https.unwrap();
    let root = certs.root.to_str().unwrap();
    let cases = [
        ("exact.test", "CN=exact.test", "by-sni"),
        ("a.wild.test", "CN=wild.test", "plain"),
        ("other.test", "CN=default.test", "plain"),
    ];
    for versions in [&["--tlsv1.2", "--tls-max", "1.2"][..], &["--tlsv1.3"][..]] {
        let expect_version = if versions.len() == 3 {
            "TLSv1.2"
        } else {
            "TLSv1.3"
        };
        for (host, subject, backend) in cases {
            let url = format!("https://{host}:{}/hello", https.port());
            let res = resolve(host, https);
            let mut args = vec!["-sv", "--http1.1", "--max-time", "10", "--cacert", root];
            args.extend_from_slice(versions);
            args.extend_from_slice(&["--resolve", &res, &url]);
            let (body, log, ok) = curl(&args).await;
            assert!(ok, "curl {host} {expect_version} failed: {log}");
            assert!(
                log.contains(&format!("subject: {subject}")),
                "{host}: {log}"
            );
            assert!(
                log.contains(&format!("SSL connection using {expect_version}")),
                "{log}"
            );
            assert!(
                body.contains(&format!("\"backend\":\"{backend}\"")),
                "{host}: {body}"
            );
            assert!(body.contains("\"x-forwarded-proto\":\"https\""), "{body}");
        }
    }
    // The same host over cleartext HTTP is not secure and carries no SNI: the plain cluster.
    let (body, _, ok) = curl(&[
        "-s",
        "-H",
        "Host: exact.test",
        &format!("http://{}/hello", proxy.addr),
    ])
    .await;
    assert!(ok && body.contains("\"backend\":\"plain\""), "{body}");
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_shows_alpn_mandatory_protocol_and_resumption() {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start_tls(&config(&certs, origin.addr, origin.addr, RULES)).await;
    let connect = proxy.https.unwrap().to_string();
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "exact.test",
        "-alpn",
        "h2,http/1.1",
    ])
    .await;
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    assert!(
        out.contains("CN = exact.test") || out.contains("CN=exact.test"),
        "{out}"
    );

    // Mandatory http/1.1: chosen over h2, and a client offering only h2 is refused.
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "h1.exact.test",
        "-alpn",
        "h2,http/1.1",
    ])
    .await;
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "h1.exact.test",
        "-alpn",
        "h2",
    ])
    .await;
    assert!(!out.contains("ALPN protocol"), "{out}");
    assert!(
        out.to_lowercase().contains("no application protocol") || out.contains("alert"),
        "{out}"
    );

    // Resumption over TLS 1.2: `-reconnect` reconnects five times with the first session.
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "exact.test",
        "-tls1_2",
        "-reconnect",
    ])
    .await;
    let reused = out.matches("Reused, TLSv1.2").count();
    assert!(reused >= 4, "{reused} resumed handshakes\n{out}");
    // Without tickets: the server-side session cache (session ids).
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "exact.test",
        "-tls1_2",
        "-no_ticket",
        "-reconnect",
    ])
    .await;
    let reused = out.matches("Reused, TLSv1.2").count();
    assert!(
        reused >= 4,
        "session cache: {reused} resumed handshakes\n{out}"
    );

    // TLS 1.3 (s_client leaves before the tickets arrive; rustls as the client reads them).
    let client = certs.ca.resuming_client_config(&["http/1.1"]);
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let tcp = TcpStream::connect(proxy.https.unwrap()).await.unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(client.clone())
            .connect(
                rustls::pki_types::ServerName::try_from("exact.test").unwrap(),
                tcp,
            )
            .await
            .unwrap();
        tls.write_all(b"GET / HTTP/1.1\r\nHost: exact.test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        assert!(out.starts_with(b"HTTP/1.1 200"));
        let conn = tls.get_ref().1;
        assert_eq!(
            conn.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        kinds.push(conn.handshake_kind());
    }
    assert_eq!(kinds[0], Some(rustls::HandshakeKind::Full));
    assert_eq!(kinds[1..], [Some(rustls::HandshakeKind::Resumed); 2]);

    // Handshakes are counted by result, version and protocol.
    let metrics = bfe_tests::raw::get(proxy.admin, "x", "/metrics")
        .await
        .body_str();
    for needle in [
        r#"bfe_tls_handshakes_total{result="resumed",version="TLSv1.3",protocol="http/1.1"} 2"#,
        r#"bfe_tls_handshakes_total{result="full",version="TLSv1.3",protocol="h2"}"#,
        r#"bfe_tls_handshakes_total{result="resumed",version="TLSv1.2",protocol="http/1.1"}"#,
        r#"bfe_tls_handshakes_total{result="error",version="",protocol=""}"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_over_tls_with_curl_and_h2load() {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start_tls(&config(&certs, origin.addr, origin.addr, RULES)).await;
    let https = proxy.https.unwrap();
    let url = format!("https://exact.test:{}/h2", https.port());
    let (body, log, ok) = curl(&[
        "-s",
        "--http2",
        "--max-time",
        "10",
        "--cacert",
        certs.root.to_str().unwrap(),
        "--resolve",
        &resolve("exact.test", https),
        "-w",
        "\n%{http_version} %{http_code}",
        &url,
    ])
    .await;
    assert!(ok, "{log}");
    assert!(body.ends_with("\n2 200"), "{body}");
    assert!(body.contains("\"x-forwarded-proto\":\"https\""), "{body}");

    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new("h2load")
            .args(["-n", "400", "-c", "8", "-m", "10"])
            .arg(format!("https://127.0.0.1:{}/load", https.port()))
            .output(),
    )
    .await
    .expect("h2load finished in time")
    .expect("h2load is installed (scripts/test.sh installs nghttp2-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Application protocol: h2"), "{text}");
    assert!(
        text.contains("400 succeeded, 0 failed, 0 errored"),
        "{text}"
    );
    proxy.shutdown().await;
}

/// One HTTPS GET on a fresh connection; returns the served leaf certificate.
async fn get_once(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    host: &'static str,
) -> Result<Vec<u8>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or("no certificate")?;
    tls.write_all(
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    if !out.starts_with(b"HTTP/1.1 200") {
        return Err(format!("response: {}", String::from_utf8_lossy(&out)));
    }
    Ok(leaf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_swap_under_load_fails_no_handshake() {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let second = certs
        .ca
        .server("default-2.test", &["other.test", "localhost"]);
    let first_config = config(&certs, origin.addr, origin.addr, RULES);
    let proxy = TestProxy::start_tls(&first_config).await;
    let https = proxy.https.unwrap();
    let client = certs.ca.client_config(&["http/1.1"], None);

    // An established connection, to check the swap leaves it alone.
    let tcp = TcpStream::connect(https).await.unwrap();
    let mut kept = tokio_rustls::TlsConnector::from(client.clone())
        .connect(
            rustls::pki_types::ServerName::try_from("other.test").unwrap(),
            tcp,
        )
        .await
        .unwrap();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let mut workers = Vec::new();
    for _ in 0..6 {
        let (stop, ok, failed, seen, client) = (
            stop.clone(),
            ok.clone(),
            failed.clone(),
            seen.clone(),
            client.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match get_once(https, client.clone(), "other.test").await {
                    Ok(leaf) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        seen.lock().unwrap().insert(leaf);
                    }
                    Err(e) => {
                        eprintln!("failed: {e}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let swapped = first_config.replace(
        &cert_entry("default", &certs.default),
        &cert_entry("default", &second),
    );
    assert_ne!(swapped, first_config);
    let generation = proxy.generation();
    proxy.write_config(&swapped);
    assert!(
        proxy
            .wait_generation(generation + 1, Duration::from_secs(5))
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "{failed} failed of {}", ok + failed);
    assert!(ok > 20, "only {ok} handshakes");
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "both certificates were served"
    );
    // The new certificate is what a new connection gets now.
    let leaf = get_once(https, client, "other.test").await.unwrap();
    let second_der = rustls::pki_types::CertificateDer::from_pem_slice(second.cert_pem.as_bytes());
    use rustls::pki_types::pem::PemObject as _;
    assert_eq!(leaf, second_der.unwrap().as_ref());

    // The connection made before the swap still works.
    kept.write_all(b"GET / HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), kept.read_to_end(&mut out)).await;
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_accepts_good_client_and_refuses_missing_or_revoked() {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let good = certs.ca.client("good-client");
    let revoked = certs.ca.client("revoked-client");
    let crl = certs.ca.crl(&[revoked.serial]);
    let tls = format!(
        r#"  rules:
    - name: mtls
      certificate: exact
      sni: [exact.test]
      alpn: [http/1.1]
      client_auth:
        ca_name: test-ca
        ca_pem: {}        crl_pem:
          - {}"#,
        yaml_block(&certs.ca.bundle_pem(), 10),
        yaml_block(&crl, 12),
    );
    let cfg = config(&certs, origin.addr, origin.addr, &tls).replace(
        r#"ses_tls_sni_in("exact.test") && req_proto_secure()"#,
        r#"ses_tls_client_auth() && ses_tls_client_ca_in("test-ca")"#,
    );
    let proxy = TestProxy::start_tls(&cfg).await;
    let https = proxy.https.unwrap();
    let root = certs.root.to_str().unwrap();
    let dir = certs.dir.path();
    let url = format!("https://exact.test:{}/m", https.port());
    let res = resolve("exact.test", https);
    let with = |leaf: &Leaf, name: &str| {
        (
            write(dir, &format!("{name}.pem"), &leaf.chain_pem),
            write(dir, &format!("{name}.key"), &leaf.key_pem),
        )
    };
    let (gc, gk) = with(&good, "good");
    let (body, log, ok) = curl(&[
        "-sv",
        "--max-time",
        "10",
        "--cacert",
        root,
        "--resolve",
        &res,
        "--cert",
        gc.to_str().unwrap(),
        "--key",
        gk.to_str().unwrap(),
        &url,
    ])
    .await;
    assert!(ok, "{log}");
    // Routed by `ses_tls_client_auth() && ses_tls_client_ca_in("test-ca")`.
    assert!(body.contains("\"backend\":\"o\""), "{body}");

    let (_, log, ok) = curl(&[
        "-s",
        "--max-time",
        "10",
        "--cacert",
        root,
        "--resolve",
        &res,
        &url,
    ])
    .await;
    assert!(!ok, "no client certificate must be refused: {log}");
    let (rc, rk) = with(&revoked, "revoked");
    let (_, log, ok) = curl(&[
        "-s",
        "--max-time",
        "10",
        "--cacert",
        root,
        "--resolve",
        &res,
        "--cert",
        rc.to_str().unwrap(),
        "--key",
        rk.to_str().unwrap(),
        &url,
    ])
    .await;
    assert!(!ok, "a revoked client certificate must be refused: {log}");
    proxy.shutdown().await;
}

#[test]
fn unknown_certificates_and_bad_rules_are_violations_with_paths() {
    let raw = bfe_config::RawSnapshot::parse(
        r#"
clusters: []
tls:
  default_certificate: nope
  rules:
    - { name: a, certificate: missing, sni: ["*.x.test", "bad host"], vips: [not-an-ip] }
    - { name: b, certificate: missing, alpn: [stream] }
"#,
    )
    .unwrap();
    let errs = bfe_config::compile(&raw).unwrap_err();
    let text = errs.to_string();
    for needle in [
        "tls.default_certificate: unknown certificate 'nope'",
        "tls.rules[0].certificate: unknown certificate 'missing'",
        "tls.rules[0].sni[1]: invalid server name 'bad host'",
        "tls.rules[0].vips[0]: invalid IP address 'not-an-ip'",
        "tls.rules[1].stream: required when the rule can negotiate `stream`",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

async fn run(program: &str, args: &[&str], dir: &std::path::Path) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_response_is_stapled() {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let dir = certs.dir.path();
    // An OCSP response for the exact.test leaf, signed by its issuer, made by openssl.
    let (inter, inter_key) = certs.ca.intermediate_pem();
    write(dir, "inter.pem", &inter);
    write(dir, "inter.key", &inter_key);
    write(dir, "leaf.pem", &certs.exact.cert_pem);
    write(dir, "index.txt", "");
    run(
        "openssl",
        &[
            "ocsp",
            "-issuer",
            "inter.pem",
            "-cert",
            "leaf.pem",
            "-reqout",
            "req.der",
        ],
        dir,
    )
    .await;
    run(
        "openssl",
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "inter.pem",
            "-rkey",
            "inter.key",
            "-CA",
            "inter.pem",
            "-reqin",
            "req.der",
            "-respout",
            "resp.der",
            "-ndays",
            "1",
        ],
        dir,
    )
    .await;
    let b64 = run("openssl", &["base64", "-A", "-in", "resp.der"], dir).await;
    let b64 = String::from_utf8(b64).unwrap();
    let cfg = config(&certs, origin.addr, origin.addr, RULES).replacen(
        "  - name: exact\n",
        &format!("  - name: exact\n    ocsp_der_base64: \"{}\"\n", b64.trim()),
        1,
    );
    assert!(cfg.contains("ocsp_der_base64"));
    let proxy = TestProxy::start_tls(&cfg).await;
    let connect = proxy.https.unwrap().to_string();
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "exact.test",
        "-status",
    ])
    .await;
    assert!(out.contains("OCSP Response Status: successful"), "{out}");
    let out = openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "other.test",
        "-status",
    ])
    .await;
    assert!(out.contains("OCSP response: no response sent"), "{out}");
    proxy.shutdown().await;
}

/// A proxy with the test certificates in front of one origin, and a TLS connection to it for
/// `exact.test` that agreed on h2.
async fn h2_over_tls() -> (
    Origin,
    TestProxy,
    tokio_rustls::client::TlsStream<TcpStream>,
) {
    let certs = Certs::new();
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start_tls(&config(&certs, origin.addr, origin.addr, RULES)).await;
    let tcp = TcpStream::connect(proxy.https.unwrap()).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(certs.ca.client_config(&["h2"], None))
        .connect(
            rustls::pki_types::ServerName::try_from("exact.test").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    (origin, proxy, tls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_reset_closes_the_http2_connection() {
    // h2 over TLS, as an attacker's client would open it.
    let (origin, proxy, tls) = h2_over_tls().await;
    let (mut client, conn) = h2::client::handshake(tls).await.unwrap();
    let conn = tokio::spawn(conn);
    // Open and cancel streams as fast as possible (CVE-2023-44487).
    let mut sent = 0;
    for _ in 0..5000 {
        let req = http::Request::builder()
            .uri(format!("https://exact.test/delay/1000/x{sent}"))
            .body(())
            .unwrap();
        let Ok(ready) = client.clone().ready().await else {
            break;
        };
        client = ready;
        let Ok((_res, mut stream)) = client.send_request(req, true) else {
            break;
        };
        stream.send_reset(h2::Reason::CANCEL);
        sent += 1;
    }
    // The server gave up on the connection long before every stream was served.
    // (Without the limit all 5000 go through and the connection stays open.)
    assert!(sent < 5000, "sent {sent}");
    tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("the connection ends")
        .unwrap()
        .expect_err("closed with an error (GOAWAY)");
    assert!(
        origin.hits() < 1000,
        "{} requests reached the origin",
        origin.hits()
    );
    proxy.shutdown().await;
}

/// HTTP/2 over TLS writes through the same coalescing as cleartext HTTP/2, under the TLS
/// records: big bodies on many streams at once and a trickling one all arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_and_trickling_streams_over_tls_h2_arrive_whole() {
    use http_body_util::Full;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let (_origin, proxy, tls) = h2_over_tls().await;
    let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, Full<bytes::Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    crate::h2::big_beside_trickling(&sender, |path| {
        http::Request::builder()
            .uri(format!("https://exact.test{path}"))
            .body(Full::default())
            .unwrap()
    })
    .await;
    proxy.shutdown().await;
}
