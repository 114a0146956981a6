//! WebSocket and other upgrades: recognising an upgrade request (HTTP/1.1 `Upgrade`, or an
//! HTTP/2 extended CONNECT per RFC 8441), shaping the backend request (always HTTP/1.1
//! Upgrade) and the client's answer (101, or 200 on HTTP/2), and splicing the two upgraded
//! connections once the backend said 101. Bytes and headers only: routing happened before,
//! in the pipeline.

use std::time::Duration;

use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version, request, response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::http::timed_io::InFlight;

/// What an upgrade request asked for.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The `Upgrade` value (e.g. `websocket`) to send on.
    pub protocol: HeaderValue,
    /// Asked by an HTTP/2 extended CONNECT (RFC 8441): the backend gets a GET with Upgrade
    /// and the client a 200.
    pub over_h2: bool,
}

/// An upgrade request and the client side of the connection to take over.
pub struct UpgradeRequest {
    pub asked: Asked,
    pub client: OnUpgrade,
}

/// Takes the upgrade out of an HTTP/1.1 request with `Connection: upgrade` and `Upgrade`, or
/// out of an HTTP/2 CONNECT with a `:protocol`.
pub fn take(parts: &mut request::Parts) -> Option<UpgradeRequest> {
    if parts.version == Version::HTTP_2 && parts.method == Method::CONNECT {
        let protocol = parts.extensions.get::<hyper::ext::Protocol>()?;
        let protocol = HeaderValue::from_str(protocol.as_str()).ok()?;
        let client = parts.extensions.remove::<OnUpgrade>()?;
        return Some(UpgradeRequest {
            asked: Asked {
                protocol,
                over_h2: true,
            },
            client,
        });
    }
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
    Some(UpgradeRequest {
        asked: Asked {
            protocol,
            over_h2: false,
        },
        client,
    })
}

/// The backend request's upgrade headers (after the hop-by-hop strip). An HTTP/2 client
/// sent no `Sec-WebSocket-Key`; the backend needs one.
pub fn to_backend(headers: &mut HeaderMap, asked: &Asked) {
    restore(headers, &asked.protocol);
    if asked.over_h2 && !headers.contains_key(SEC_WEBSOCKET_KEY) {
        let key: [u8; 16] = rand::random();
        if let Ok(v) = HeaderValue::from_str(&base64(&key)) {
            headers.insert(SEC_WEBSOCKET_KEY, v);
        }
    }
}

/// The client's answer to the backend's 101: the same on HTTP/1.1, a 200 on HTTP/2.
pub fn to_client(res: &mut response::Parts, asked: &Asked, protocol: &HeaderValue) {
    if asked.over_h2 {
        res.status = StatusCode::OK;
        res.headers.remove(SEC_WEBSOCKET_ACCEPT);
    } else {
        restore(&mut res.headers, protocol);
    }
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    #[test]
    fn base64_encodes_with_padding() {
        assert_eq!(super::base64(b"hello"), "aGVsbG8=");
        assert_eq!(super::base64(b"hi"), "aGk=");
        assert_eq!(super::base64(b"abc"), "YWJj");
        assert_eq!(super::base64(&[0u8; 16]).len(), 24);
    }
}
