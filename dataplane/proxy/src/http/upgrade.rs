//! HTTP/1.1 Upgrade (WebSocket): recognising an upgrade request, keeping the headers a
//! proxy must pass for it, and splicing the two upgraded connections once the backend said
//! 101. Bytes and headers only: routing happened before, in the pipeline.

use std::time::Duration;

use http::header::{CONNECTION, UPGRADE};
use http::{HeaderMap, HeaderValue, Version, request};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::http::timed_io::InFlight;

/// What an upgrade request asked for, and the client side of the connection to take over.
pub struct UpgradeRequest {
    /// The `Upgrade` value (e.g. `websocket`) to send on.
    pub protocol: HeaderValue,
    pub client: OnUpgrade,
}

/// Takes the upgrade out of an HTTP/1.1 request with `Connection: upgrade` and `Upgrade`.
/// HTTP/2 requests never carry one (RFC 9113 §8.2.2).
pub fn take(parts: &mut request::Parts) -> Option<UpgradeRequest> {
    if parts.version != Version::HTTP_11 {
        return None;
    }
    let asks = parts
        .headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let protocol = parts.headers.get(UPGRADE)?.clone();
    if !asks {
        return None;
    }
    let client = parts.extensions.remove::<OnUpgrade>()?;
    Some(UpgradeRequest { protocol, client })
}

/// Puts `Connection: upgrade` and `Upgrade: protocol` back after the hop-by-hop strip.
pub fn restore(headers: &mut HeaderMap, protocol: &HeaderValue) {
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, protocol.clone());
}

/// Once both sides switched, copies bytes both ways until either closes or nothing moves for
/// `idle`. `in_flight` keeps the client connection's between-requests timer off meanwhile.
pub fn splice(client: OnUpgrade, backend: OnUpgrade, idle: Duration, in_flight: InFlight) {
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let (client, backend) = match tokio::try_join!(client, backend) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "Upgrade did not complete.");
                return;
            }
        };
        match crate::stream::splice(TokioIo::new(client), TokioIo::new(backend), idle).await {
            Ok((up, down)) => tracing::debug!(up, down, "Upgraded connection closed."),
            Err(e) => tracing::debug!(error = %e, "Upgraded connection ended."),
        }
    });
}
