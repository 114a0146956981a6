//! mod_trust_clientip (HandleAccept: trust; HandleBeforeLocation: client address from
//! X-Real-Ip / X-Forwarded-For) and mod_logid (HandleBeforeLocation).

use super::support::{Setup, get, seen};

const ECHO_IP: &str = r#"
header:
  - { condition: 'default_t()', actions: [{ cmd: RSP_HEADER_SET, params: [X-Log-Id, "%bfe_log_id"] }] }
  - { condition: 'req_cip_trusted()', actions: [{ cmd: RSP_HEADER_SET, params: [X-Trusted, "1"] }] }
"#;

#[tokio::test]
async fn trusted_peers_tell_the_client_address() {
    let s = Setup::start(
        &format!("trust_clientip: {{ ranges: [\"127.0.0.0-127.0.0.9\"] }}\n{ECHO_IP}"),
        "",
    )
    .await;
    let r = get(s.addr(), "/x", &[("X-Real-Ip", "203.0.113.7")]).await;
    assert_eq!(seen(&r, "x-real-ip").as_deref(), Some("203.0.113.7"));
    assert_eq!(r.header("x-trusted"), Some("1"));
    let r = get(
        s.addr(),
        "/x",
        &[("X-Forwarded-For", "198.51.100.1, 10.0.0.1")],
    )
    .await;
    assert_eq!(seen(&r, "x-real-ip").as_deref(), Some("198.51.100.1"));
    let r = get(s.addr(), "/x", &[("X-Real-Ip", "not an ip")]).await;
    assert_eq!(seen(&r, "x-real-ip").as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn untrusted_peers_cannot() {
    let s = Setup::start(
        &format!("trust_clientip: {{ ranges: [\"10.0.0.0/8\"] }}\n{ECHO_IP}"),
        "",
    )
    .await;
    let r = get(s.addr(), "/x", &[("X-Real-Ip", "203.0.113.7")]).await;
    assert_eq!(seen(&r, "x-real-ip").as_deref(), Some("127.0.0.1"));
    assert_eq!(r.header("x-trusted"), None);
}

#[tokio::test]
async fn log_ids_are_generated_or_kept_from_trusted_peers() {
    let untrusted = Setup::start(&format!("logid: {{ enabled: true }}\n{ECHO_IP}"), "").await;
    let r = get(untrusted.addr(), "/x", &[("X-Bfe-Log-Id", "forged")]).await;
    let id = seen(&r, "x-bfe-log-id").unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(
        r.header("x-log-id"),
        Some(id.as_str()),
        "%bfe_log_id is the same id"
    );
    let again = get(untrusted.addr(), "/x", &[]).await;
    assert_ne!(
        seen(&again, "x-bfe-log-id").unwrap(),
        id,
        "one id per request"
    );

    let trusted = Setup::start(
        &format!(
            "trust_clientip: {{ ranges: [\"127.0.0.1\"] }}\nlogid: {{ enabled: true, header: X-Request-Id }}\n{ECHO_IP}"
        ),
        "",
    )
    .await;
    let r = get(trusted.addr(), "/x", &[("X-Request-Id", "upstream-42")]).await;
    assert_eq!(seen(&r, "x-request-id").as_deref(), Some("upstream-42"));
    assert_eq!(r.header("x-log-id"), Some("upstream-42"));
}
