//! One tenant `t` (host `a.test`) over two origins: `A` serves everything routed to cluster
//! `ca`, `B` serves cluster `cb` (paths under `/b`, or `X-Route: b`). Paths under `/nowhere`
//! match no route (404), so a module acting before routing is visible.

use std::net::SocketAddr;
use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bfe_tests::raw::{RawResponse, exchange, parse_responses};

pub struct Setup {
    pub a: Origin,
    pub b: Origin,
    pub proxy: TestProxy,
}

impl Setup {
    /// `global` is the top-level `modules:` body, `tenant` the tenant's; both unindented YAML.
    pub async fn start(global: &str, tenant: &str) -> Self {
        let a = Origin::start("A").await;
        let b = Origin::start("B").await;
        let proxy = TestProxy::start(&config(a.addr, b.addr, global, tenant, "")).await;
        Self { a, b, proxy }
    }

    pub fn addr(&self) -> SocketAddr {
        self.proxy.addr
    }

    /// Replaces the running config and waits for it.
    pub async fn reload(&self, global: &str, tenant: &str, label: &str) {
        let next = self.proxy.generation() + 1;
        self.proxy
            .write_config(&config(self.a.addr, self.b.addr, global, tenant, label));
        assert!(
            self.proxy
                .wait_generation(next, Duration::from_secs(5))
                .await,
            "config reloaded"
        );
    }
}

pub fn config(a: SocketAddr, b: SocketAddr, global: &str, tenant: &str, label: &str) -> String {
    format!(
        r#"
version: "modules{label}"
tenants:
  - name: t
    hosts: ["a.test"]
    routes:
      advanced:
        - {{ condition: 'req_header_value_in("X-Route", "b", false) || req_path_prefix_in("/b", false)', cluster: cb }}
        - {{ condition: '!req_path_prefix_in("/nowhere", false)', cluster: ca }}
    modules:
{}
clusters:
  - {{ name: ca, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{a}" }}] }}] }}
  - {{ name: cb, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{b}" }}] }}] }}
modules:
{}
"#,
        indent(tenant, 6),
        indent(global, 2)
    )
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let body: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{pad}{l}"))
        .collect();
    if body.is_empty() {
        format!("{pad}{{}}")
    } else {
        body.join("\n")
    }
}

/// One GET to `a.test` with extra headers, `Connection: close`.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> RawResponse {
    bfe_tests::raw::request(addr, "GET", "a.test", path, headers, b"").await
}

/// One keep-alive GET: the response, whether the server closed the connection afterwards,
/// and the raw bytes.
pub async fn get_keep_alive(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (Option<RawResponse>, bool, Vec<u8>) {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: a.test\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let (out, closed) = exchange(addr, req.as_bytes(), Duration::from_millis(500)).await;
    (parse_responses(&out).into_iter().next(), closed, out)
}

/// The echo origin's view of a header (lower-case name).
pub fn seen(res: &RawResponse, header: &str) -> Option<String> {
    res.json()["headers"][header].as_str().map(str::to_owned)
}

/// Every value of a response header, in order.
pub fn all<'a>(res: &'a RawResponse, name: &str) -> Vec<&'a str> {
    res.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}
