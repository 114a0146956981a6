//! mod_logid at HandleBeforeLocation: every request gets an id, kept from a trusted peer's
//! header or generated (128 random bits in hex), stored in the context for logs and
//! `%bfe_log_id`, and sent to the backend in the same header.

use std::sync::Arc;

use bfe_config::Snapshot;
use http::{HeaderName, HeaderValue, request};

use super::{ChainBuilder, Module};
use crate::pipeline::{RequestCtx, RequestDecision, RequestFilter, RequestPhase};

/// Longest id kept from a trusted peer.
const MAX_KEPT_LEN: usize = 128;

#[derive(Default)]
pub struct LogIdModule;

struct LogIdFilter {
    header: HeaderName,
}

impl Module for LogIdModule {
    fn name(&self) -> &'static str {
        "logid"
    }

    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        if let Some(conf) = &snapshot.modules.logid {
            chains.request(
                RequestPhase::BeforeLocation,
                Arc::new(LogIdFilter {
                    header: conf.header.clone(),
                }),
            );
        }
    }
}

impl RequestFilter for LogIdFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let kept = ctx
            .session
            .is_trusted()
            .then(|| req.headers.get(&self.header))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= MAX_KEPT_LEN)
            .filter(|v| v.bytes().all(|b| b.is_ascii_graphic()))
            .map(Arc::<str>::from);
        let (id, action) = match kept {
            Some(id) => (id, "kept"),
            None => (generate().into(), "generated"),
        };
        match HeaderValue::from_str(&id) {
            Ok(v) => {
                req.headers.insert(self.header.clone(), v);
            }
            // Unreachable (hex or visible ASCII); never forward a client's value unchecked.
            Err(_) => {
                req.headers.remove(&self.header);
            }
        }
        ctx.log_id = Some(id);
        ctx.record_action("logid", action);
        RequestDecision::Continue
    }
}

fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}
