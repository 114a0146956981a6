//! PROXY protocol inbound: v1 and v2 headers supply the client address and the VIP (VIP
//! tenant routing, `req_vip_in`, VIP TLS rules); malformed, oversized and slow headers close
//! the connection; optional mode serves plain connections too.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bfe_config::tls::ProxyProtocolVersion;
use bfe_dataplane::proxy_protocol::{Mode, encode};
use bfe_dataplane::settings::Limits;
use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bfe_tests::raw::{parse_responses, read_until_quiet};
use bfe_tests::tls_util::{TestCa, yaml_block};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VIP_A: &str = "198.51.100.1";
const VIP_B: &str = "198.51.100.2";

/// Tenant `vip-tenant` owns VIP_B (no host needed); tenant `t` owns `a.test` and routes
/// `req_vip_in(VIP_A)` to `by-vip`, the rest to `plain`.
fn config(origin: SocketAddr, by_vip: SocketAddr, extra: &str) -> String {
    format!(
        r#"
tenants:
  - name: t
    hosts: [a.test]
    routes:
      advanced:
        - {{ condition: 'req_vip_in("{VIP_A}")', cluster: v }}
        - {{ condition: "default_t()", cluster: c }}
  - name: vip-tenant
    vips: ["{VIP_B}"]
    routes:
      advanced:
        - {{ condition: "default_t()", cluster: v }}
clusters:
  - name: c
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{{ addr: "{origin}" }}] }}
  - name: v
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{{ addr: "{by_vip}" }}] }}
{extra}
"#
    )
}

fn limits() -> Limits {
    Limits {
        proxy_header_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

async fn send(addr: SocketAddr, header: &[u8], request: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The proxy may close (even reset) before the request is written: that is an answer.
    if s.write_all(header).await.is_ok() {
        let _ = s.write_all(request).await;
    }
    read_until_quiet(&mut s, Duration::from_secs(3)).await
}

const GET_A: &[u8] = b"GET /pp HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_and_v2_headers_supply_client_and_vip() {
    let origin = Origin::start("plain").await;
    let by_vip = Origin::start("by-vip").await;
    let proxy = TestProxy::start_listeners(
        &config(origin.addr, by_vip.addr, ""),
        limits(),
        false,
        Mode::Required,
    )
    .await;
    let client: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    for version in [ProxyProtocolVersion::V1, ProxyProtocolVersion::V2] {
        // VIP_A: tenant by host, cluster by `req_vip_in`.
        let vip: SocketAddr = format!("{VIP_A}:80").parse().unwrap();
        let (out, _) = send(proxy.addr, &encode(version, client, vip), GET_A).await;
        let res = &parse_responses(&out)[0];
        assert_eq!(res.status, 200, "{version:?}");
        let body = res.json();
        assert_eq!(body["backend"], "by-vip", "{version:?}: {body}");
        assert_eq!(body["headers"]["x-real-ip"], "203.0.113.9", "{body}");
        // Another VIP: the plain cluster.
        let other: SocketAddr = "192.0.2.200:80".parse().unwrap();
        let (out, _) = send(proxy.addr, &encode(version, client, other), GET_A).await;
        assert_eq!(parse_responses(&out)[0].json()["backend"], "plain");
        // VIP_B: the VIP tenant, whatever the host.
        let vip: SocketAddr = format!("{VIP_B}:80").parse().unwrap();
        let (out, _) = send(
            proxy.addr,
            &encode(version, client, vip),
            b"GET / HTTP/1.1\r\nHost: unknown.test\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(parse_responses(&out)[0].json()["backend"], "by-vip");
    }
    // Required: a plain connection is closed without an answer.
    let (out, closed) = send(proxy.addr, b"", GET_A).await;
    assert!(
        out.is_empty() && closed,
        "{}",
        String::from_utf8_lossy(&out)
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_slow_headers_close_the_connection() {
    let origin = Origin::start("plain").await;
    let proxy = TestProxy::start_listeners(
        &config(origin.addr, origin.addr, ""),
        limits(),
        false,
        Mode::Optional,
    )
    .await;
    // Optional: plain connections are served.
    let (out, _) = send(proxy.addr, b"", GET_A).await;
    assert_eq!(parse_responses(&out)[0].status, 200);

    let mut oversized = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x08\x00".to_vec();
    oversized.extend(std::iter::repeat_n(0u8, 2048));
    let bad: [&[u8]; 4] = [
        b"PROXY TCP4 1.2.3.4 nonsense\r\n",
        b"PROXY TCP4 ::1 ::1 1 2\r\n",
        b"\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c",
        &oversized,
    ];
    for header in bad {
        let (out, closed) = send(proxy.addr, header, GET_A).await;
        assert!(out.is_empty() && closed, "{header:?} got {out:?}");
    }
    let long_v1 = format!("PROXY TCP4 {}\r\n", "1".repeat(200));
    let (out, closed) = send(proxy.addr, long_v1.as_bytes(), GET_A).await;
    assert!(out.is_empty() && closed);

    // Slow: half a header, then silence; closed after the header timeout.
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(b"PROXY TCP4 1.2").await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("closed within the timeout")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() >= Duration::from_millis(250));
    let metrics = bfe_tests::raw::get(proxy.admin, "x", "/metrics")
        .await
        .body_str();
    for needle in [
        r#"bfe_proxy_protocol_headers_total{result="absent"} 1"#,
        r#"bfe_proxy_protocol_headers_total{result="malformed"} 3"#,
        r#"bfe_proxy_protocol_headers_total{result="too_large"} 2"#,
        r#"bfe_proxy_protocol_headers_total{result="timeout"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_vip_picks_the_tls_rule_before_sni() {
    let ca = TestCa::new("PP");
    let by_sni = ca.server("sni.test", &["a.test"]);
    let by_vip = ca.server("vip.test", &["a.test"]);
    let origin = Origin::start("o").await;
    let extra = format!(
        "certificates:\n  - name: sni\n    cert_pem: {}    key_pem: {}  - name: vip\n    cert_pem: {}    key_pem: {}tls:\n  rules:\n    - {{ name: sni, certificate: sni, sni: [a.test] }}\n    - {{ name: vip, certificate: vip, vips: [\"{VIP_A}\"] }}\n",
        yaml_block(&by_sni.chain_pem, 6),
        yaml_block(&by_sni.key_pem, 6),
        yaml_block(&by_vip.chain_pem, 6),
        yaml_block(&by_vip.key_pem, 6),
    );
    let proxy = TestProxy::start_listeners(
        &config(origin.addr, origin.addr, &extra),
        limits(),
        true,
        Mode::Required,
    )
    .await;
    let https = proxy.https.unwrap();
    let client = ca.client_config(&["http/1.1"], None);
    for (vip, expect) in [(VIP_A, &by_vip), ("192.0.2.7", &by_sni)] {
        let mut tcp = TcpStream::connect(https).await.unwrap();
        let dst: SocketAddr = format!("{vip}:443").parse().unwrap();
        let src: SocketAddr = "203.0.113.9:1234".parse().unwrap();
        tcp.write_all(&encode(ProxyProtocolVersion::V2, src, dst))
            .await
            .unwrap();
        let tls = tokio_rustls::TlsConnector::from(client.clone())
            .connect(
                rustls::pki_types::ServerName::try_from("a.test").unwrap(),
                tcp,
            )
            .await
            .unwrap();
        let leaf = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        use rustls::pki_types::pem::PemObject as _;
        let want =
            rustls::pki_types::CertificateDer::from_pem_slice(expect.cert_pem.as_bytes()).unwrap();
        assert_eq!(leaf, want, "VIP {vip}");
    }
    proxy.shutdown().await;
}
