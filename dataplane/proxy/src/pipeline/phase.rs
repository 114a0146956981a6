//! BFE's nine callback points. A module registers filters at these points; the engine runs
//! them in this order (see `mod.rs`).

use std::fmt;

/// Every callback point, with the stable name used in logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// After TCP accept. Connection filters: Continue or Close.
    Accept,
    /// After a TLS handshake. Connection filters: Continue or Close.
    Handshake,
    /// Request head read, before tenant routing. Request filters.
    BeforeLocation,
    /// Tenant (BFE product) known. Request filters.
    FoundProduct,
    /// Cluster known. Request filters.
    AfterLocation,
    /// Before each forwarding attempt, retries included. Forward filters.
    Forward,
    /// Response head known (backend's or a module's `Respond`). Response filters.
    ReadResponse,
    /// Response written to the client. Observe only.
    RequestFinish,
    /// Client connection closing. Observe only.
    Finish,
}

/// The points whose filters see a connection and may close it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnPhase {
    Accept,
    Handshake,
}

/// The points whose filters see a request before it is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPhase {
    BeforeLocation,
    FoundProduct,
    AfterLocation,
}

// === impl Phase ===

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Accept,
        Phase::Handshake,
        Phase::BeforeLocation,
        Phase::FoundProduct,
        Phase::AfterLocation,
        Phase::Forward,
        Phase::ReadResponse,
        Phase::RequestFinish,
        Phase::Finish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Accept => "HandleAccept",
            Phase::Handshake => "HandleHandshake",
            Phase::BeforeLocation => "HandleBeforeLocation",
            Phase::FoundProduct => "HandleFoundProduct",
            Phase::AfterLocation => "HandleAfterLocation",
            Phase::Forward => "HandleForward",
            Phase::ReadResponse => "HandleReadResponse",
            Phase::RequestFinish => "HandleRequestFinish",
            Phase::Finish => "HandleFinish",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ConnPhase> for Phase {
    fn from(p: ConnPhase) -> Self {
        match p {
            ConnPhase::Accept => Phase::Accept,
            ConnPhase::Handshake => Phase::Handshake,
        }
    }
}

impl From<RequestPhase> for Phase {
    fn from(p: RequestPhase) -> Self {
        match p {
            RequestPhase::BeforeLocation => Phase::BeforeLocation,
            RequestPhase::FoundProduct => Phase::FoundProduct,
            RequestPhase::AfterLocation => Phase::AfterLocation,
        }
    }
}
