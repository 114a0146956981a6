//! Header hygiene between client and backend: hop-by-hop headers removed both ways (RFC 9110
//! §7.6.1) and the X-Forwarded-* family set on the way in.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// The hop-by-hop headers of RFC 9110 §7.6.1 (and the de-facto Proxy-Connection); TE is
/// handled on its own.
static HOP_BY_HOP: [&HeaderName; 8] = [
    &header::CONNECTION,
    &KEEP_ALIVE,
    &PROXY_CONNECTION,
    &header::PROXY_AUTHENTICATE,
    &header::PROXY_AUTHORIZATION,
    &header::TRAILER,
    &header::TRANSFER_ENCODING,
    &header::UPGRADE,
];

/// Where Connection sits in [`HOP_BY_HOP`].
const CONNECTION_AT: usize = 0;

/// Removes hop-by-hop headers, including those the Connection header names. `TE: trailers` is
/// kept on requests: gRPC needs it end to end.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, is_request: bool) {
    // One pass over the names first: a removal costs a hashed probe per name, and most
    // messages carry none of these headers, or only Connection.
    let mut present = [false; HOP_BY_HOP.len()];
    let mut te = false;
    for name in headers.keys() {
        if name == header::TE {
            te = true;
        } else if let Some(i) = HOP_BY_HOP.iter().position(|h| *h == name) {
            present[i] = true;
        }
    }
    if !te && !present.contains(&true) {
        return;
    }
    // Connection may name further headers to drop (`close` and `keep-alive` are the usual
    // tokens, and no header or one removed below anyway).
    if present[CONNECTION_AT] {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.eq_ignore_ascii_case("close") && !t.eq_ignore_ascii_case("keep-alive"))
            .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
            .collect();
        for name in named {
            if name != header::TE {
                headers.remove(&name);
            }
        }
    }
    for (name, _) in HOP_BY_HOP.iter().zip(present).filter(|(_, p)| *p) {
        headers.remove(*name);
    }
    if !te {
        return;
    }
    let te_trailers = is_request
        && headers
            .get_all(header::TE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("trailers"));
    headers.remove(header::TE);
    if te_trailers {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
}

/// What the backend learns about the client.
pub struct Forwarded<'a> {
    /// The client after trust logic: X-Real-IP.
    pub client_ip: IpAddr,
    /// The address this hop received the request from: appended to X-Forwarded-For (each
    /// proxy appends its own peer, so a trusted chain is not duplicated).
    pub peer: &'a PeerValues,
    pub secure: bool,
    pub host: Option<&'a HeaderValue>,
}

/// The forwarding header values that stay the same for a whole connection, rendered once.
#[derive(Debug, Clone)]
pub struct PeerValues {
    pub ip: IpAddr,
    /// `ip` as text.
    pub ip_value: HeaderValue,
    /// The local port the client connected to: X-Forwarded-Port.
    pub port_value: HeaderValue,
}

impl PeerValues {
    pub fn new(ip: IpAddr, local_port: u16) -> Self {
        Self {
            ip,
            ip_value: ip_value(ip),
            port_value: HeaderValue::from(local_port),
        }
    }
}

/// Appends the peer to X-Forwarded-For and sets X-Forwarded-Proto/-Host/-Port and X-Real-IP.
pub fn add_forwarded(headers: &mut HeaderMap, f: &Forwarded<'_>) {
    let peer = f.peer.ip_value.clone();
    let ip = if f.client_ip == f.peer.ip {
        peer.clone()
    } else {
        ip_value(f.client_ip)
    };
    let prev: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .collect();
    let xff = if prev.is_empty() {
        peer
    } else {
        HeaderValue::from_str(&format!("{}, {}", prev.join(", "), f.peer.ip)).unwrap_or(peer)
    };
    // Several XFF lines are joined into the one we write (insert replaces them all).
    headers.insert(X_FORWARDED_FOR.clone(), xff);
    headers.insert(X_REAL_IP.clone(), ip);
    headers.insert(
        X_FORWARDED_PROTO.clone(),
        HeaderValue::from_static(if f.secure { "https" } else { "http" }),
    );
    if let Some(host) = f.host
        && !headers.contains_key(&X_FORWARDED_HOST)
    {
        headers.insert(X_FORWARDED_HOST.clone(), host.clone());
    }
    headers.insert(X_FORWARDED_PORT.clone(), f.peer.port_value.clone());
}

fn ip_value(ip: IpAddr) -> HeaderValue {
    let mut buf = [0u8; IP_TEXT_MAX];
    // `from_maybe_shared` keeps one reference-counted buffer, so clones (X-Real-IP, later
    // requests of the connection) do not allocate again. An IP address always renders as a
    // valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::copy_from_slice(ip_text(ip, &mut buf)))
        .unwrap_or(HeaderValue::from_static("unknown"))
}

/// Room for the longest IP address text (IPv4-mapped IPv6: 45 bytes).
pub const IP_TEXT_MAX: usize = 64;

/// `ip` as text, rendered into `buf` without allocating.
pub fn ip_text(ip: IpAddr, buf: &mut [u8; IP_TEXT_MAX]) -> &[u8] {
    use std::io::Write as _;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let len = match write!(cursor, "{ip}") {
        Ok(()) => usize::try_from(cursor.position()).unwrap_or(0),
        Err(_) => 0,
    };
    &buf[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_connection_tokens_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::TE, HeaderValue::from_static("gzip, trailers"));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert("x-keep", HeaderValue::from_static("1"));
        assert_eq!(*HOP_BY_HOP[CONNECTION_AT], header::CONNECTION);
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h.get(header::TE).unwrap(), "trailers");
        assert!(h.contains_key("x-keep"));
    }

    #[test]
    fn forwarded_headers_append_and_set() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
        h.insert("x-real-ip", HeaderValue::from_static("6.6.6.6"));
        let host = HeaderValue::from_static("a.example");
        add_forwarded(
            &mut h,
            &Forwarded {
                client_ip: "10.0.0.2".parse().unwrap(),
                peer: &PeerValues::new("10.0.0.2".parse().unwrap(), 8080),
                secure: false,
                host: Some(&host),
            },
        );
        assert_eq!(h.get("x-forwarded-for").unwrap(), "1.1.1.1, 10.0.0.2");
        assert_eq!(h.get("x-real-ip").unwrap(), "10.0.0.2");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "a.example");
        assert_eq!(h.get("x-forwarded-port").unwrap(), "8080");
    }
}
