//! Backends over HTTP/2 and TLS: gRPC through the proxy (client over h2c) to a tonic backend
//! over h2c and over h2 with TLS (ALPN), status trailers intact, errors included; an HTTPS
//! (HTTP/1.1 over TLS) backend verified by a CA bundle, refused by a wrong one, accepted with
//! `insecure_skip_verify`.

use std::net::SocketAddr;
use std::sync::Arc;

use bfe_proto::stats::v1::stats_client::StatsClient;
use bfe_proto::stats::v1::stats_server::{Stats, StatsServer};
use bfe_proto::stats::v1::{Ack, Batch};
use bfe_tests::proxy::TestProxy;
use bfe_tests::tls_util::{Leaf, TestCa, yaml_block};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tower_service::Service as _;

struct Backend(&'static str);

#[tonic::async_trait]
impl Stats for Backend {
    async fn report(
        &self,
        req: tonic::Request<Batch>,
    ) -> Result<tonic::Response<Ack>, tonic::Status> {
        let batch = req.into_inner();
        if batch.node_id == "refuse" {
            return Err(tonic::Status::permission_denied(format!(
                "{} says no",
                self.0
            )));
        }
        Ok(tonic::Response::new(Ack {
            sequence: batch.sequence,
            stored: true,
        }))
    }
}

fn server_tls(leaf: &Leaf, alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(leaf.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    Arc::new(config)
}

/// A tonic Stats service over HTTP/2: cleartext, or TLS with ALPN h2 when `tls` is given.
async fn grpc_backend(name: &'static str, tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = StatsServer::new(Backend(name));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (svc, tls) = (svc.clone(), tls.clone());
            tokio::spawn(async move {
                let hyper_svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let mut svc = svc.clone();
                    async move { svc.call(req).await }
                });
                let builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                let _ = match tls {
                    Some(config) => {
                        let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await
                        else {
                            return;
                        };
                        builder
                            .serve_connection(TokioIo::new(stream), hyper_svc)
                            .await
                    }
                    None => builder.serve_connection(TokioIo::new(tcp), hyper_svc).await,
                };
            });
        }
    });
    addr
}

/// An HTTPS (HTTP/1.1 over TLS) backend answering `secure:<path>`.
async fn https_backend(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let config = config.clone();
            tokio::spawn(async move {
                let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await else {
                    return;
                };
                let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(
                        format!("secure:{}", req.uri().path()),
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn cluster(name: &str, addr: SocketAddr, protocol: &str, tls: &str) -> String {
    // Active probes on every cluster: over TLS for https and h2 (a cleartext probe would
    // take them down).
    let health = "    health: { mode: active, fall: 1, rise: 1, interval_ms: 50, kind: tcp }\n";
    let health = if protocol == "https" {
        health.replace("kind: tcp", "kind: http, path: /health")
    } else {
        health.to_owned()
    };
    format!(
        "  - name: {name}\n    protocol: {protocol}\n{tls}{health}    sub_clusters:\n      - {{ name: s, weight: 1, backends: [{{ addr: \"{addr}\" }}] }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_h2c_and_h2_tls_backends_keeps_status_trailers() {
    let ca = TestCa::new("Backends");
    let other_ca = TestCa::new("Other");
    let leaf = ca.server("backend.internal", &["backend.internal"]);
    let h2c = grpc_backend("h2c-backend", None).await;
    let h2 = grpc_backend("tls-backend", Some(server_tls(&leaf, &[b"h2"]))).await;
    // One backend per cluster: health is shared by address, whichever cluster lists it.
    let https = https_backend(server_tls(&leaf, &[b"http/1.1"])).await;
    let https_2 = https_backend(server_tls(&leaf, &[b"http/1.1"])).await;
    let https_3 = https_backend(server_tls(&leaf, &[b"http/1.1"])).await;
    let tls_ok = format!(
        "    tls:\n      sni: backend.internal\n      ca_pem: {}",
        yaml_block(&ca.root_pem(), 8)
    );
    let tls_wrong = format!(
        "    tls:\n      sni: backend.internal\n      ca_pem: {}",
        yaml_block(&other_ca.root_pem(), 8)
    );
    let tls_insecure = "    tls: { insecure_skip_verify: true }\n";
    let config = format!(
        r#"
default_tenant: t
tenants:
  - name: t
    hosts: [grpc.test]
    routes:
      advanced:
        - {{ condition: 'req_header_value_in("x-backend", "tls", false)', cluster: h2 }}
        - {{ condition: 'req_path_prefix_in("/https/", false)', cluster: https }}
        - {{ condition: 'req_path_prefix_in("/wrong/", false)', cluster: wrong }}
        - {{ condition: 'req_path_prefix_in("/insecure/", false)', cluster: insecure }}
        - {{ condition: "default_t()", cluster: h2c }}
clusters:
{}{}{}{}{}"#,
        cluster("h2c", h2c, "h2c", ""),
        cluster("h2", h2, "h2", &tls_ok),
        cluster("https", https, "https", &tls_ok),
        cluster("wrong", https_2, "https", &tls_wrong),
        cluster("insecure", https_3, "https", tls_insecure),
    );
    let proxy = TestProxy::start(&config).await;
    // Several probe rounds pass first.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut client = StatsClient::connect(format!("http://{}", proxy.addr))
        .await
        .unwrap();
    for backend in ["h2c", "tls"] {
        let mut req = tonic::Request::new(Batch {
            node_id: "n1".into(),
            sequence: 7,
            ..Batch::default()
        });
        req.metadata_mut()
            .insert("x-backend", backend.parse().unwrap());
        let ack = client.report(req).await.unwrap().into_inner();
        assert_eq!(
            ack,
            Ack {
                sequence: 7,
                stored: true
            },
            "{backend}"
        );

        let mut req = tonic::Request::new(Batch {
            node_id: "refuse".into(),
            ..Batch::default()
        });
        req.metadata_mut()
            .insert("x-backend", backend.parse().unwrap());
        let status = client.report(req).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied, "{backend}");
        let who = if backend == "tls" {
            "tls-backend"
        } else {
            "h2c-backend"
        };
        assert_eq!(status.message(), format!("{who} says no"));
    }

    // HTTPS backends: verified by the right CA, refused (502) by a wrong one, accepted blind.
    for (path, status, body) in [
        ("/https/a", 200, Some("secure:/https/a")),
        // The probes fail verification too: the backend is down (503) or the attempt
        // fails (502), never served.
        ("/wrong/a", 0, None),
        ("/insecure/a", 200, Some("secure:/insecure/a")),
    ] {
        let res = bfe_tests::raw::get(proxy.addr, "grpc.test", path).await;
        if status == 0 {
            assert!([502, 503].contains(&res.status), "{path}: {}", res.status);
        } else {
            assert_eq!(res.status, status, "{path}: {}", res.body_str());
        }
        if let Some(b) = body {
            assert_eq!(res.body_str(), b);
        }
    }
    proxy.shutdown().await;
}

#[test]
fn backend_tls_settings_are_checked() {
    let raw = bfe_config::RawSnapshot::parse(
        r#"
clusters:
  - name: a
    protocol: http
    tls: { insecure_skip_verify: true }
    sub_clusters: [{ name: s, weight: 1, backends: [{ addr: "127.0.0.1:1" }] }]
  - name: b
    protocol: h2
    tls: { ca_pem: "nonsense", client_certificate: nope }
    sub_clusters: [{ name: s, weight: 1, backends: [{ addr: "127.0.0.1:1" }] }]
"#,
    )
    .unwrap();
    let text = bfe_config::compile(&raw).unwrap_err().to_string();
    for needle in [
        "clusters[0].tls: only for protocol https or h2",
        "clusters[1].tls.ca_pem: no CERTIFICATE block in PEM",
        "clusters[1].tls.client_certificate: unknown certificate 'nope'",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}
