//! mod_trust_clientip: connections from trusted ranges (load balancers, CDNs in front of us)
//! are marked at HandleAccept; for those, HandleBeforeLocation takes the client address from
//! `X-Real-Ip`, else from the first `X-Forwarded-For` element (BFE `setClientAddr`).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bfe_config::Snapshot;
use bfe_config::modules::IpRanges;
use http::request;

use super::{ChainBuilder, Module};
use crate::pipeline::{
    ConnDecision, ConnFilter, ConnPhase, RequestCtx, RequestDecision, RequestFilter, RequestPhase,
    Session,
};

#[derive(Default)]
pub struct TrustClientIpModule;

struct TrustFilter {
    ranges: IpRanges,
}

struct ClientAddrFilter;

impl Module for TrustClientIpModule {
    fn name(&self) -> &'static str {
        "trust_clientip"
    }

    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let Some(ranges) = &snapshot.modules.trust_clientip else {
            return;
        };
        chains.conn(
            ConnPhase::Accept,
            Arc::new(TrustFilter {
                ranges: ranges.clone(),
            }),
        );
        chains.request(RequestPhase::BeforeLocation, Arc::new(ClientAddrFilter));
    }
}

impl ConnFilter for TrustFilter {
    fn on_conn(&self, session: &Session) -> ConnDecision {
        if self.ranges.contains(session.peer.ip()) {
            session.trusted.store(true, Ordering::Relaxed);
        }
        ConnDecision::Continue
    }
}

impl RequestFilter for ClientAddrFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        if ctx.session.is_trusted()
            && let Some(ip) = told_client_ip(req)
        {
            ctx.client_ip = ip;
            ctx.record_action("trust_clientip", "client_ip");
        }
        RequestDecision::Continue
    }
}

/// `X-Real-Ip`, else the first element of `X-Forwarded-For`; unparsable values are ignored.
fn told_client_ip(req: &request::Parts) -> Option<IpAddr> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let parse = |s: &str| s.trim().parse::<IpAddr>().ok();
    header("x-real-ip").and_then(parse).or_else(|| {
        header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .and_then(parse)
    })
}
