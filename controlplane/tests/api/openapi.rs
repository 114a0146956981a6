//! The OpenAPI document covers every route of the router, and only those.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};

use crate::support::*;

/// Every (method, path) the router serves. A route added to the router without a row here, or
/// documented without being routed, fails the test.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/nodes"),
    ("get", "/api/v1/nodes/{node_id}"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/tenants"),
    ("post", "/api/v1/tenants"),
    ("get", "/api/v1/tenants/{tenant}"),
    ("put", "/api/v1/tenants/{tenant}"),
    ("patch", "/api/v1/tenants/{tenant}"),
    ("delete", "/api/v1/tenants/{tenant}"),
    ("get", "/api/v1/tenants/{tenant}/routes"),
    ("put", "/api/v1/tenants/{tenant}/routes"),
    ("patch", "/api/v1/tenants/{tenant}/routes"),
    ("get", "/api/v1/tenants/{tenant}/routes/{list}"),
    ("post", "/api/v1/tenants/{tenant}/routes/{list}"),
    ("get", "/api/v1/tenants/{tenant}/routes/{list}/{index}"),
    ("put", "/api/v1/tenants/{tenant}/routes/{list}/{index}"),
    ("patch", "/api/v1/tenants/{tenant}/routes/{list}/{index}"),
    ("delete", "/api/v1/tenants/{tenant}/routes/{list}/{index}"),
    ("get", "/api/v1/tenants/{tenant}/modules"),
    ("put", "/api/v1/tenants/{tenant}/modules"),
    ("patch", "/api/v1/tenants/{tenant}/modules"),
    ("get", "/api/v1/clusters"),
    ("post", "/api/v1/clusters"),
    ("get", "/api/v1/clusters/{cluster}"),
    ("put", "/api/v1/clusters/{cluster}"),
    ("patch", "/api/v1/clusters/{cluster}"),
    ("delete", "/api/v1/clusters/{cluster}"),
    ("get", "/api/v1/certificates"),
    ("post", "/api/v1/certificates"),
    ("get", "/api/v1/certificates/{certificate}"),
    ("put", "/api/v1/certificates/{certificate}"),
    ("patch", "/api/v1/certificates/{certificate}"),
    ("delete", "/api/v1/certificates/{certificate}"),
    ("get", "/api/v1/modules"),
    ("put", "/api/v1/modules"),
    ("patch", "/api/v1/modules"),
    ("get", "/api/v1/settings"),
    ("put", "/api/v1/settings"),
    ("patch", "/api/v1/settings"),
    ("post", "/api/v1/changes"),
    ("post", "/api/v1/validate"),
    ("get", "/api/v1/versions"),
    ("get", "/api/v1/versions/diff"),
    ("get", "/api/v1/versions/{number}"),
    ("get", "/api/v1/versions/{number}/snapshot"),
    ("post", "/api/v1/versions/{number}/rollback"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens/{id}"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/audit"),
];

both_stores! {
    async fn openapi_covers_every_route(h) {
        let r = h.call(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(StatusCode::OK);
        assert!(r.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let mut documented = BTreeSet::new();
        for (path, item) in r.body["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let expected: BTreeSet<_> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        assert_eq!(documented, expected);
        assert!(r.body["components"]["schemas"]["ErrorBody"].is_object());
        assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());

        // Each documented operation is routed: never the router's 404 or 405.
        for (method, path) in &expected {
            let concrete = path
                .replace("{tenant}", "x").replace("{cluster}", "x").replace("{certificate}", "x")
                .replace("{number}", "1").replace("{id}", "1").replace("{node_id}", "n")
                .replace("{list}", "advanced").replace("{index}", "0");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res = h.call(m, &concrete, Some(ADMIN), None, &[]).await;
            assert_ne!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(!res.text.contains("no route for"), "{method} {path} is not routed");
        }
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = serde_json::to_value(bfe_controlplane::api::openapi()).expect("openapi");
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a schema reference");
        assert!(schemas.contains_key(name), "dangling reference {r}");
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// What the server answers is what the document says: the statuses every operation can give,
/// nullable audit states, diff values of any type, bounded `limit`s, typed request bodies.
#[test]
fn the_document_describes_what_the_server_answers() {
    let doc = serde_json::to_value(bfe_controlplane::api::openapi()).expect("openapi");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            let mut want = vec!["400"];
            if path != "/api/v1/openapi.json" {
                want.push("401");
            }
            if op.get("requestBody").is_some() {
                want.extend(["413", "415"]);
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(
                    schema.get("$ref").is_some() || schema["type"] == "object",
                    "{method} {path}: untyped request body {schema}"
                );
            }
            for status in want {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    for field in ["before", "after"] {
        let audit = &schemas["AuditEntry"]["properties"][field];
        let types: Vec<&str> = audit["type"]
            .as_array()
            .map_or_else(Vec::new, |t| t.iter().filter_map(|v| v.as_str()).collect());
        assert!(
            types.contains(&"null") && types.contains(&"object"),
            "AuditEntry.{field}: {audit}"
        );
        let diff = &schemas["FieldDiff"]["properties"][field];
        assert!(
            diff.get("type").is_none(),
            "FieldDiff.{field} holds any value: {diff}"
        );
    }
    for path in [
        "/api/v1/tenants",
        "/api/v1/versions",
        "/api/v1/audit",
        "/api/v1/tokens",
    ] {
        let params = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}");
        assert_eq!(limit["schema"]["maximum"], 1000, "{path}");
    }
}
