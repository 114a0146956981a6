//! Why a request did not get a backend's response, classified by who caused it. `status()` is
//! the one place these become HTTP status codes.

use http::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    // --- config / routing
    #[error("no tenant serves this host")]
    NoTenant,
    #[error("no route matches")]
    NoRoute,
    // --- capacity
    #[error("request shed by GSLB_BLACKHOLE")]
    Blackhole,
    #[error("no available backend")]
    NoBackend,
    // --- upstream
    #[error("backend connect failed")]
    Connect,
    #[error("backend connect timed out")]
    ConnectTimeout,
    #[error("backend response header timed out")]
    ResponseTimeout,
    #[error("backend protocol error or reset")]
    BackendProtocol,
    // --- downstream
    #[error("client request body read timed out")]
    ClientBodyTimeout,
    #[error("client request body too large")]
    BodyTooLarge,
    #[error("client request body malformed or aborted")]
    ClientBody,
    #[error("request URI too long")]
    UriTooLong,
    #[error("ambiguous request framing")]
    Framing,
    // --- a module finished the request at HandleForward
    #[error("request finished by a module")]
    ModuleFinish,
}

/// Who caused an error (for metrics and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Config,
    Upstream,
    Downstream,
    Module,
}

impl ProxyError {
    pub fn status(self) -> StatusCode {
        match self {
            ProxyError::NoTenant | ProxyError::NoRoute => StatusCode::NOT_FOUND,
            ProxyError::Blackhole | ProxyError::NoBackend => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::Connect | ProxyError::BackendProtocol => StatusCode::BAD_GATEWAY,
            ProxyError::ConnectTimeout | ProxyError::ResponseTimeout => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::ClientBodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ProxyError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::ClientBody | ProxyError::Framing => StatusCode::BAD_REQUEST,
            ProxyError::UriTooLong => StatusCode::URI_TOO_LONG,
            ProxyError::ModuleFinish => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn source(self) -> Source {
        match self {
            ProxyError::NoTenant | ProxyError::NoRoute => Source::Config,
            ProxyError::Blackhole
            | ProxyError::NoBackend
            | ProxyError::Connect
            | ProxyError::ConnectTimeout
            | ProxyError::ResponseTimeout
            | ProxyError::BackendProtocol => Source::Upstream,
            ProxyError::ClientBodyTimeout
            | ProxyError::BodyTooLarge
            | ProxyError::ClientBody
            | ProxyError::UriTooLong
            | ProxyError::Framing => Source::Downstream,
            ProxyError::ModuleFinish => Source::Module,
        }
    }

    /// Stable code for logs and metrics, in BFE's spirit (`BK_CONNECT_BACKEND`, …).
    pub fn code(self) -> &'static str {
        match self {
            ProxyError::NoTenant => "BK_FIND_PRODUCT",
            ProxyError::NoRoute => "BK_FIND_LOCATION",
            ProxyError::Blackhole => "GSLB_BLACKHOLE",
            ProxyError::NoBackend => "BK_NO_BACKEND",
            ProxyError::Connect => "BK_CONNECT_BACKEND",
            ProxyError::ConnectTimeout => "BK_CONNECT_TIMEOUT",
            ProxyError::ResponseTimeout => "BK_RESP_HEADER_TIMEOUT",
            ProxyError::BackendProtocol => "BK_TRANSPORT_BROKEN",
            ProxyError::ClientBodyTimeout => "CLIENT_TIMEOUT",
            ProxyError::BodyTooLarge => "CLIENT_BODY_TOO_LARGE",
            ProxyError::ClientBody => "CLIENT_BAD_REQUEST",
            ProxyError::UriTooLong => "CLIENT_LONG_URL",
            ProxyError::Framing => "CLIENT_BAD_FRAMING",
            ProxyError::ModuleFinish => "MODULE_FINISH",
        }
    }

    /// Errors after which the client connection cannot be trusted to stay in sync.
    pub fn closes_connection(self) -> bool {
        self.source() == Source::Downstream
    }
}
