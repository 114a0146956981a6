//! A test double for [`Facts`]: plain fields, builder methods, and a `rich()` request that
//! gives every primitive something to read.

use std::net::IpAddr;
use std::ops::ControlFlow;

use crate::cond::Facts;

#[derive(Debug, Default, Clone)]
pub(super) struct Fake {
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: String,
    pub uri: String,
    pub protocol: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub client_ip: Option<IpAddr>,
    pub socket_ip: Option<IpAddr>,
    pub vip: Option<IpAddr>,
    pub trusted: bool,
    pub secure: bool,
    pub default_port: Option<u16>,
    pub sni: Option<String>,
    pub client_auth: bool,
    pub ca: Option<String>,
    pub host_tag: Option<String>,
    pub tags: Vec<(String, String)>,
    pub context: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub status: Option<u16>,
    pub res_headers: Vec<(String, Vec<u8>)>,
    pub now: i64,
}

/// 2019-02-04 12:30:00 UTC (20:30:00 at UTC+8, zone letter H).
pub(super) const NOW: i64 = 1_549_283_400;

/// A secure request with every fact set.
pub(super) fn rich() -> Fake {
    let query = "a=1&word=hello+world&Q=%E4%BD%A0&bad=%zz&empty=";
    Fake {
        method: "GET".into(),
        host: "WWW.Example.com:8080".into(),
        path: "/api/v1/Users".into(),
        query: query.into(),
        uri: format!("/api/v1/Users?{query}"),
        protocol: "https".into(),
        headers: vec![
            ("Host".into(), b"WWW.Example.com:8080".to_vec()),
            (
                "User-Agent".into(),
                b"Mozilla/5.0 (X11) Firefox/120".to_vec(),
            ),
            ("X-Api-Version".into(), b"V2".to_vec()),
            (
                "Cookie".into(),
                b"sid=abc123; theme=\"Dark\"; bad=a\\b".to_vec(),
            ),
            ("Cookie".into(), b"lang=zh-CN".to_vec()),
            ("X-Empty".into(), Vec::new()),
        ],
        client_ip: Some("10.1.2.3".parse().expect("ip")),
        socket_ip: Some("192.168.0.7".parse().expect("ip")),
        vip: Some("2001:db8::10".parse().expect("ip")),
        trusted: true,
        secure: true,
        default_port: None,
        sni: Some("API.example.com".into()),
        client_auth: true,
        ca: Some("Corp-CA".into()),
        host_tag: Some("Gold".into()),
        tags: vec![
            ("level".into(), "vip:gold".into()),
            ("level".into(), "trial".into()),
        ],
        context: vec![("tenant".into(), "Shop".into())],
        body: Some(serde_json::json!({
            "model": "gpt-4o",
            "n": 2,
            "stream": true,
            "msgs": [{"role": "user"}],
            "none": null,
            "a.b": "dotted",
        })),
        status: Some(503),
        res_headers: vec![
            ("Content-Type".into(), b"text/html".to_vec()),
            ("X-Cache".into(), b"HIT".to_vec()),
        ],
        now: NOW,
    }
}

/// A request with no facts at all.
pub(super) fn bare() -> Fake {
    Fake::default()
}

impl Facts for Fake {
    fn method(&self) -> &str {
        &self.method
    }
    fn host(&self) -> &str {
        &self.host
    }
    fn default_port(&self) -> u16 {
        self.default_port
            .unwrap_or(if self.secure { 443 } else { 80 })
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn query(&self) -> &str {
        &self.query
    }
    fn request_uri(&self) -> &str {
        &self.uri
    }
    fn protocol(&self) -> &str {
        &self.protocol
    }
    fn for_each_header<'a>(&'a self, visit: &mut dyn FnMut(&'a str, &'a [u8]) -> ControlFlow<()>) {
        for (n, v) in &self.headers {
            if visit(n, v).is_break() {
                return;
            }
        }
    }
    fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
    fn socket_ip(&self) -> Option<IpAddr> {
        self.socket_ip
    }
    fn vip(&self) -> Option<IpAddr> {
        self.vip
    }
    fn cip_trusted(&self) -> bool {
        self.trusted
    }
    fn is_secure(&self) -> bool {
        self.secure
    }
    fn tls_sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }
    fn tls_client_auth(&self) -> bool {
        self.client_auth
    }
    fn tls_client_ca_name(&self) -> Option<&str> {
        self.ca.as_deref()
    }
    fn host_tag(&self) -> Option<&str> {
        self.host_tag.as_deref()
    }
    fn for_each_tag<'a>(&'a self, name: &str, visit: &mut dyn FnMut(&'a str) -> ControlFlow<()>) {
        for (n, v) in &self.tags {
            if n == name && visit(v).is_break() {
                return;
            }
        }
    }
    fn context_value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn body_json(&self) -> Option<&serde_json::Value> {
        self.body.as_ref()
    }
    fn response_status(&self) -> Option<u16> {
        self.status
    }
    fn response_header(&self, name: &str) -> Option<&[u8]> {
        let found = self
            .res_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_slice())
    }
    fn now_unix(&self) -> i64 {
        self.now
    }
}
