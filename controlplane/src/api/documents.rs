//! Resources that always exist once their owner does: a tenant's routes and module rules, the
//! global module settings and the global settings. Read, replace (PUT) and merge-patch; no
//! create or delete (a tenant's delete removes its documents).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::extract::{ApiDoc, ApiPath, RequestId, if_match};
use super::resource;
use crate::auth::Actor;
use crate::error::{ApiError, ErrorBody};
use crate::model::{GLOBAL, GlobalSettings, ResourceKey, ResourceKind};
use crate::service::OpKind;
use crate::state::AppState;

/// Writes get/put/patch for a document kind, per tenant (`tenant`) or a singleton (`global`).
macro_rules! doc_handlers {
    (tenant, $kind:expr, $tag:literal, $path:literal, $body:ty, $get:ident, $put:ident, $patch:ident) => {
        /// Read, with its ETag (an empty document is `"r0"`).
        #[utoipa::path(get, path = $path, tag = $tag,
            params(("tenant" = String, Path, description = "Tenant name")),
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody)))]
        pub async fn $get(
            State(state): State<AppState>,
            actor: Actor,
            ApiPath(tenant): ApiPath<String>,
        ) -> Result<Response, ApiError> {
            resource::read(&state, &actor, ResourceKey::new($kind, tenant)).await
        }

        /// Replace the whole document (`If-Match` honoured: stale → 412).
        #[utoipa::path(put, path = $path, tag = $tag, request_body = $body,
            params(("tenant" = String, Path, description = "Tenant name"),
                ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $put(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiPath(tenant): ApiPath<String>,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, tenant);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Update, key, Some(body), m).await
        }

        /// Change fields with a JSON merge patch (RFC 7386; arrays are replaced whole).
        #[utoipa::path(patch, path = $path, tag = $tag, request_body = Object,
            params(("tenant" = String, Path, description = "Tenant name"),
                ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $patch(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiPath(tenant): ApiPath<String>,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, tenant);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Patch, key, Some(body), m).await
        }
    };
    (global, $kind:expr, $tag:literal, $path:literal, $body:ty, $get:ident, $put:ident, $patch:ident) => {
        /// Read, with its ETag (never written is `"r0"`). Needs an unscoped token.
        #[utoipa::path(get, path = $path, tag = $tag,
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
        pub async fn $get(State(state): State<AppState>, actor: Actor) -> Result<Response, ApiError> {
            resource::read(&state, &actor, ResourceKey::new($kind, GLOBAL)).await
        }

        /// Replace the whole document (`If-Match` honoured: stale → 412).
        #[utoipa::path(put, path = $path, tag = $tag, request_body = $body,
            params(("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 412, body = ErrorBody),
                (status = 422, body = ErrorBody)))]
        pub async fn $put(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, GLOBAL);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Update, key, Some(body), m).await
        }

        /// Change fields with a JSON merge patch (RFC 7386).
        #[utoipa::path(patch, path = $path, tag = $tag, request_body = Object,
            params(("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = $body, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 412, body = ErrorBody),
                (status = 422, body = ErrorBody)))]
        pub async fn $patch(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, GLOBAL);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Patch, key, Some(body), m).await
        }
    };
}

doc_handlers!(
    tenant,
    ResourceKind::Routes,
    "routes",
    "/api/v1/tenants/{tenant}/routes",
    Object,
    get_routes,
    put_routes,
    patch_routes
);
doc_handlers!(
    tenant,
    ResourceKind::TenantModules,
    "modules",
    "/api/v1/tenants/{tenant}/modules",
    Object,
    get_tenant_modules,
    put_tenant_modules,
    patch_tenant_modules
);
doc_handlers!(
    global,
    ResourceKind::GlobalModules,
    "modules",
    "/api/v1/modules",
    Object,
    get_global_modules,
    put_global_modules,
    patch_global_modules
);
doc_handlers!(
    global,
    ResourceKind::Settings,
    "settings",
    "/api/v1/settings",
    GlobalSettings,
    get_settings,
    put_settings,
    patch_settings
);
