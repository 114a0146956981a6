//! The shared configuration model of the load balancer.
//!
//! Raw serde types (`raw`) are what files, the REST API and the database carry. `compile` turns
//! one raw document into an immutable, validated [`Snapshot`] of runtime tables, or reports every
//! [`Violation`] with its field path. The data plane and the control plane both call `compile`,
//! so a change the control plane accepts is exactly a change the data plane can run.

pub mod cluster;
mod compile;
pub mod cond;
pub mod error;
pub mod host;
pub mod host_table;
pub mod modules;
pub mod raw;
pub mod route_table;
pub mod snapshot;
pub mod tls;

pub use compile::compile;

/// The hash map of the per-request lookup tables (hosts, routes, the backend pool). Their keys
/// come from the config, so flooding them with colliding keys is not open to clients, and a
/// lookup costs a fraction of SipHash's (foldhash is also what hashbrown uses by default).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub use error::{FieldPath, Violation, Violations};
pub use raw::RawSnapshot;
pub use snapshot::{ClusterId, Snapshot, Tenant, TenantId};
