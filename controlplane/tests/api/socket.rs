//! One test over a real socket bound to 127.0.0.1:0.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

async fn raw_get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nhost: cp\r\n{auth}connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

both_stores! {
    async fn serves_over_a_real_socket(h) {
        h.seed().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = h.app.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async { let _ = rx.await; })
                .await
                .expect("serve");
        });
        let ok = raw_get(addr, "/api/v1/tenants/shop", Some(ADMIN)).await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(ok.to_ascii_lowercase().contains("etag: \"r1\""), "{ok}");
        assert!(ok.contains("www.shop.example"));
        let denied = raw_get(addr, "/api/v1/tenants", None).await;
        assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
        assert!(denied.contains("\"error\""));
        let doc = raw_get(addr, "/api/v1/openapi.json", None).await;
        assert!(doc.starts_with("HTTP/1.1 200") && doc.contains("\"openapi\""));
        let _ = tx.send(());
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("graceful shutdown in time")
            .expect("server task");
    }
}
