//! Test harness: a fresh store per test (a temp SQLite file, or a throwaway PostgreSQL
//! database), the app behind `tower::ServiceExt::oneshot`, and small request helpers.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bfe_controlplane::{AppState, Store, app, ensure_bootstrap_token};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::Connection;
use tower::ServiceExt;

pub const ADMIN: &str = "bfe_test_admin_secret";

/// Every test must finish within this.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// One test's app over its own store.
pub struct Harness {
    pub app: Router,
    pub store: Store,
    /// The throwaway database's URL, for PostgreSQL runs.
    pub pg_url: Option<String>,
    /// The database file, for SQLite runs.
    pub sqlite_path: Option<std::path::PathBuf>,
}

/// A response, its body parsed as JSON (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// Where throwaway PostgreSQL databases are created.
pub fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// Runs `test` against a fresh store of `db`, bounded in time; drops the PostgreSQL database
/// afterwards even when the test fails. PostgreSQL being unreachable fails the test.
pub async fn run<F, Fut>(db: Db, test: F)
where
    F: FnOnce(Harness) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let result = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("cp.db");
            let store = Store::open_sqlite(&path).await.expect("open sqlite");
            let r = run_bounded(store.clone(), None, Some(path), test).await;
            store.close().await;
            r
        }
        Db::Postgres => {
            let db = PgDb::create().await;
            let store = Store::open_postgres(&db.url).await.expect("open postgres");
            let r = run_bounded(store.clone(), Some(db.url.clone()), None, test).await;
            store.close().await;
            db.drop().await;
            r
        }
    };
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// A throwaway PostgreSQL database: `cp_test_<random>`, dropped by [`PgDb::drop`].
pub struct PgDb {
    admin: sqlx::postgres::PgConnection,
    name: String,
    pub url: String,
}

impl PgDb {
    /// Creates the database; PostgreSQL being unreachable fails the test (CI starts it).
    pub async fn create() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("cp_test_{}", bfe_controlplane::auth::hex(&rand_bytes()));
        let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Self { admin, name, url }
    }

    pub async fn drop(mut self) {
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut self.admin)
        .await;
        let _ = self.admin.close().await;
    }
}

async fn run_bounded<F, Fut>(
    store: Store,
    pg_url: Option<String>,
    sqlite_path: Option<std::path::PathBuf>,
    test: F,
) -> Result<(), Box<dyn std::any::Any + Send + 'static>>
where
    F: FnOnce(Harness) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    ensure_bootstrap_token(&store, Some(ADMIN))
        .await
        .expect("bootstrap token");
    let h = Harness {
        app: app(AppState::new(store.clone())),
        store,
        pg_url,
        sqlite_path,
    };
    let task = tokio::spawn(async move {
        tokio::time::timeout(TEST_TIMEOUT, test(h))
            .await
            .expect("test timed out");
    });
    task.await.map_err(|e| match e.try_into_panic() {
        Ok(p) => p,
        Err(e) => Box::new(e.to_string()),
    })
}

fn rand_bytes() -> [u8; 8] {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    b
}

/// Declares one test per store: `mod name { sqlite, postgres }`.
macro_rules! both_stores {
    ($(#[$meta:meta])* async fn $name:ident($h:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($h: $crate::support::Harness) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Db::Sqlite, body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Db::Postgres, body).await;
            }
        }
    };
}
pub(crate) use both_stores;

// === impl Harness ===

impl Harness {
    /// Sends one request with an optional bearer token, JSON body and extra headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, Some(ADMIN), None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(ADMIN), Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(ADMIN), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(ADMIN), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.call(Method::DELETE, path, Some(ADMIN), None, &[])
            .await
    }

    /// Creates a token and returns (id, secret).
    pub async fn token(&self, name: &str, role: &str, tenants: Option<&[&str]>) -> (i64, String) {
        let mut body = json!({"name": name, "role": role});
        if let Some(t) = tenants {
            body["tenants"] = json!(t);
        }
        let r = self.post("/api/v1/tokens", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            r.body["id"].as_i64().expect("id"),
            r.body["token"].as_str().expect("secret").to_owned(),
        )
    }

    /// Another replica: a second store (its own pool) on the same database, and its app.
    pub async fn replica(&self) -> (Router, Store) {
        let store = match (&self.pg_url, &self.sqlite_path) {
            (Some(url), _) => Store::open_postgres(url).await.expect("open replica"),
            (None, Some(path)) => Store::open_sqlite(path).await.expect("open replica"),
            (None, None) => panic!("no database location"),
        };
        (app(AppState::new(store.clone())), store)
    }

    /// The newest version number (0 when none).
    pub async fn head(&self) -> i64 {
        self.store.head().await.expect("head")
    }

    /// Commits the standard fixture: tenant `shop` with routes to clusters `api` and `static`.
    pub async fn seed(&self) -> Res {
        let r = self.post("/api/v1/changes", seed_changes()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r
    }
}

// === impl Res ===

impl Res {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .expect("an ETag header")
            .to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// The body has the one error shape.
    #[track_caller]
    pub fn assert_error_shape(&self) {
        assert!(
            self.body["error"].is_string(),
            "not the error shape: {} {}",
            self.status,
            self.text
        );
    }
}

pub fn cluster(name: &str) -> Value {
    json!({
        "name": name,
        "sub_clusters": [{"name": "main", "weight": 1, "backends": [{"addr": "127.0.0.1:9001"}]}]
    })
}

/// A cluster owned by tenant `owner`.
pub fn owned_cluster(name: &str, owner: &str) -> Value {
    let mut c = cluster(name);
    c["owner"] = json!(owner);
    c
}

pub fn tenant(name: &str) -> Value {
    json!({"name": name, "hosts": [format!("www.{name}.example")]})
}

pub fn routes_to(cluster: &str) -> Value {
    json!({"advanced": [{"condition": "default_t()", "cluster": cluster}]})
}

pub fn seed_changes() -> Value {
    json!({
        "message": "seed",
        "ops": [
            {"op": "create", "kind": "cluster", "name": "api", "body": cluster("api")},
            {"op": "create", "kind": "cluster", "name": "static", "body": cluster("static")},
            {"op": "create", "kind": "tenant", "name": "shop", "body": tenant("shop")},
            {"op": "update", "kind": "routes", "tenant": "shop", "body": {
                "basic": [{"hosts": ["www.shop.example"], "paths": ["/static/*"], "cluster": "static"}],
                "advanced": [{"condition": "default_t()", "cluster": "api"}]
            }}
        ]
    })
}

/// A self-signed certificate and its key, generated once per test run (no key is committed).
fn test_pair() -> &'static (String, String) {
    static PAIR: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| {
        let c = rcgen::generate_simple_self_signed(vec!["test.example".to_owned()]).expect("rcgen");
        (c.cert.pem(), c.signing_key.serialize_pem())
    })
}

pub fn cert_pem() -> &'static str {
    &test_pair().0
}

pub fn key_pem() -> &'static str {
    &test_pair().1
}

/// A line of the key body that must never appear in a response.
pub fn key_marker() -> &'static str {
    key_pem().lines().nth(1).expect("a PEM body line")
}

pub fn certificate(name: &str) -> Value {
    json!({"name": name, "cert_pem": cert_pem(), "key_pem": key_pem()})
}
