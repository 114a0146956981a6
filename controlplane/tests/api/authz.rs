//! The role × endpoint authorization matrix: every route, with no token, a bad token, and a
//! viewer, operator and admin token.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Public,
    Viewer,
    Operator,
    Admin,
}

const ROLES: [&str; 5] = ["none", "bad", "viewer", "operator", "admin"];

fn rank(role: &str) -> Option<Need> {
    match role {
        "viewer" => Some(Need::Viewer),
        "operator" => Some(Need::Operator),
        "admin" => Some(Need::Admin),
        _ => None,
    }
}

/// One row: method, path (`{r}` is the caller's role, `{tok}` a token id of its own, `{rv}` a
/// version to roll back to), body,
/// who may call it, and the status when allowed.
fn matrix() -> Vec<(Method, &'static str, Option<Value>, Need, StatusCode)> {
    use Need::*;
    let ok = StatusCode::OK;
    let created = StatusCode::CREATED;
    let gone = StatusCode::NO_CONTENT;
    vec![
        (Method::GET, "/api/v1/openapi.json", None, Public, ok),
        (Method::GET, "/api/v1/tenants", None, Viewer, ok),
        (
            Method::POST,
            "/api/v1/tenants",
            Some(tenant("new-{r}")),
            Operator,
            created,
        ),
        (Method::GET, "/api/v1/tenants/shop", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/tenants/shop",
            Some(tenant("shop")),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/shop",
            Some(json!({"vips": []})),
            Operator,
            ok,
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/del-{r}",
            None,
            Operator,
            gone,
        ),
        (Method::GET, "/api/v1/tenants/shop/routes", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/tenants/shop/routes",
            Some(routes_to("api")),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/shop/routes",
            Some(json!({"basic": []})),
            Operator,
            ok,
        ),
        (
            Method::GET,
            "/api/v1/tenants/shop/routes/advanced",
            None,
            Viewer,
            ok,
        ),
        (
            Method::POST,
            "/api/v1/tenants/shop/routes/advanced",
            Some(json!({"condition": "default_t()", "cluster": "api"})),
            Operator,
            created,
        ),
        (
            Method::GET,
            "/api/v1/tenants/shop/routes/advanced/0",
            None,
            Viewer,
            ok,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/shop/routes/advanced/0",
            Some(json!({"condition": "default_t()", "cluster": "api"})),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/shop/routes/advanced/0",
            Some(json!({"cluster": "api"})),
            Operator,
            ok,
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/shop/routes/advanced/1",
            None,
            Operator,
            gone,
        ),
        (
            Method::GET,
            "/api/v1/tenants/shop/modules",
            None,
            Viewer,
            ok,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/shop/modules",
            Some(json!({})),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/shop/modules",
            Some(json!({})),
            Operator,
            ok,
        ),
        (Method::GET, "/api/v1/clusters", None, Viewer, ok),
        (
            Method::POST,
            "/api/v1/clusters",
            Some(cluster("new-{r}")),
            Operator,
            created,
        ),
        (Method::GET, "/api/v1/clusters/api", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/clusters/api",
            Some(cluster("api")),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/clusters/api",
            Some(json!({"slow_start_ms": 1})),
            Operator,
            ok,
        ),
        (
            Method::DELETE,
            "/api/v1/clusters/del-{r}",
            None,
            Operator,
            gone,
        ),
        (Method::GET, "/api/v1/certificates", None, Viewer, ok),
        (
            Method::POST,
            "/api/v1/certificates",
            Some(certificate("new-{r}")),
            Operator,
            created,
        ),
        (Method::GET, "/api/v1/certificates/www", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/certificates/www",
            Some(certificate("www")),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/certificates/www",
            Some(json!({"cert_pem": cert_pem()})),
            Operator,
            ok,
        ),
        (
            Method::DELETE,
            "/api/v1/certificates/del-{r}",
            None,
            Operator,
            gone,
        ),
        (Method::GET, "/api/v1/modules", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/modules",
            Some(json!({})),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/modules",
            Some(json!({})),
            Operator,
            ok,
        ),
        (Method::GET, "/api/v1/settings", None, Viewer, ok),
        (
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"default_tenant": "shop"})),
            Operator,
            ok,
        ),
        (
            Method::PATCH,
            "/api/v1/settings",
            Some(json!({})),
            Operator,
            ok,
        ),
        (
            Method::POST,
            "/api/v1/changes",
            Some(json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "chg-{r}", "body": cluster("chg-{r}")}]})),
            Operator,
            created,
        ),
        (
            Method::POST,
            "/api/v1/validate",
            Some(json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "val", "body": cluster("val")}]})),
            Operator,
            ok,
        ),
        (Method::GET, "/api/v1/versions", None, Viewer, ok),
        (Method::GET, "/api/v1/versions/1", None, Viewer, ok),
        (Method::GET, "/api/v1/versions/1/snapshot", None, Viewer, ok),
        (
            Method::GET,
            "/api/v1/versions/diff?from=1&to=2",
            None,
            Viewer,
            ok,
        ),
        (Method::GET, "/api/v1/tokens", None, Admin, ok),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "t-{r}", "role": "viewer"})),
            Admin,
            created,
        ),
        (Method::GET, "/api/v1/tokens/1", None, Admin, ok),
        (Method::DELETE, "/api/v1/tokens/{tok}", None, Admin, gone),
        (Method::GET, "/api/v1/audit", None, Admin, ok),
        (Method::GET, "/api/v1/nodes", None, Viewer, ok),
        (
            Method::GET,
            "/api/v1/nodes/no-such-node",
            None,
            Viewer,
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/api/v1/stats", None, Viewer, ok),
        // Last: it rewinds the configuration the rows above rely on. Each role that may
        // rolls back to another version: a rollback to the live one creates none (200).
        (
            Method::POST,
            "/api/v1/versions/{rv}/rollback",
            None,
            Operator,
            created,
        ),
    ]
}

both_stores! {
    async fn role_by_endpoint_matrix(h) {
        h.seed().await; // v1
        // Fixtures: a resource per role for the deletes, and a token per role to revoke.
        let mut ops = vec![json!({"op": "create", "kind": "certificate", "name": "www", "body": certificate("www")})];
        for r in ROLES {
            ops.push(json!({"op": "create", "kind": "tenant", "name": format!("del-{r}"), "body": tenant(&format!("del-{r}"))}));
            ops.push(json!({"op": "create", "kind": "cluster", "name": format!("del-{r}"), "body": cluster(&format!("del-{r}"))}));
            ops.push(json!({"op": "create", "kind": "certificate", "name": format!("del-{r}"), "body": certificate(&format!("del-{r}"))}));
        }
        h.post("/api/v1/changes", json!({"ops": ops})).await.expect(StatusCode::CREATED); // v2
        let mut secrets = HashMap::new();
        let mut victims = HashMap::new();
        for r in ["viewer", "operator", "admin"] {
            secrets.insert(r, h.token(r, r, None).await.1);
        }
        for r in ROLES {
            victims.insert(r, h.token(&format!("victim-{r}"), "viewer", None).await.0);
        }

        // Every documented operation has a row.
        let doc = serde_json::to_value(bfe_controlplane::api::openapi()).expect("openapi");
        let rows = matrix();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                let covered = rows.iter().any(|(m, p, ..)| {
                    m.as_str().eq_ignore_ascii_case(method) && same_route(path, p)
                });
                assert!(covered, "no matrix row for {method} {path}");
            }
        }

        let mut failures = Vec::new();
        for (method, path, body, need, allowed_status) in rows {
            for role in ROLES {
                let path = path
                    .replace("{r}", role)
                    .replace("{tok}", &victims[role].to_string())
                    .replace("{rv}", if role == "admin" { "1" } else { "2" });
                let body = body.as_ref().map(|b| {
                    serde_json::from_str::<Value>(&b.to_string().replace("{r}", role)).expect("json")
                });
                let token = match role {
                    "none" => None,
                    "bad" => Some("bfe_not_a_real_token"),
                    r => Some(secrets[r].as_str()),
                };
                let expected = match (need, rank(role)) {
                    (Need::Public, _) => allowed_status,
                    (_, None) => StatusCode::UNAUTHORIZED,
                    (need, Some(have)) if have >= need => allowed_status,
                    _ => StatusCode::FORBIDDEN,
                };
                let res = h.call(method.clone(), &path, token, body, &[]).await;
                if res.status != expected {
                    failures.push(format!("{method} {path} as {role}: got {} want {expected}: {}", res.status, res.text));
                } else if !expected.is_success() {
                    res.assert_error_shape();
                }
            }
        }
        assert!(failures.is_empty(), "authorization matrix mismatches:\n{}", failures.join("\n"));
    }
}

/// Whether a concrete request path matches an OpenAPI path template.
fn same_route(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') {
                // A parameter never matches a literal sibling route (`/versions/diff`).
                !matches!(*p, "diff")
            } else {
                t == p
            }
        })
}
