//! What a condition can ask about one request: the data plane implements [`Facts`] over its
//! per-request context. Everything is borrowed; nothing here may allocate or block.

use std::net::IpAddr;
use std::ops::ControlFlow;
use std::time::{SystemTime, UNIX_EPOCH};

/// One request's facts, as the condition primitives see them.
///
/// Every method has a default that means "absent" (empty string, `None`, `false`), so a test fake
/// implements only what it needs. Absent facts make the primitives that read them false (or
/// compare the empty string where BFE did: request headers and query values).
///
/// Visitor methods (`for_each_*`) call `visit` for each item in order and should stop as soon
/// as `visit` returns [`ControlFlow::Break`]; that keeps the trait object-safe and allocation-free.
pub trait Facts {
    /// The request method as received, e.g. `GET` (`req_method_in`, matched case-insensitively).
    fn method(&self) -> &str {
        ""
    }

    /// The Host header (or HTTP/2 `:authority`) as received, including an optional `:port`.
    /// `req_host_*` and `req_port_in` read it with [`crate::host`], as the host table does.
    fn host(&self) -> &str {
        ""
    }

    /// The port `req_port_in` uses when the Host value has none: the listener's default for the
    /// request's scheme. Default: 443 when [`is_secure`](Self::is_secure), else 80.
    fn default_port(&self) -> u16 {
        if self.is_secure() { 443 } else { 80 }
    }

    /// The request path without the query. BFE matched Go's percent-decoded `URL.Path`; the
    /// data plane passes the form its router matches (decoded if it keeps a decoded copy).
    fn path(&self) -> &str {
        ""
    }

    /// The raw query string, without the `?`. Conditions decode keys and values themselves.
    fn query(&self) -> &str {
        ""
    }

    /// The request target as received: path and query (`req_url_regmatch`).
    fn request_uri(&self) -> &str {
        ""
    }

    /// The protocol name: `http`, `https`, `h2`, `h2c`, `ws`, `stream` (`req_proto_match`).
    fn protocol(&self) -> &str {
        ""
    }

    /// The first value of request header `name`. `name` is always lower-case ASCII.
    /// Default: the first match from [`for_each_header`](Self::for_each_header).
    fn header(&self, name: &str) -> Option<&[u8]> {
        let mut found = None;
        self.for_each_header(&mut |n, v| {
            if n.eq_ignore_ascii_case(name) {
                found = Some(v);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found
    }

    /// Every request header line as `(name, value)`, in received order.
    fn for_each_header<'a>(&'a self, visit: &mut dyn FnMut(&'a str, &'a [u8]) -> ControlFlow<()>) {
        let _ = visit;
    }

    /// Every `Cookie` header value, in order; cookies are parsed lazily from these.
    /// Default: the `cookie` lines from [`for_each_header`](Self::for_each_header).
    fn for_each_cookie_header<'a>(&'a self, visit: &mut dyn FnMut(&'a [u8]) -> ControlFlow<()>) {
        self.for_each_header(&mut |n, v| {
            if n.eq_ignore_ascii_case("cookie") {
                visit(v)
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// The client address after the trust logic (PROXY protocol / trusted forwarded headers).
    fn client_ip(&self) -> Option<IpAddr> {
        None
    }

    /// The peer address of the TCP connection (`ses_sip_range`).
    fn socket_ip(&self) -> Option<IpAddr> {
        None
    }

    /// The virtual IP the client connected to; known only with PROXY protocol (BFE.md §10.4).
    fn vip(&self) -> Option<IpAddr> {
        None
    }

    /// The connection comes from a trusted source address (`req_cip_trusted`).
    fn cip_trusted(&self) -> bool {
        false
    }

    /// The connection is TLS (`req_proto_secure`).
    fn is_secure(&self) -> bool {
        false
    }

    /// The TLS server name the client sent; `None` when not TLS or no SNI.
    fn tls_sni(&self) -> Option<&str> {
        None
    }

    /// The client presented a certificate that verified (mutual TLS).
    fn tls_client_auth(&self) -> bool {
        false
    }

    /// The name of the CA that verified the client certificate; `None` without client auth.
    fn tls_client_ca_name(&self) -> Option<&str> {
        None
    }

    /// The tag the host table gave the request's host (`req_host_tag_in`).
    fn host_tag(&self) -> Option<&str> {
        None
    }

    /// Every value of tag `name` set by modules, e.g. `"vip:gold"` (`req_tag_match` compares the
    /// part before the first `:`).
    fn for_each_tag<'a>(&'a self, name: &str, visit: &mut dyn FnMut(&'a str) -> ControlFlow<()>) {
        let _ = (name, visit);
    }

    /// A string value a module stored in the request context under `key`.
    fn context_value(&self, key: &str) -> Option<&str> {
        let _ = key;
        None
    }

    /// The request body parsed as JSON, if the data plane buffered and parsed it.
    fn body_json(&self) -> Option<&serde_json::Value> {
        None
    }

    /// The response status; `None` before a response exists (request-phase callback points).
    fn response_status(&self) -> Option<u16> {
        None
    }

    /// The first value of response header `name` (lower-case ASCII).
    fn response_header(&self, name: &str) -> Option<&[u8]> {
        let _ = name;
        None
    }

    /// Wall-clock time, in seconds since the Unix epoch, for `bfe_*time_range`. The data plane
    /// supplies it so tests can fix time; the default reads the system clock.
    fn now_unix(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}
