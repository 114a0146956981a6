//! Health probes: TCP connect, or an HTTP/1.1 GET whose status must be in the expected set.

use std::sync::Arc;

use bfe_config::cluster::{HealthCheck, HealthKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::state::{BackendState, Outcome};

/// Probes `state`'s backend every interval. `always`: forever (active mode); otherwise until
/// the backend is healthy again (BFE's passive recovery).
pub(super) async fn run(state: Arc<BackendState>, check: HealthCheck, always: bool) {
    let mut tick = tokio::time::interval(check.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let outcome =
            match tokio::time::timeout(check.timeout, probe_once(&state.id.0, &check)).await {
                Ok(true) => Outcome::Success,
                Ok(false) | Err(_) => Outcome::Failure,
            };
        let went_down = state.record(outcome, check.fall, check.rise);
        if went_down {
            tracing::warn!(backend = %state.id.0, "Backend failed its health checks; marked down.");
        }
        if !always && state.is_healthy() {
            return;
        }
    }
}

async fn probe_once(addr: &str, check: &HealthCheck) -> bool {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return false;
    };
    match &check.tls {
        None => probe_http(stream, addr, check).await,
        Some(settings) => {
            // HTTP/1.1 over TLS; an HTTP/2 backend proves itself by the handshake (ALPN h2).
            static CLIENTS: std::sync::OnceLock<crate::upstream::tls::TlsClients> =
                std::sync::OnceLock::new();
            let clients = CLIENTS.get_or_init(Default::default);
            let (Ok(config), Ok(name)) = (
                clients.config(settings, settings.h2),
                crate::upstream::tls::server_name(settings, addr),
            ) else {
                return false;
            };
            match tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await
            {
                Ok(_) if settings.h2 => true,
                Ok(tls) => probe_http(tls, addr, check).await,
                Err(_) => false,
            }
        }
    }
}

async fn probe_http<S>(mut stream: S, addr: &str, check: &HealthCheck) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match check.kind {
        HealthKind::Tcp => true,
        HealthKind::Http => {
            let host = check.host.as_deref().unwrap_or(addr);
            let req = format!(
                "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bfe-health-check\r\nConnection: close\r\n\r\n",
                check.path
            );
            if stream.write_all(req.as_bytes()).await.is_err() {
                return false;
            }
            // The status line is all we need: "HTTP/1.1 200 ...".
            let mut buf = [0u8; 64];
            let mut n = 0;
            while n < 12 {
                match stream.read(&mut buf[n..]).await {
                    Ok(0) | Err(_) => return false,
                    Ok(k) => n += k,
                }
            }
            let line = &buf[..n];
            line.starts_with(b"HTTP/1.")
                && std::str::from_utf8(&line[9..12])
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
                    .is_some_and(|code| check.expect_status.contains(code))
        }
    }
}
