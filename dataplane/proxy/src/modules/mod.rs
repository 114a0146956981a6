//! Modules and their registry. A module registers filters at named callback points for each
//! snapshot; the registry builds every chain in one explicit module order (BFE's compiled-in
//! list), so handler order never depends on config order.

mod access_log;
mod block;
mod header;
mod logid;
mod rate_limit;
mod redirect;
mod rewrite;
mod scopes;
mod trust_clientip;

use std::sync::Arc;

use bfe_config::Snapshot;

use self::scopes::Scopes;

use crate::pipeline::{
    Chains, ConnFilter, ConnPhase, FinishFilter, ForwardFilter, Named, RequestFilter,
    RequestFinishFilter, RequestPhase, ResponseFilter,
};

/// A module: builds its filters from a snapshot (cheap views of compiled config) and keeps
/// any runtime state (files, counters) across snapshots.
pub trait Module: Send + Sync {
    fn name(&self) -> &'static str;
    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>);
}

/// The modules of this build, in execution order.
pub struct Registry {
    modules: Vec<Box<dyn Module>>,
}

/// Where a module adds its filters; it records which module added each one.
pub struct ChainBuilder<'a> {
    module: &'static str,
    chains: &'a mut Chains,
    scopes: &'a Arc<Scopes>,
}

// === impl Registry ===

impl Registry {
    /// The standard module list. Order matters: it is the order filters run at each point
    /// (BFE's compiled-in order: trust_clientip, logid, block, prison, redirect, rewrite,
    /// header, access).
    pub fn standard() -> Self {
        Self {
            modules: vec![
                Box::new(trust_clientip::TrustClientIpModule),
                Box::new(logid::LogIdModule),
                Box::new(block::BlockModule),
                Box::new(rate_limit::RateLimitModule::default()),
                Box::new(redirect::RedirectModule),
                Box::new(rewrite::RewriteModule),
                Box::new(header::HeaderModule::default()),
                Box::new(access_log::AccessLogModule::default()),
            ],
        }
    }

    pub fn build(&self, snapshot: &Snapshot) -> Chains {
        let mut chains = Chains::default();
        let scopes = Arc::new(Scopes::build(snapshot));
        for m in &self.modules {
            m.register(
                snapshot,
                &mut ChainBuilder {
                    module: m.name(),
                    chains: &mut chains,
                    scopes: &scopes,
                },
            );
        }
        chains
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.modules.iter().map(|m| m.name()).collect()
    }
}

// === impl ChainBuilder ===

impl ChainBuilder<'_> {
    /// The rule scopes of this snapshot (global, then each tenant's), shared by all modules.
    pub fn scopes(&self) -> &Arc<Scopes> {
        self.scopes
    }

    fn named<F: ?Sized>(&self, filter: Arc<F>) -> Named<F> {
        Named {
            module: self.module,
            filter,
        }
    }

    pub fn conn(&mut self, phase: ConnPhase, f: Arc<dyn ConnFilter>) {
        let n = self.named(f);
        match phase {
            ConnPhase::Accept => self.chains.accept.push(n),
            ConnPhase::Handshake => self.chains.handshake.push(n),
        }
    }

    pub fn request(&mut self, phase: RequestPhase, f: Arc<dyn RequestFilter>) {
        let n = self.named(f);
        match phase {
            RequestPhase::BeforeLocation => self.chains.before_location.push(n),
            RequestPhase::FoundProduct => self.chains.found_product.push(n),
            RequestPhase::AfterLocation => self.chains.after_location.push(n),
        }
    }

    pub fn forward(&mut self, f: Arc<dyn ForwardFilter>) {
        let n = self.named(f);
        self.chains.forward.push(n);
    }

    pub fn response(&mut self, f: Arc<dyn ResponseFilter>) {
        let n = self.named(f);
        self.chains.read_response.push(n);
    }

    pub fn request_finish(&mut self, f: Arc<dyn RequestFinishFilter>) {
        let n = self.named(f);
        self.chains.request_finish.push(n);
    }

    pub fn finish(&mut self, f: Arc<dyn FinishFilter>) {
        let n = self.named(f);
        self.chains.finish.push(n);
    }
}
