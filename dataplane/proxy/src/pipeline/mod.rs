//! The request pipeline: BFE's callback points, the filter chains, and the engine that walks
//! them in order around tenant routing, cluster routing and forwarding.
//!
//! HandleAccept → (HandleHandshake) → per request: HandleBeforeLocation → tenant routing →
//! HandleFoundProduct → cluster routing → HandleAfterLocation → [balance → HandleForward →
//! attempt]* → HandleReadResponse → response → HandleRequestFinish; at close: HandleFinish.

mod chain;
mod context;
mod decision;
mod engine;
mod phase;

pub use chain::{
    Chains, ConnFilter, FinishFilter, ForwardFilter, Named, RequestFilter, RequestFinishFilter,
    ResponseFilter,
};
pub use context::{RequestCtx, Session};
pub use decision::{
    ConnDecision, ForwardDecision, LocalResponse, Redirect, RequestDecision, ResponseDecision,
};
pub use engine::{CloseConnection, Engine, ResponseBody};
pub use phase::{ConnPhase, Phase, RequestPhase};
