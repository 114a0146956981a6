//! Stream mode: TLS-terminated TCP proxying chosen by ALPN `stream` or by a rule's mandatory
//! protocol, routed by SNI to the rule's cluster, with an optional PROXY header towards the
//! backend; a raw TCP echo backend.

use std::net::SocketAddr;
use std::time::Duration;

use bfe_dataplane::proxy_protocol::{self, Mode};
use bfe_tests::proxy::TestProxy;
use bfe_tests::tls_util::{TestCa, yaml_block};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Echo backend: reads an optional PROXY header, writes `src=<client>\n` (or `src=none\n`),
/// then echoes.
async fn echo_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok((header, mut io)) =
                    proxy_protocol::accept(tcp, Mode::Optional, 512, Duration::from_secs(2)).await
                else {
                    return;
                };
                let src = header
                    .and_then(|h| h.addrs)
                    .map_or("none".to_owned(), |(s, _)| s.to_string());
                if io
                    .write_all(format!("src={src}\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let mut buf = [0u8; 1024];
                while let Ok(n) = io.read(&mut buf).await {
                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn read_line<S: AsyncReadExt + Unpin>(s: &mut S) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut b))
        .await
        .unwrap()
        .is_ok()
    {
        if b[0] == b'\n' {
            break;
        }
        out.push(b[0]);
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_mode_by_mandatory_rule_and_by_alpn() {
    let ca = TestCa::new("Stream");
    let leaf = ca.server("stream.test", &["stream.test", "mixed.test"]);
    let echo = echo_backend().await;
    let config = format!(
        r#"
tenants:
  - name: t
    hosts: [mixed.test]
    routes:
      advanced:
        - {{ condition: "default_t()", cluster: echo }}
clusters:
  - {{ name: echo, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{echo}" }}] }}] }}
certificates:
  - name: s
    cert_pem: {}    key_pem: {}tls:
  rules:
    - name: forced
      certificate: s
      sni: [stream.test]
      mandatory_protocol: stream
      stream: {{ cluster: echo, proxy_protocol: 2 }}
    - name: mixed
      certificate: s
      sni: [mixed.test]
      alpn: [h2, http/1.1, stream]
      stream: {{ cluster: echo }}
"#,
        yaml_block(&leaf.chain_pem, 6),
        yaml_block(&leaf.key_pem, 6),
    );
    let proxy = TestProxy::start_tls(&config).await;
    let https = proxy.https.unwrap();
    let connect = |alpn: &'static [&'static str], host: &'static str| {
        let config = ca.client_config(alpn, None);
        async move {
            let tcp = TcpStream::connect(https).await.unwrap();
            let local = tcp.local_addr().unwrap();
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(rustls::pki_types::ServerName::try_from(host).unwrap(), tcp)
                .await
                .unwrap();
            (tls, local)
        }
    };

    // Mandatory stream, no ALPN from the client; the backend learns the client by PROXY v2.
    let (mut s, local) = connect(&[], "stream.test").await;
    assert_eq!(read_line(&mut s).await, format!("src={local}"));
    for msg in ["ping\n", "pong\n"] {
        s.write_all(msg.as_bytes()).await.unwrap();
        assert_eq!(format!("{}\n", read_line(&mut s).await), msg);
    }

    drop(s);
    // Chosen by ALPN; no PROXY header for this rule.
    let (mut s, _) = connect(&["stream"], "mixed.test").await;
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"stream"[..]));
    // (The backend waits for the first bytes to know there is no PROXY header.)
    s.write_all(b"hello\n").await.unwrap();
    assert_eq!(read_line(&mut s).await, "src=none");
    assert_eq!(read_line(&mut s).await, "hello");

    drop(s);
    // The same rule still speaks HTTP to an HTTP client: the echo backend sees the request.
    let (mut s, _) = connect(&["http/1.1"], "mixed.test").await;
    s.write_all(b"GET / HTTP/1.1\r\nHost: mixed.test\r\n\r\n")
        .await
        .unwrap();
    // The echo backend is not HTTP: the proxy answers for it (502), it never splices.
    let line = read_line(&mut s).await;
    assert!(line.starts_with("HTTP/1.1 502"), "{line}");
    drop(s);
    // Closed streams end their splices: the drain does not wait for its deadline.
    let started = std::time::Instant::now();
    proxy.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
}
