//! Module settings: shapes, compiled forms and violations with exact field paths.

use super::*;
use crate::modules::{
    BlockAction, HeaderAction, KeyPart, RateLimitAction, RedirectAction, RewriteAction, Scheme,
    Segment, Variable,
};
use crate::raw::RawSnapshot;

fn compile_yaml(text: &str) -> Result<crate::Snapshot, Violations> {
    crate::compile(&RawSnapshot::parse(text).expect("shape is valid"))
}

fn violations(text: &str) -> Vec<String> {
    compile_yaml(text)
        .expect_err("must not compile")
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect()
}

fn tenant(text: &str) -> Result<TenantModules, Vec<String>> {
    let raw: RawTenantModules = serde_yaml_ng::from_str(text).expect("shape is valid");
    let mut errs = Violations::default();
    let rules = compile_tenant(
        &raw,
        &FieldPath::root().field("tenants").index(0).field("modules"),
        &mut errs,
    );
    if errs.is_empty() {
        Ok(rules)
    } else {
        Err(errs
            .iter()
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect())
    }
}

const GOOD: &str = r#"
modules:
  trust_clientip: { ranges: ["10.0.0.0/8", "127.0.0.1", "192.168.0.1-192.168.0.9"] }
  logid: { enabled: true }
  ip_blocklist: ["6.6.6.6", "7.7.7.0/24"]
  block:
    - { name: "no admin", condition: 'req_path_prefix_in("/admin", false)', action: { cmd: CLOSE } }
    - { name: ok, condition: 'req_cip_trusted()', action: { cmd: ALLOW } }
    - { name: teapot, condition: 'req_path_in("/tea", false)', action: { cmd: RESPOND, params: { status: 418, body: "short and stout" } } }
  rate_limit:
    - name: per-ip
      condition: 'req_path_prefix_in("/api", false)'
      key: [client_ip, "header:X-User", "cookie:UID", "query:k", host, path, url, socket_ip]
      window_ms: 1000
      threshold: 10
      stay_ms: 5000
      action: { cmd: RESPOND, params: { body: "slow down" } }
    - { name: finisher, condition: 'default_t()', key: [client_ip], window_ms: 10, threshold: 1, action: { cmd: FINISH } }
    - { name: closer, condition: 'default_t()', key: [client_ip], window_ms: 10, threshold: 1, action: { cmd: CLOSE } }
  redirect:
    - condition: 'req_path_in("/old", false)'
      actions: [{ cmd: URL_SET, params: ["https://example.org/new"] }]
      status: 301
    - condition: 'req_path_in("/go", false)'
      actions: [{ cmd: URL_FROM_QUERY, params: [to] }, { cmd: SCHEME_SET, params: [https] }, { cmd: URL_PREFIX_ADD, params: ["https://b.example"] }]
  rewrite:
    - condition: 'default_t()'
      last: true
      actions:
        - { cmd: HOST_SET, params: ["backend.local:8080"] }
        - { cmd: HOST_SET_FROM_PATH_PREFIX }
        - { cmd: HOST_SUFFIX_REPLACE, params: [".example.com", ".internal"] }
        - { cmd: PATH_SET, params: ["/x"] }
        - { cmd: PATH_PREFIX_ADD, params: ["/v2/"] }
        - { cmd: PATH_PREFIX_TRIM, params: ["/api"] }
        - { cmd: QUERY_ADD, params: [from, bfe] }
        - { cmd: QUERY_DEL, params: [a, b] }
        - { cmd: QUERY_DEL_ALL_EXCEPT, params: [] }
        - { cmd: QUERY_RENAME, params: [old, new] }
  header:
    - condition: 'default_t()'
      actions:
        - { cmd: REQ_HEADER_SET, params: [X-Client, "ip=%bfe_client_ip:%bfe_client_port 100%%"] }
        - { cmd: RSP_HEADER_SET, params: [X-Proxied-By, bfe] }
        - { cmd: RSP_COOKIE_SET, params: { name: sid, value: "%bfe_log_id", path: "/", max_age: 60, http_only: true } }
        - { cmd: REQ_COOKIE_DEL, params: [tracking] }
    - condition: 'res_code_in("404")'
      actions: [{ cmd: RSP_HEADER_DEL, params: [server] }]
      last: true
"#;

#[test]
fn every_module_compiles_from_its_yaml() {
    let snap = compile_yaml(GOOD).expect("compiles");
    let m = &snap.modules;
    let trusted = m.trust_clientip.as_ref().expect("trusted ranges");
    assert!(trusted.contains("10.9.9.9".parse().unwrap()));
    assert!(trusted.contains("192.168.0.5".parse().unwrap()));
    assert!(!trusted.contains("192.168.0.10".parse().unwrap()));
    assert_eq!(m.logid.as_ref().unwrap().header.as_str(), "x-bfe-log-id");
    assert!(m.ip_blocklist.contains("7.7.7.7".parse().unwrap()));

    let g = &m.global;
    assert_eq!(g.block[0].action, BlockAction::Close);
    assert_eq!(g.block[1].action, BlockAction::Allow);
    match &g.block[2].action {
        BlockAction::Respond(r) => {
            assert_eq!((r.status.as_u16(), &*r.body), (418, "short and stout"))
        }
        other => panic!("{other:?}"),
    }
    let rl = &g.rate_limit[0];
    assert_eq!(rl.key.len(), 8);
    assert_eq!(
        rl.key[1],
        KeyPart::Header(http::HeaderName::from_static("x-user"))
    );
    assert_eq!(rl.key[2], KeyPart::Cookie("UID".into()));
    assert_eq!(rl.stay.as_millis(), 5000);
    match &rl.action {
        RateLimitAction::Respond(r) => {
            assert_eq!((r.status.as_u16(), &*r.body), (429, "slow down"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(g.rate_limit[1].action, RateLimitAction::Finish(ref r) if r.status == 429));
    assert_eq!(g.rate_limit[2].action, RateLimitAction::Close);

    assert_eq!(g.redirect[0].status.as_u16(), 301);
    assert_eq!(g.redirect[1].status.as_u16(), 302, "302 by default");
    assert_eq!(
        g.redirect[1].actions[1],
        RedirectAction::SchemeSet(Scheme::Https)
    );

    assert_eq!(g.rewrite[0].actions.len(), 10);
    assert!(g.rewrite[0].last);
    assert_eq!(
        g.rewrite[0].actions[8],
        RewriteAction::QueryDelAllExcept(vec![])
    );

    let h = &g.header[0];
    assert_eq!(h.request.len(), 2);
    assert_eq!(h.response.len(), 2);
    let HeaderAction::Set(name, tpl) = &h.request[0] else {
        panic!("{:?}", h.request[0]);
    };
    assert_eq!(name.as_str(), "x-client");
    assert_eq!(
        tpl.segments(),
        &[
            Segment::Literal("ip=".into()),
            Segment::Var(Variable::ClientIp),
            Segment::Literal(":".into()),
            Segment::Var(Variable::ClientPort),
            Segment::Literal(" 100%".into()),
        ]
    );
    assert!(tpl.constant().is_none());
    match &h.response[1] {
        HeaderAction::SetCookie {
            name, attributes, ..
        } => {
            assert_eq!(
                (&**name, &**attributes),
                ("sid", "; Path=/; Max-Age=60; HttpOnly")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(g.header[1].condition.uses_response());
    assert!(g.header[1].request.is_empty());
}

#[test]
fn module_settings_round_trip_through_canonical_json() {
    let raw = RawSnapshot::parse(GOOD).expect("parses");
    let again = RawSnapshot::parse(&String::from_utf8(raw.canonical_json()).unwrap()).unwrap();
    assert_eq!(raw, again);
    // Unset modules stay out of the canonical form, so old hashes do not change.
    let empty = RawSnapshot::parse("tenants: []").unwrap();
    assert_eq!(
        String::from_utf8(empty.canonical_json()).unwrap(),
        r#"{"tenants":[],"clusters":[],"certificates":[],"modules":{"access_log":{"enabled":false,"format":"json","target":"stdout"}}}"#
    );
}

#[test]
fn shape_errors_name_the_bad_command_or_arity() {
    let err = RawSnapshot::parse(
        "modules:\n  header:\n    - { condition: 'default_t()', actions: [{ cmd: REQ_HEADER_PUT, params: [a, b] }] }\n",
    )
    .expect_err("unknown command");
    assert!(err.to_string().contains("REQ_HEADER_PUT"), "{err}");
    let err = RawSnapshot::parse(
        "modules:\n  header:\n    - { condition: 'default_t()', actions: [{ cmd: REQ_HEADER_SET, params: [a] }] }\n",
    )
    .expect_err("one param too few");
    assert!(err.to_string().contains("length 1"), "{err}");
    let err = RawSnapshot::parse(
        "modules:\n  redirect:\n    - { condition: 'default_t()', actions: [{ cmd: URL_SET, params: [a] }], code: 301 }\n",
    )
    .expect_err("unknown field");
    assert!(err.to_string().contains("code"), "{err}");
}

#[test]
fn global_violations_carry_exact_paths() {
    let bad = r#"
modules:
  trust_clientip: { ranges: ["10.0.0.0/33"] }
  logid: { enabled: true, header: "bad header" }
  ip_blocklist: ["1.2.3.4", "1.2.3"]
  block:
    - { name: "", condition: 'req_path_in("/a", false)', action: { cmd: CLOSE } }
    - { name: b, condition: 'res_code_in("200")', action: { cmd: RESPOND, params: { status: 99 } } }
  rate_limit:
    - { name: r, condition: 'default_t()', key: [client_ip, "header:", ip], window_ms: 0, threshold: 1, action: { cmd: PASS }, max_keys: 0 }
    - { name: r, condition: 'default_t(', key: [], window_ms: 1, threshold: 1, action: { cmd: FINISH, params: { status: 1000 } } }
  redirect:
    - { condition: 'default_t()', actions: [{ cmd: URL_SET, params: [""] }, { cmd: SCHEME_SET, params: [ftp] }], status: 200 }
    - { condition: 'default_t()', actions: [] }
  rewrite:
    - condition: 'default_t()'
      actions:
        - { cmd: HOST_SET, params: ["a b"] }
        - { cmd: PATH_SET, params: ["x"] }
        - { cmd: PATH_PREFIX_ADD, params: ["/a?b"] }
        - { cmd: QUERY_ADD, params: ["k=", v] }
        - { cmd: QUERY_DEL, params: [] }
        - { cmd: HOST_SUFFIX_REPLACE, params: ["", ".b"] }
  header:
    - condition: 'default_t()'
      actions:
        - { cmd: REQ_HEADER_SET, params: [X-A, "%bfe_nothing"] }
        - { cmd: REQ_HEADER_ADD, params: ["bad name", v] }
        - { cmd: RSP_HEADER_SET, params: [Content-Length, "1"] }
        - { cmd: REQ_HEADER_SET, params: [X-B, "50%"] }
        - { cmd: REQ_COOKIE_SET, params: ["a;b", v] }
        - { cmd: RSP_COOKIE_SET, params: { name: s, value: "v", path: "a;b" } }
    - { condition: 'res_code_in("200")', actions: [{ cmd: REQ_HEADER_DEL, params: [x] }] }
"#;
    assert_eq!(
        violations(bad),
        vec![
            "modules.trust_clientip.ranges[0]: invalid CIDR block '10.0.0.0/33'",
            "modules.logid.header: invalid header name 'bad header'",
            "modules.ip_blocklist[1]: invalid IP address '1.2.3'",
            "modules.rate_limit[1].name: duplicate rule name 'r'",
            "modules.block[0].name: give the rule a name",
            "modules.block[1].condition: res_* primitives have no facts here: only rules with RSP_* actions alone can use them",
            "modules.block[1].action.params.status: invalid status 99: give 200-599",
            "modules.rate_limit[0].key[1]: invalid header name ''",
            "modules.rate_limit[0].key[2]: unknown key part 'ip': give client_ip, socket_ip, host, path, url, header:NAME, cookie:NAME or query:NAME",
            "modules.rate_limit[0].window_ms: give a window of at least 1 ms",
            "modules.rate_limit[0].max_keys: give 1 to 10000000 keys",
            "modules.rate_limit[1].condition: unexpected end of condition, expected an argument at column 11",
            "modules.rate_limit[1].key: give at least one key part, e.g. client_ip",
            "modules.rate_limit[1].action.params.status: invalid status 1000: give 200-599",
            "modules.redirect[0].status: invalid redirect status 200: give 301, 302, 303, 307 or 308",
            "modules.redirect[0].actions[0].params: invalid URL ''",
            "modules.redirect[0].actions[1].params: invalid scheme 'ftp': give http or https",
            "modules.redirect[1].actions: give at least one action",
            "modules.rewrite[0].actions[0].params: invalid host 'a b'",
            "modules.rewrite[0].actions[1].params: invalid path 'x': start with '/', no '?', '#' or spaces",
            "modules.rewrite[0].actions[2].params: invalid path prefix '/a?b': no '?', '#' or spaces",
            "modules.rewrite[0].actions[3].params: invalid query pair 'k==v': percent-encode spaces, '&', '=' and '#'",
            "modules.rewrite[0].actions[4].params: give at least one query key",
            "modules.rewrite[0].actions[5].params: invalid host suffixes '', '.b'",
            "modules.header[0].actions[0].params: unknown variable '%bfe_nothing'",
            "modules.header[0].actions[1].params: invalid header name 'bad name'",
            "modules.header[0].actions[2].params: 'content-length' frames the message: rules cannot change it",
            "modules.header[0].actions[3].params: a lone '%': write '%%' for a literal percent sign",
            "modules.header[0].actions[4].params: invalid cookie name 'a;b'",
            "modules.header[0].actions[5].params.path: invalid cookie attribute 'a;b'",
            "modules.header[1].condition: res_* primitives have no facts here: only rules with RSP_* actions alone can use them",
        ]
    );
}

#[test]
fn tenant_rules_compile_with_tenant_paths() {
    let rules = tenant(
        r#"
block: [{ name: b, condition: 'req_path_in("/x", false)', action: { cmd: ALLOW } }]
header: [{ condition: 'default_t()', actions: [{ cmd: RSP_HEADER_ADD, params: [X-T, t] }] }]
"#,
    )
    .expect("compiles");
    assert_eq!(rules.block.len(), 1);
    assert_eq!(rules.header[0].response.len(), 1);
    assert!(rules.rewrite.is_empty());

    let errs = tenant(
        r#"
redirect: [{ condition: 'default_t()', actions: [{ cmd: URL_SET, params: ["x"] }], status: 304 }]
rate_limit: [{ name: "a b", condition: 'default_t()', key: [host], window_ms: 5, threshold: 1, action: { cmd: CLOSE } }]
"#,
    )
    .expect_err("violations");
    assert_eq!(
        errs,
        vec![
            "tenants[0].modules.rate_limit[0].name: invalid name 'a b': use 1-128 characters of A-Z a-z 0-9 - _ .",
            "tenants[0].modules.redirect[0].status: invalid redirect status 304: give 301, 302, 303, 307 or 308",
        ]
    );
}
