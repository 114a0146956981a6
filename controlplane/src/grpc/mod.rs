//! The gRPC services nodes talk to: config distribution (one stream per node) and statistics.
//! Both check the node credential when one is configured.

mod admin;
mod discovery;
mod stats;

use std::sync::Arc;

use bfe_proto::discovery::v1::discovery_server::DiscoveryServer;
use bfe_proto::stats::v1::stats_server::StatsServer;
use tonic::codec::CompressionEncoding;

pub use admin::AdminService;
pub use discovery::DiscoveryService;
pub use stats::StatsService;

use crate::publisher::Publisher;
use crate::store::Store;

/// Node authentication: a shared node token, when configured.
#[derive(Clone, Default)]
pub struct NodeAuth {
    token: Option<Arc<str>>,
}

impl NodeAuth {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()).map(Into::into),
        }
    }

    /// Checks the `authorization: Bearer` metadata, or `fallback` (a token inside the
    /// message), against the configured token.
    #[allow(clippy::result_large_err)] // tonic's Status is what the handlers return
    pub fn check(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        fallback: &str,
    ) -> Result<(), tonic::Status> {
        let Some(want) = &self.token else {
            return Ok(());
        };
        let given = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or(fallback);
        if constant_time_eq(given.as_bytes(), want.as_bytes()) {
            Ok(())
        } else {
            Err(tonic::Status::unauthenticated("invalid node token"))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Both services, ready for `tonic::transport::Server::add_service`.
pub fn services(
    store: Store,
    publisher: Publisher,
    auth: NodeAuth,
) -> (DiscoveryServer<DiscoveryService>, StatsServer<StatsService>) {
    let discovery = DiscoveryServer::new(DiscoveryService::new(
        store.clone(),
        publisher,
        auth.clone(),
    ))
    .send_compressed(CompressionEncoding::Gzip)
    .accept_compressed(CompressionEncoding::Gzip)
    .max_encoding_message_size(256 * 1024 * 1024);
    let stats = StatsServer::new(StatsService::new(store, auth))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(64 * 1024 * 1024);
    (discovery, stats)
}
