//! Request-scoped layers: the request id and bearer-token authentication.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;

use super::extract::RequestId;
use crate::auth::hex;
use crate::error::ApiError;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Takes the client's `x-request-id` (when it is a sane token) or makes one, hands it to the
/// handlers and the audit log, and echoes it on the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(
            || {
                let mut b = [0u8; 12];
                rand::rng().fill_bytes(&mut b);
                hex(&b)
            },
            str::to_owned,
        );
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// Authenticates the bearer token; the caller (`Actor`) rides in the request's extensions.
/// Every path needs a token except the OpenAPI document.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if req.uri().path() == super::OPENAPI_PATH {
        return next.run(req).await;
    }
    let secret = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(secret) = secret else {
        return ApiError::Unauthenticated.into_response();
    };
    match state.store.authenticate(secret).await {
        Ok(Some(actor)) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Ok(None) => ApiError::Unauthenticated.into_response(),
        Err(e) => e.into_response(),
    }
}
