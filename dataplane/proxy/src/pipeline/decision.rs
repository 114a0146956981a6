//! What a filter may decide, one closed enum per filter kind, so that a decision a callback
//! point cannot honour cannot be written (a forward filter cannot redirect, a finish filter
//! decides nothing).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

/// Decision of an Accept or Handshake filter.
#[derive(Debug)]
pub enum ConnDecision {
    Continue,
    /// Close the connection, sending nothing.
    Close,
}

/// Decision of a BeforeLocation, FoundProduct or AfterLocation filter.
#[derive(Debug)]
pub enum RequestDecision {
    Continue,
    /// Answer with this response instead of forwarding. It still passes HandleReadResponse
    /// (as in BFE), and the connection stays open.
    Respond(LocalResponse),
    /// Answer with a redirect; HandleReadResponse is skipped, the connection stays open.
    Redirect(Redirect),
    /// Answer with this response, skip HandleReadResponse, then close the connection.
    Finish(LocalResponse),
    /// Close the connection, sending nothing.
    Close,
}

/// Decision of a Forward filter, run before each attempt.
#[derive(Debug)]
pub enum ForwardDecision {
    Continue,
    /// Do not forward: answer with this response and close the connection.
    Finish(LocalResponse),
}

/// Decision of a ReadResponse filter.
#[derive(Debug)]
pub enum ResponseDecision {
    Continue,
    /// Send a redirect instead of the response.
    Redirect(Redirect),
    /// Send the response as it is now, then close the connection.
    Finish,
}

/// A response made by the proxy itself.
#[derive(Debug, Clone)]
pub struct LocalResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A redirect: the status is always one of 301, 302, 303, 307, 308.
#[derive(Debug, Clone)]
pub struct Redirect {
    status: StatusCode,
    location: HeaderValue,
}

// === impl LocalResponse ===

impl LocalResponse {
    pub fn new(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}

// === impl Redirect ===

impl Redirect {
    /// `None` when `status` is not a redirect status.
    pub fn new(status: StatusCode, location: HeaderValue) -> Option<Self> {
        matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308).then_some(Self { status, location })
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn location(&self) -> &HeaderValue {
        &self.location
    }
}
