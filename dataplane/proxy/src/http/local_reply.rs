//! The only place that builds responses the proxy makes itself: error pages and redirects.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, Response};

use crate::error::ProxyError;
use crate::pipeline::{LocalResponse, Redirect};

/// A short error page for `err`. Internal details never reach the client.
pub fn error(err: ProxyError) -> LocalResponse {
    let status = err.status();
    let mut r = LocalResponse::new(
        status,
        format!(
            "{} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        ),
    );
    r.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if err.closes_connection() {
        r.headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// A redirect response, with a tiny HTML body for GET (as BFE and nginx do).
pub fn redirect(redirect: &Redirect, method: &Method) -> LocalResponse {
    let body = if method == Method::GET {
        let href = String::from_utf8_lossy(redirect.location().as_bytes()).replace('"', "%22");
        format!(
            "<a href=\"{href}\">{}</a>.\n",
            redirect.status().canonical_reason().unwrap_or("Moved")
        )
    } else {
        String::new()
    };
    let mut r = LocalResponse::new(redirect.status(), body);
    r.headers.insert(LOCATION, redirect.location().clone());
    if method == Method::GET {
        r.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    r
}

/// Turns a local response into an `http::Response` with a correct Content-Length.
pub fn into_response(local: LocalResponse) -> Response<Bytes> {
    let len = local.body.len();
    let mut res = Response::new(local.body);
    *res.status_mut() = local.status;
    *res.headers_mut() = local.headers;
    res.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(len));
    res
}
