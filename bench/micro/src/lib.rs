//! Shared fixtures for the micro-benchmarks: a fake request ([`FakeFacts`]) and generated
//! snapshots with N hosts, N basic rules, N advanced rules or N clusters, compiled through the
//! same `bfe_config::compile` the data plane uses.

use std::net::IpAddr;
use std::ops::ControlFlow;

use bfe_config::Snapshot;
use bfe_config::cond::Facts;
use bfe_config::raw::{
    Balance, RawAdvancedRule, RawBackend, RawBasicRule, RawCluster, RawRoutes, RawSnapshot,
    RawSubCluster, RawTenant,
};

/// The sizes every table-size benchmark runs at: routing must cost the same at each.
pub const SIZES: [usize; 3] = [10, 1_000, 10_000];

/// One request as the condition language sees it; every string is borrowed from the fixture.
#[derive(Debug, Clone)]
pub struct FakeFacts {
    pub method: &'static str,
    pub host: String,
    pub path: String,
    pub query: &'static str,
    pub request_uri: String,
    /// Header lines, names lower-case, in received order.
    pub headers: Vec<(&'static str, &'static [u8])>,
    pub client_ip: IpAddr,
}

/// How the generated advanced rules are shaped (see [`advanced_rules_snapshot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleHit {
    /// The request matches the first rule.
    First,
    /// The request matches only the last rule: every rule before it is evaluated.
    Last,
}

// === impl FakeFacts ===

impl FakeFacts {
    /// A typical browser-ish GET with a handful of headers and two cookies.
    pub fn typical(host: &str, path: &str) -> Self {
        Self {
            method: "GET",
            host: host.to_owned(),
            path: path.to_owned(),
            query: "id=42&debug=1&lang=en",
            request_uri: format!("{path}?id=42&debug=1&lang=en"),
            headers: vec![
                ("host", b"www.example.com"),
                ("user-agent", b"Mozilla/5.0 (X11; Linux x86_64) bench/1.0"),
                ("accept", b"text/html,application/xhtml+xml,*/*;q=0.8"),
                ("accept-encoding", b"gzip, deflate, br"),
                ("x-canary", b"1"),
                ("cookie", b"session=abcdef0123456789; uid=u-12345"),
            ],
            client_ip: IpAddr::from([10, 1, 2, 3]),
        }
    }
}

impl Facts for FakeFacts {
    fn method(&self) -> &str {
        self.method
    }

    fn host(&self) -> &str {
        &self.host
    }

    fn path(&self) -> &str {
        &self.path
    }

    fn query(&self) -> &str {
        self.query
    }

    fn request_uri(&self) -> &str {
        &self.request_uri
    }

    fn protocol(&self) -> &str {
        "http"
    }

    fn for_each_header<'a>(&'a self, visit: &mut dyn FnMut(&'a str, &'a [u8]) -> ControlFlow<()>) {
        for (n, v) in &self.headers {
            if visit(n, v).is_break() {
                return;
            }
        }
    }

    fn client_ip(&self) -> Option<IpAddr> {
        Some(self.client_ip)
    }

    fn socket_ip(&self) -> Option<IpAddr> {
        Some(self.client_ip)
    }

    fn now_unix(&self) -> i64 {
        1_700_000_000
    }
}

// === snapshots ===

/// Host name number `i` of the generated tables.
pub fn host(i: usize) -> String {
    format!("h{i}.example.com")
}

fn cluster(name: &str, backends: usize) -> RawCluster {
    RawCluster {
        name: name.to_owned(),
        sub_clusters: vec![RawSubCluster {
            name: "main".to_owned(),
            weight: 100,
            backends: (0..backends)
                .map(|b| RawBackend {
                    name: None,
                    addr: format!("10.{}.{}.{}:80", b >> 16 & 255, b >> 8 & 255, b & 255),
                    weight: 1,
                })
                .collect(),
        }],
        ..RawCluster::default()
    }
}

fn compiled(raw: &RawSnapshot) -> Snapshot {
    match bfe_config::compile(raw) {
        Ok(s) => s,
        Err(v) => panic!("generated snapshot does not compile: {v}"),
    }
}

/// `n` hosts: `h{i}.example.com` exact, and `*.w{i}.example.com` wildcards, spread over
/// `n / 10` tenants (at least one), plus a default tenant.
pub fn hosts_snapshot(n: usize) -> Snapshot {
    let tenants = (n / 10).max(1);
    let mut raw = RawSnapshot {
        default_tenant: Some("t0".to_owned()),
        clusters: vec![cluster("c", 1)],
        ..RawSnapshot::default()
    };
    for t in 0..tenants {
        raw.tenants.push(RawTenant {
            name: format!("t{t}"),
            routes: RawRoutes {
                basic: vec![RawBasicRule {
                    hosts: vec![],
                    paths: vec![],
                    cluster: "c".to_owned(),
                }],
                advanced: vec![],
            },
            ..RawTenant::default()
        });
    }
    for i in 0..n {
        let t = &mut raw.tenants[i % tenants];
        t.hosts.push(host(i));
        t.hosts.push(format!("*.w{i}.example.com"));
    }
    compiled(&raw)
}

/// One tenant owning `n` hosts, with one basic rule per host (`h{i}` × `/api/*`, `/static/*`)
/// pointing at one of 10 clusters.
pub fn basic_rules_snapshot(n: usize) -> Snapshot {
    let mut raw = RawSnapshot {
        default_tenant: Some("t".to_owned()),
        clusters: (0..10).map(|c| cluster(&format!("c{c}"), 1)).collect(),
        ..RawSnapshot::default()
    };
    let mut t = RawTenant {
        name: "t".to_owned(),
        ..RawTenant::default()
    };
    for i in 0..n {
        t.hosts.push(host(i));
        t.routes.basic.push(RawBasicRule {
            hosts: vec![host(i)],
            paths: vec!["/api/*".to_owned(), "/static/*".to_owned()],
            cluster: format!("c{}", i % 10),
        });
    }
    raw.tenants.push(t);
    compiled(&raw)
}

/// The condition of generated advanced rule `i`: a host and a path prefix, the most common
/// shape of a BFE advanced rule.
pub fn rule_condition(i: usize) -> String {
    format!(
        "req_host_in(\"{}\") && req_path_prefix_in(\"/api/v{i}\", false)",
        host(i)
    )
}

/// One tenant with `n` ordered advanced rules (no basic rules). With [`RuleHit::Last`] the
/// request for [`host`]`(n - 1)` + `/api/v{n-1}/x` matches only the last rule; with
/// [`RuleHit::First`] the request for `host(0)` + `/api/v0/x` matches the first.
pub fn advanced_rules_snapshot(n: usize) -> Snapshot {
    let mut raw = RawSnapshot {
        default_tenant: Some("t".to_owned()),
        clusters: (0..10).map(|c| cluster(&format!("c{c}"), 1)).collect(),
        ..RawSnapshot::default()
    };
    let mut t = RawTenant {
        name: "t".to_owned(),
        hosts: (0..n).map(host).collect(),
        ..RawTenant::default()
    };
    t.routes.advanced = (0..n)
        .map(|i| RawAdvancedRule {
            name: Some(format!("r{i}")),
            condition: rule_condition(i),
            cluster: format!("c{}", i % 10),
        })
        .collect();
    raw.tenants.push(t);
    compiled(&raw)
}

/// The request that [`advanced_rules_snapshot`]`(n)` routes at rule `hit`.
pub fn advanced_request(n: usize, hit: RuleHit) -> FakeFacts {
    let i = match hit {
        RuleHit::First => 0,
        RuleHit::Last => n - 1,
    };
    FakeFacts::typical(&host(i), &format!("/api/v{i}/items"))
}

/// `clusters` clusters with `backends` backends each (one sub-cluster) balanced by `balance`,
/// one tenant routing everything to the first.
pub fn clusters_snapshot(clusters: usize, backends: usize, balance: Balance) -> Snapshot {
    let raw = RawSnapshot {
        default_tenant: Some("t".to_owned()),
        tenants: vec![RawTenant {
            name: "t".to_owned(),
            routes: RawRoutes {
                basic: vec![RawBasicRule {
                    hosts: vec![],
                    paths: vec![],
                    cluster: "c0".to_owned(),
                }],
                advanced: vec![],
            },
            ..RawTenant::default()
        }],
        clusters: (0..clusters)
            .map(|c| RawCluster {
                balance,
                ..cluster(&format!("c{c}"), backends)
            })
            .collect(),
        ..RawSnapshot::default()
    };
    compiled(&raw)
}

/// Conditions of typical routing and module rules, with a name for the report.
pub const TYPICAL_CONDITIONS: [(&str, &str); 8] = [
    (
        "host_in",
        r#"req_host_in("www.example.com|api.example.com")"#,
    ),
    (
        "path_prefix",
        r#"req_path_prefix_in("/api/v1|/static", false)"#,
    ),
    (
        "header_and_path",
        r#"req_header_value_in("X-Canary", "1", false) && req_path_prefix_in("/api", false)"#,
    ),
    (
        "cookie_value",
        r#"req_cookie_value_in("uid", "u-12345", false)"#,
    ),
    ("query_value", r#"req_query_value_in("debug", "1", false)"#),
    (
        "cip_range",
        r#"req_cip_range("10.0.0.0", "10.255.255.255")"#,
    ),
    ("url_regmatch", r#"req_url_regmatch("^/api/v[0-9]+/items")"#),
    (
        "method_not_suffix",
        r#"req_method_in("GET|HEAD") && !req_path_suffix_in(".php|.asp", false)"#,
    ),
];
