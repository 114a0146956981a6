//! mod_block: the IP blocklist at HandleAccept (closed before any byte is read), condition
//! rules at HandleFoundProduct (CLOSE sends nothing, ALLOW stops, RESPOND answers).

use std::time::Duration;

use bfe_tests::raw::{exchange, read_until_quiet};
use tokio::net::TcpStream;

use super::support::{Setup, get};

#[tokio::test]
async fn a_blocked_address_is_closed_at_accept_before_sending_anything() {
    let s = Setup::start(r#"ip_blocklist: ["10.0.0.0/8", "127.0.0.1"]"#, "").await;
    // Send nothing: the proxy closes the connection at accept, without waiting for a request.
    let mut conn = TcpStream::connect(s.addr()).await.unwrap();
    let (bytes, closed) = read_until_quiet(&mut conn, Duration::from_secs(3)).await;
    assert!(
        closed && bytes.is_empty(),
        "closed={closed} bytes={bytes:?}"
    );
    assert_eq!(s.a.hits(), 0);

    // Unblocking is a config swap away; new connections are served.
    s.reload(r#"ip_blocklist: ["10.0.0.0/8"]"#, "", "-2").await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
}

#[tokio::test]
async fn rules_close_allow_or_respond() {
    let s = Setup::start(
        r#"
block:
  - { name: "trusted ops", condition: 'req_header_value_in("X-Ops", "yes", false)', action: { cmd: ALLOW } }
  - { name: teapot, condition: 'req_path_in("/tea", false)', action: { cmd: RESPOND, params: { status: 418, body: "short and stout" } } }
"#,
        r#"
block:
  - { name: admin, condition: 'req_path_prefix_in("/admin", false)', action: { cmd: CLOSE } }
"#,
    )
    .await;
    let req = b"GET /admin HTTP/1.1\r\nHost: a.test\r\n\r\n";
    let (bytes, closed) = exchange(s.addr(), req, Duration::from_secs(3)).await;
    assert!(closed && bytes.is_empty(), "CLOSE sends nothing: {bytes:?}");
    assert_eq!(s.a.hits(), 0);

    // A global ALLOW stops the tenant's rules.
    let r = get(s.addr(), "/admin", &[("X-Ops", "yes")]).await;
    assert_eq!(r.status, 200);

    let r = get(s.addr(), "/tea", &[]).await;
    assert_eq!((r.status, r.body_str().as_str()), (418, "short and stout"));
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
}

#[tokio::test]
async fn rules_run_only_once_a_tenant_is_found() {
    let s = Setup::start(
        "block: [{ name: all, condition: 'default_t()', action: { cmd: CLOSE } }]",
        "",
    )
    .await;
    // An unknown host has no tenant: HandleFoundProduct never runs, so the 404 is answered.
    let r = bfe_tests::raw::request(s.addr(), "GET", "unknown.test", "/", &[], b"").await;
    assert_eq!(r.status, 404);
    let (bytes, closed) = exchange(
        s.addr(),
        b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(closed && bytes.is_empty());
}
