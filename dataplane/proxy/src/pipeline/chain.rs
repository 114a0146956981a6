//! Filter traits, one per kind, and the per-phase chains built from a snapshot. A chain runs
//! its filters in registration order and stops at the first decision that is not Continue.

use std::sync::Arc;

use http::{request, response};

use super::context::{RequestCtx, Session};
use super::decision::{ConnDecision, ForwardDecision, RequestDecision, ResponseDecision};
use super::phase::{ConnPhase, RequestPhase};

/// A filter at HandleAccept or HandleHandshake.
pub trait ConnFilter: Send + Sync {
    fn on_conn(&self, session: &Session) -> ConnDecision;
}

/// A filter at HandleBeforeLocation, HandleFoundProduct or HandleAfterLocation.
pub trait RequestFilter: Send + Sync {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision;
}

/// A filter at HandleForward, run before each attempt with the backend chosen.
pub trait ForwardFilter: Send + Sync {
    fn on_forward(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> ForwardDecision;
}

/// A filter at HandleReadResponse.
pub trait ResponseFilter: Send + Sync {
    /// `req` is the request as forwarded (after rewrites), read-only here.
    fn on_response(
        &self,
        ctx: &mut RequestCtx,
        req: &request::Parts,
        res: &mut response::Parts,
    ) -> ResponseDecision;
}

/// A filter at HandleRequestFinish: observes the finished request.
pub trait RequestFinishFilter: Send + Sync {
    fn on_request_finish(&self, ctx: &RequestCtx);
}

/// A filter at HandleFinish: observes the closing connection.
pub trait FinishFilter: Send + Sync {
    fn on_finish(&self, session: &Session);
}

/// A filter with the name of the module that registered it.
pub struct Named<F: ?Sized> {
    pub module: &'static str,
    pub filter: Arc<F>,
}

/// The filters of every phase for one snapshot, in module order.
#[derive(Default)]
pub struct Chains {
    pub accept: Vec<Named<dyn ConnFilter>>,
    pub handshake: Vec<Named<dyn ConnFilter>>,
    pub before_location: Vec<Named<dyn RequestFilter>>,
    pub found_product: Vec<Named<dyn RequestFilter>>,
    pub after_location: Vec<Named<dyn RequestFilter>>,
    pub forward: Vec<Named<dyn ForwardFilter>>,
    pub read_response: Vec<Named<dyn ResponseFilter>>,
    pub request_finish: Vec<Named<dyn RequestFinishFilter>>,
    pub finish: Vec<Named<dyn FinishFilter>>,
}

// === impl Chains ===

impl Chains {
    pub fn run_conn(&self, phase: ConnPhase, session: &Session) -> ConnDecision {
        let chain = match phase {
            ConnPhase::Accept => &self.accept,
            ConnPhase::Handshake => &self.handshake,
        };
        for f in chain {
            if let d @ ConnDecision::Close = f.filter.on_conn(session) {
                tracing::debug!(module = f.module, phase = ?phase, "Filter closed the connection.");
                return d;
            }
        }
        ConnDecision::Continue
    }

    pub fn run_request(
        &self,
        phase: RequestPhase,
        ctx: &mut RequestCtx,
        req: &mut request::Parts,
    ) -> RequestDecision {
        let chain = match phase {
            RequestPhase::BeforeLocation => &self.before_location,
            RequestPhase::FoundProduct => &self.found_product,
            RequestPhase::AfterLocation => &self.after_location,
        };
        for f in chain {
            match f.filter.on_request(ctx, req) {
                RequestDecision::Continue => {}
                d => return d,
            }
        }
        RequestDecision::Continue
    }

    pub fn run_forward(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> ForwardDecision {
        for f in &self.forward {
            match f.filter.on_forward(ctx, req) {
                ForwardDecision::Continue => {}
                d @ ForwardDecision::Finish(_) => return d,
            }
        }
        ForwardDecision::Continue
    }

    pub fn run_response(
        &self,
        ctx: &mut RequestCtx,
        req: &request::Parts,
        res: &mut response::Parts,
    ) -> ResponseDecision {
        for f in &self.read_response {
            match f.filter.on_response(ctx, req, res) {
                ResponseDecision::Continue => {}
                d => return d,
            }
        }
        ResponseDecision::Continue
    }

    pub fn run_request_finish(&self, ctx: &RequestCtx) {
        for f in &self.request_finish {
            f.filter.on_request_finish(ctx);
        }
    }

    pub fn run_finish(&self, session: &Session) {
        for f in &self.finish {
            f.filter.on_finish(session);
        }
    }
}
