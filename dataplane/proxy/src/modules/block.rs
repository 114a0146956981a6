//! mod_block: the global IP blocklist closes connections at HandleAccept, before a byte is
//! read; condition rules (global, then the tenant's) run at HandleFoundProduct: `CLOSE` closes
//! without a response, `ALLOW` stops evaluating, `RESPOND` answers.

use std::sync::Arc;

use bfe_config::Snapshot;
use bfe_config::modules::{BlockAction, IpRanges};
use http::request;

use super::scopes::{Scopes, local_response};
use super::{ChainBuilder, Module};
use crate::facts::ReqFacts;
use crate::pipeline::{
    ConnDecision, ConnFilter, ConnPhase, RequestCtx, RequestDecision, RequestFilter, RequestPhase,
    Session,
};

#[derive(Default)]
pub struct BlockModule;

struct IpBlockFilter {
    blocked: IpRanges,
}

struct RuleFilter {
    scopes: Arc<Scopes>,
}

impl Module for BlockModule {
    fn name(&self) -> &'static str {
        "block"
    }

    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let blocked = &snapshot.modules.ip_blocklist;
        if !blocked.is_empty() {
            chains.conn(
                ConnPhase::Accept,
                Arc::new(IpBlockFilter {
                    blocked: blocked.clone(),
                }),
            );
        }
        let scopes = chains.scopes().clone();
        if scopes.any(|s| !s.block.is_empty()) {
            chains.request(RequestPhase::FoundProduct, Arc::new(RuleFilter { scopes }));
        }
    }
}

impl ConnFilter for IpBlockFilter {
    fn on_conn(&self, session: &Session) -> ConnDecision {
        if self.blocked.contains(session.peer.ip()) {
            tracing::debug!(peer = %session.peer, "Blocked address; closing.");
            return ConnDecision::Close;
        }
        ConnDecision::Continue
    }
}

impl RequestFilter for RuleFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let action = {
            let facts = ReqFacts {
                req,
                ctx,
                res: None,
            };
            self.scopes
                .for_request(ctx.tenant)
                .flat_map(|s| &s.block)
                .find(|r| r.condition.eval(&facts))
                .map(|r| &r.action)
        };
        match action {
            None => RequestDecision::Continue,
            Some(BlockAction::Allow) => {
                ctx.record_action("block", "allow");
                RequestDecision::Continue
            }
            Some(BlockAction::Close) => {
                ctx.record_action("block", "close");
                RequestDecision::Close
            }
            Some(BlockAction::Respond(reply)) => {
                ctx.record_action("block", "respond");
                RequestDecision::Respond(local_response(reply))
            }
        }
    }
}
