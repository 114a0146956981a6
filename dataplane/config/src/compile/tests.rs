use super::*;

fn compile_yaml(text: &str) -> Result<Snapshot, Violations> {
    compile(&RawSnapshot::parse(text).expect("shape is valid"))
}

fn paths(errs: &Violations) -> Vec<String> {
    errs.iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect()
}

const GOOD: &str = r#"
default_tenant: shop
tenants:
  - name: shop
    hosts: ["www.shop.example"]
    host_tags: { api: ["api.shop.example", "*.api.shop.example"] }
    vips: ["10.1.1.1"]
    routes:
      basic:
        - { hosts: ["www.shop.example"], paths: ["/static/*"], cluster: static }
        - { hosts: ["www.shop.example"], paths: ["/dyn/*"], cluster: ADVANCED_MODE }
      advanced:
        - { condition: "default_t()", cluster: api }
clusters:
  - name: api
    sub_clusters:
      - { name: east, weight: 90, backends: [{ addr: "127.0.0.1:9001" }, { addr: "backend.local:80", weight: 3 }] }
      - { name: GSLB_BLACKHOLE, weight: 10 }
  - name: static
    sub_clusters: [{ name: a, weight: 1, backends: [{ addr: "[::1]:9002" }] }]
"#;

#[test]
fn a_good_snapshot_compiles_into_tables() {
    let snap = compile_yaml(GOOD).expect("compiles");
    assert_eq!(snap.tenants.len(), 1);
    assert_eq!(&*snap.tenants[0].host_tags[1], "api");
    let api = snap.cluster_by_name("api").expect("api");
    assert_eq!(api.blackhole_weight, 10);
    assert_eq!(api.sub_clusters.len(), 1);
    assert_eq!(api.total_weight(), 100);
    let m = snap
        .hosts
        .lookup(Some("x.api.shop.example"), None)
        .expect("wildcard");
    assert_eq!(m.tag, Some(1));
    assert_eq!(snap.hash.len(), 64);
}

#[test]
fn every_violation_is_reported_with_its_path() {
    let bad = r#"
default_tenant: nobody
tenants:
  - name: a
    hosts: ["www.a.com", "bad host", "*"]
    vips: ["10.0.0.300"]
    routes:
      basic:
        - { hosts: ["www.a.com"], paths: ["/x/*"], cluster: missing }
        - { hosts: ["www.a.com"], paths: ["nope"], cluster: c }
        - { hosts: ["www.a.com"], paths: ["/*/x"], cluster: c }
      advanced:
        - { condition: "req_hots_in(\"a\")", cluster: c }
        - { condition: "default_t()", cluster: ghost }
  - name: a
    hosts: ["WWW.A.COM"]
clusters:
  - name: c
    sub_clusters:
      - { name: s, weight: 1, backends: [{ addr: "nohost" }, { addr: "1.2.3.4:0" }] }
      - { name: s, weight: 1, backends: [{ addr: "1.2.3.4:80", weight: 0 }] }
      - { name: GSLB_BLACKHOLE, weight: 1, backends: [{ addr: "1.2.3.4:80" }] }
    timeouts: { connect_ms: 0 }
    hash: { strategy: client_id }
    health: { expect_status: "7xx", rise: 0 }
  - name: c
    sub_clusters: []
"#;
    let errs = compile_yaml(bad).expect_err("refused");
    let got = paths(&errs);
    let expect = [
        "clusters[0].sub_clusters[0].backends[0].addr: invalid backend address 'nohost'",
        "clusters[0].sub_clusters[0].backends[1].addr: invalid backend address '1.2.3.4:0'",
        "clusters[0].sub_clusters[1].name: duplicate sub-cluster 's'",
        "clusters[0].sub_clusters[1].backends: a sub-cluster with weight > 0 needs a backend",
        "clusters[0].sub_clusters[2].backends: GSLB_BLACKHOLE cannot have backends",
        "clusters[0].timeouts.connect_ms: must be between",
        "clusters[0].hash: the client_id strategies need a header or a cookie",
        "clusters[0].health.expect_status: '7xx' is not a status class",
        "clusters[0].health.rise: must be at least 1",
        "clusters[1].name: duplicate cluster 'c'",
        "clusters[1].sub_clusters: a cluster needs at least one sub-cluster",
        "tenants[1].name: duplicate tenant 'a'",
        "default_tenant: unknown tenant 'nobody'",
        "tenants[0].hosts[1]: invalid host name 'bad host'",
        "tenants[0].hosts[2]: '*' is not a host name",
        "tenants[0].vips[0]: invalid IP address '10.0.0.300'",
        "tenants[0].routes.basic[0].cluster: unknown cluster 'missing'",
        "tenants[0].routes.basic[1].paths[0]: path 'nope' must start with '/'",
        "tenants[0].routes.basic[2].paths[0]: '*' may only end a path prefix",
        "tenants[0].routes.advanced[0].condition: ",
        "tenants[0].routes.advanced[1].cluster: unknown cluster 'ghost'",
        "tenants[1].hosts[0]: host 'www.a.com' is already claimed",
    ];
    for e in expect {
        assert!(
            got.iter().any(|g| g.starts_with(e)),
            "missing {e:?} in {got:#?}"
        );
    }
    assert_eq!(
        got.len(),
        expect.len(),
        "unexpected extra violations: {got:#?}"
    );
}

#[test]
fn duplicate_basic_rules_are_refused() {
    let text = GOOD.replace(
        "- { hosts: [\"www.shop.example\"], paths: [\"/dyn/*\"], cluster: ADVANCED_MODE }",
        "- { hosts: [\"WWW.shop.example\"], paths: [\"/static/*\"], cluster: api }",
    );
    let errs = compile_yaml(&text).expect_err("duplicate");
    assert_eq!(
        paths(&errs),
        [
            "tenants[0].routes.basic[1].paths[0]: duplicate basic rule for host 'www.shop.example' path '/static/*'"
        ]
    );
}
