//! The last admin credential: revoking the last unscoped admin token is refused, and
//! `controlplane admin-token create` (the real binary, with access to the store) recovers.

use axum::http::{Method, StatusCode};

use crate::support::*;

/// Runs `controlplane admin-token create --name <name>` on the harness's store; returns stdout.
async fn create_offline(h: &Harness, name: &str) -> String {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_controlplane"));
    cmd.args(["admin-token", "create", "--name", name])
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    match (&h.pg_url, &h.sqlite_path) {
        (Some(url), _) => cmd.env("DATABASE_URL", url),
        (None, Some(path)) => cmd
            .env_remove("DATABASE_URL")
            .arg("--sqlite-path")
            .arg(path),
        (None, None) => panic!("no database location"),
    };
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("the command ends in time")
        .expect("run controlplane");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let secret = stdout.trim().to_owned();
    assert!(!stderr.contains(&secret), "the secret is logged: {stderr}");
    secret
}

both_stores! {
    async fn the_last_admin_token_cannot_be_revoked(h) {
        // Token 1 is the bootstrap admin; a scoped admin and a viewer are no way back in.
        h.seed().await;
        let (scoped, _) = h.token("scoped-admin", "admin", Some(&["shop"])).await;
        let (viewer, _) = h.token("viewer", "viewer", None).await;
        let r = h.delete("/api/v1/tokens/1").await.expect(StatusCode::CONFLICT);
        r.assert_error_shape();
        assert!(r.body["error"].as_str().is_some_and(|e| e.contains("last unscoped admin")), "{}", r.text);
        h.get("/api/v1/tokens").await.expect(StatusCode::OK);
        assert_eq!(h.get("/api/v1/tokens/1").await.body.get("revoked_at"), None);

        // With a second admin, the first can go; then the second is the last.
        let (second, secret) = h.token("second-admin", "admin", None).await;
        h.delete("/api/v1/tokens/1").await.expect(StatusCode::NO_CONTENT);
        h.call(Method::DELETE, &format!("/api/v1/tokens/{second}"), Some(&secret), None, &[])
            .await
            .expect(StatusCode::CONFLICT);
        // Other tokens are revoked as before.
        for id in [scoped, viewer] {
            h.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&secret), None, &[])
                .await
                .expect(StatusCode::NO_CONTENT);
        }
        h.call(Method::GET, "/api/v1/tokens", Some(&secret), None, &[]).await.expect(StatusCode::OK);
    }
}

both_stores! {
    async fn admin_token_create_recovers_offline(h) {
        let secret = create_offline(&h, "recovery").await;
        assert!(secret.starts_with("bfe_") && secret.len() == 68, "{secret}");
        let r = h.call(Method::GET, "/api/v1/tokens", Some(&secret), None, &[]).await.expect(StatusCode::OK);
        let names: Vec<&str> = r.body["items"].as_array().expect("items").iter()
            .filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["bootstrap", "recovery"]);
        // It is a full admin: it can create and revoke tokens, and the bootstrap one can go.
        h.call(Method::DELETE, "/api/v1/tokens/1", Some(&secret), None, &[]).await.expect(StatusCode::NO_CONTENT);
        h.get("/api/v1/tenants").await.expect(StatusCode::UNAUTHORIZED);
        let audit = h.call(Method::GET, "/api/v1/audit?resource_kind=token", Some(&secret), None, &[])
            .await
            .expect(StatusCode::OK);
        assert!(audit.body["items"].as_array().expect("items").iter().any(|a|
            a["actor"] == "offline-recovery" && a["action"] == "token.create"), "{}", audit.text);
        assert!(!audit.text.contains(&secret));
        // A bad name is refused before anything is written.
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_controlplane"));
        cmd.args(["admin-token", "create", "--name", " "])
            .arg("--sqlite-path")
            .arg("/nonexistent/x.db")
            .env_remove("DATABASE_URL");
        let out = cmd.output().await.expect("run");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("1-128 characters"));
    }
}
