//! WebSocket (HTTP/1.1 Upgrade): routed by tenant and cluster like any request, with request
//! modules applied before the upgrade; the backend's 101 turns the connection into a byte
//! pipe both ways, closed after the idle timeout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bfe_dataplane::proxy_protocol::Mode;
use bfe_dataplane::settings::Limits;
use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo backend: answers an Upgrade with 101 (echoing what it saw in headers), then
/// echoes every byte; a request without Upgrade gets 426.
async fn ws_echo(name: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let svc = service_fn(
                    move |mut req: http::Request<hyper::body::Incoming>| async move {
                        let mut res = http::Response::new(Empty::<Bytes>::new());
                        let Some(upgrade) = req.headers().get("upgrade").cloned() else {
                            *res.status_mut() = http::StatusCode::UPGRADE_REQUIRED;
                            return Ok::<_, Infallible>(res);
                        };
                        let seen = req.headers().get("x-module").cloned();
                        let key = req.headers().get("sec-websocket-key").cloned();
                        let method = req.method().clone();
                        let on = hyper::upgrade::on(&mut req);
                        tokio::spawn(async move {
                            if let Ok(up) = on.await {
                                let mut io = TokioIo::new(up);
                                let mut buf = [0u8; 1024];
                                while let Ok(n) = io.read(&mut buf).await {
                                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        });
                        *res.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
                        let h = res.headers_mut();
                        h.insert("upgrade", upgrade);
                        h.insert("connection", http::HeaderValue::from_static("upgrade"));
                        h.insert("x-backend", http::HeaderValue::from_static(name));
                        if let Some(v) = seen {
                            h.insert("x-seen-module", v);
                        }
                        if let Some(v) = key {
                            h.insert("x-seen-key", v);
                        }
                        h.insert("x-seen-method", method.as_str().parse().unwrap());
                        Ok(res)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

fn config(ws: SocketAddr, plain: SocketAddr) -> String {
    format!(
        r#"
tenants:
  - name: t
    hosts: [a.test]
    routes:
      advanced:
        - {{ condition: 'req_path_prefix_in("/ws", false)', cluster: ws }}
        - {{ condition: "default_t()", cluster: plain }}
    modules:
      header: [{{ condition: 'default_t()', actions: [{{ cmd: REQ_HEADER_SET, params: [X-Module, applied] }}] }}]
clusters:
  - {{ name: ws, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{ws}" }}] }}] }}
  - {{ name: plain, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{plain}" }}] }}] }}
"#
    )
}

const HANDSHAKE: &str = "HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

/// Sends the handshake for `path`; returns the response head and the open stream.
async fn upgrade(addr: SocketAddr, path: &str) -> (String, TcpStream) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} {HANDSHAKE}").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    (String::from_utf8_lossy(&head).to_lowercase(), s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_is_routed_modules_run_and_bytes_flow_both_ways() {
    let ws = ws_echo("ws-echo").await;
    let plain = Origin::start("plain").await;
    let limits = Limits {
        upgrade_idle_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let proxy = TestProxy::start_listeners(&config(ws, plain.addr), limits, false, Mode::Off).await;
    let (head, mut s) = upgrade(proxy.addr, "/ws/chat").await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    assert!(head.contains("connection: upgrade"), "{head}");
    assert!(head.contains("x-backend: ws-echo"), "{head}");
    // The tenant's header module ran before the upgrade.
    assert!(head.contains("x-seen-module: applied"), "{head}");

    // A masked WebSocket text frame "hello", echoed back byte for byte, several times.
    let frame = [
        0x81,
        0x85,
        1,
        2,
        3,
        4,
        b'h' ^ 1,
        b'e' ^ 2,
        b'l' ^ 3,
        b'l' ^ 4,
        b'o' ^ 1,
    ];
    for _ in 0..3 {
        s.write_all(&frame).await.unwrap();
        let mut back = [0u8; 11];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut back))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back, frame);
    }
    // Idle: closed after the upgrade idle timeout.
    let started = Instant::now();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed by the idle timeout")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() >= Duration::from_millis(400));

    // A backend that does not switch: its answer passes through, no pipe.
    let (head, _) = upgrade(proxy.addr, "/plain").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_tls() {
    use bfe_tests::tls_util::{TestCa, yaml_block};
    let ca = TestCa::new("Wss");
    let leaf = ca.server("a.test", &["a.test"]);
    let ws = ws_echo("wss-echo").await;
    let plain = Origin::start("plain").await;
    let config = format!(
        "{}certificates:\n  - name: a\n    cert_pem: {}    key_pem: {}tls:\n  default_certificate: a\n",
        config(ws, plain.addr),
        yaml_block(&leaf.chain_pem, 6),
        yaml_block(&leaf.key_pem, 6),
    );
    let proxy = TestProxy::start_tls(&config).await;
    let tcp = TcpStream::connect(proxy.https.unwrap()).await.unwrap();
    let mut s = tokio_rustls::TlsConnector::from(ca.client_config(&["http/1.1"], None))
        .connect(
            rustls::pki_types::ServerName::try_from("a.test").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    s.write_all(format!("GET /ws {HANDSHAKE}").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut byte))
            .await
            .unwrap()
            .unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("x-backend: wss-echo"), "{head}");
    s.write_all(b"over tls").await.unwrap();
    let mut back = [0u8; 8];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"over tls");
    drop(s);
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_http2_extended_connect() {
    use bfe_tests::tls_util::{TestCa, yaml_block};
    let ca = TestCa::new("H2ws");
    let leaf = ca.server("a.test", &["a.test"]);
    let ws = ws_echo("h2-ws-echo").await;
    let plain = Origin::start("plain").await;
    let config = format!(
        "{}certificates:\n  - name: a\n    cert_pem: {}    key_pem: {}tls:\n  default_certificate: a\n",
        config(ws, plain.addr),
        yaml_block(&leaf.chain_pem, 6),
        yaml_block(&leaf.key_pem, 6),
    );
    let proxy = TestProxy::start_tls(&config).await;
    let tcp = TcpStream::connect(proxy.https.unwrap()).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(ca.client_config(&["h2"], None))
        .connect(
            rustls::pki_types::ServerName::try_from("a.test").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    let (client, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    // The server's SETTINGS allow extended CONNECT (RFC 8441).
    for _ in 0..50 {
        if client.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(client.is_extended_connect_protocol_enabled());
    let mut req = http::Request::builder()
        .method("CONNECT")
        .uri("https://a.test/ws/h2")
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from("websocket"));
    let (res, mut send) = client.send_request(req, false).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(5), res)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-backend"], "h2-ws-echo");
    assert_eq!(res.headers()["x-seen-module"], "applied");
    assert!(!res.headers().contains_key("sec-websocket-accept"));
    // The backend got an HTTP/1.1 GET with a fresh 16-byte key.
    assert_eq!(res.headers()["x-seen-method"], "GET");
    assert_eq!(res.headers()["x-seen-key"].len(), 24);
    let mut body = res.into_body();
    for msg in [&b"first"[..], b"second"] {
        send.send_data(Bytes::from_static(msg), false).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), body.data())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let _ = body.flow_control().release_capacity(got.len());
        assert_eq!(&got[..], msg);
    }
    send.send_data(Bytes::new(), true).unwrap();
    proxy.shutdown().await;
}
