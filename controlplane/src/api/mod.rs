//! The REST admin API under `/api/v1`: the router, its layers and its OpenAPI document.
//!
//! Every handler is registered through `utoipa_axum::routes!`, which reads the path and method
//! from the handler's `#[utoipa::path]`, so the OpenAPI document cannot miss a route.

mod admin;
mod body;
mod changes;
mod crud;
mod documents;
pub mod extract;
mod fleet;
mod middleware;
mod named;
pub mod resource;
mod rules;
mod stats;
mod versions;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::response::IntoResponse;
use axum::{Extension, Json, Router};
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use admin::{CreateToken, CreatedToken, check_token_name};
pub use changes::{CommitResponse, ValidateResponse};
pub use middleware::REQUEST_ID;

use crate::error::ApiError;
use crate::state::AppState;

/// Where the OpenAPI document is served (the one path that needs no token).
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// A request that takes longer than this is answered 408 (a stuck store must not pile up work).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bfe control plane",
        description = "Validated, versioned configuration of the BFE-style load balancer. \
            Every error has the body {\"error\": …, \"violations\": [{\"path\": …, \"message\": …}]}."
    ),
    // Types only used as path parameters are not collected from the handlers.
    components(schemas(crate::service::RuleList)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Statuses every operation can answer that the handlers do not list one by one: a bad path,
/// query or body (400), no token (401), a body over the limit (413) or not JSON (415), a
/// request over the time limit (408).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::{RefOr, Response as DocResponse, ResponseBuilder, content::Content};
        let error = || -> RefOr<DocResponse> {
            RefOr::T(
                ResponseBuilder::new()
                    .description("Error")
                    .content(
                        "application/json",
                        Content::new(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody"))),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = path == OPENAPI_PATH;
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let mut statuses = vec!["400", "408"];
                if !public {
                    statuses.push("401");
                }
                if op.request_body.is_some() {
                    statuses.extend(["413", "415"]);
                }
                for status in statuses {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(error);
                }
            }
        }
    }
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
async fn openapi_json(Extension(doc): Extension<Arc<OpenApiDoc>>) -> Json<OpenApiDoc> {
    Json((*doc).clone())
}

/// The routes and their OpenAPI description, before layers and state.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(named::list_tenants, named::create_tenant))
        .routes(routes!(
            named::get_tenant,
            named::put_tenant,
            named::patch_tenant,
            named::delete_tenant
        ))
        .routes(routes!(
            documents::get_routes,
            documents::put_routes,
            documents::patch_routes
        ))
        .routes(routes!(rules::list_rules, rules::create_rule))
        .routes(routes!(
            rules::get_rule,
            rules::put_rule,
            rules::patch_rule,
            rules::delete_rule
        ))
        .routes(routes!(
            documents::get_tenant_modules,
            documents::put_tenant_modules,
            documents::patch_tenant_modules
        ))
        .routes(routes!(named::list_clusters, named::create_cluster))
        .routes(routes!(
            named::get_cluster,
            named::put_cluster,
            named::patch_cluster,
            named::delete_cluster
        ))
        .routes(routes!(named::list_certificates, named::create_certificate))
        .routes(routes!(
            named::get_certificate,
            named::put_certificate,
            named::patch_certificate,
            named::delete_certificate
        ))
        .routes(routes!(
            documents::get_global_modules,
            documents::put_global_modules,
            documents::patch_global_modules
        ))
        .routes(routes!(
            documents::get_settings,
            documents::put_settings,
            documents::patch_settings
        ))
        .routes(routes!(changes::post_changes))
        .routes(routes!(changes::post_validate))
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::diff_versions))
        .routes(routes!(versions::get_version))
        .routes(routes!(versions::get_version_snapshot))
        .routes(routes!(versions::rollback_version))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::get_token, admin::revoke_token))
        .routes(routes!(admin::list_audit))
        .routes(routes!(fleet::list_nodes))
        .routes(routes!(fleet::get_node))
        .routes(routes!(stats::get_stats))
}

/// The OpenAPI document (also served at [`OPENAPI_PATH`]).
pub fn openapi() -> OpenApiDoc {
    let mut doc = routes().into_openapi();
    CommonResponses.modify(&mut doc);
    doc
}

/// The REST API with its layers, ready to serve.
pub fn router(state: AppState) -> Router {
    let (router, mut doc) = routes().split_for_parts();
    // After the routes are in: `ApiDoc`'s own modifiers run before there are any.
    CommonResponses.modify(&mut doc);
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|req: Request| async move {
            ApiError::NotFound(format!("no route for {}", req.uri().path())).into_response()
        })
        .layer(Extension(Arc::new(doc)))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .extensions()
                .get::<extract::RequestId>()
                .map_or("", |r| r.0.as_str())
                .to_owned();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(axum::middleware::from_fn(middleware::request_id))
        .with_state(state)
}
