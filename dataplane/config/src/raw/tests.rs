use super::*;

const SAMPLE: &str = r#"
default_tenant: shop
tenants:
  - name: shop
    hosts: ["www.shop.example", "*.shop.example"]
    routes:
      basic:
        - hosts: ["www.shop.example"]
          paths: ["/static/*"]
          cluster: static
      advanced:
        - condition: 'req_path_prefix_in("/api", false)'
          cluster: api
clusters:
  - name: api
    sub_clusters:
      - name: a
        weight: 100
        backends: [{ addr: "127.0.0.1:9000" }]
"#;

#[test]
fn yaml_and_json_read_the_same_snapshot() {
    let from_yaml = RawSnapshot::parse(SAMPLE).expect("yaml parses");
    let json = String::from_utf8(from_yaml.canonical_json()).expect("utf8");
    let from_json = RawSnapshot::parse(&json).expect("json parses");
    assert_eq!(from_yaml, from_json);
    assert_eq!(from_yaml.clusters[0].sub_clusters[0].backends[0].weight, 1);
    assert_eq!(from_yaml.clusters[0].retry.max, 2);
    assert_eq!(from_yaml.sha256_hex(), from_json.sha256_hex());
    assert_eq!(from_yaml.sha256_hex().len(), 64);
}

#[test]
fn unknown_fields_are_errors() {
    let err = RawSnapshot::parse("tenants: []\nclustres: []\n").expect_err("typo refused");
    assert!(err.to_string().contains("clustres"), "{err}");
    let err =
        RawSnapshot::parse(r#"{"tenants":[{"name":"a","hots":[]}]}"#).expect_err("typo refused");
    assert!(err.to_string().contains("hots"), "{err}");
}
