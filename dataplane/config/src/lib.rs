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
pub use error::{FieldPath, Violation, Violations};
pub use raw::RawSnapshot;
pub use snapshot::{ClusterId, Snapshot, Tenant, TenantId};
