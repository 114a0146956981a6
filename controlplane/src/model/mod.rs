//! The resources the control plane stores, and how they assemble into one
//! [`RawSnapshot`](bfe_config::RawSnapshot).
//!
//! A snapshot is split into independently versioned resources so that each has its own ETag:
//! a tenant's identity (hosts, tags, VIPs), its route rules, its module rules, each cluster, each
//! certificate, the global module settings, and the global settings (default tenant).

mod config;
mod doc;
mod ownership;

pub use config::{Config, Entry};
pub use doc::{
    CertificateView, Doc, GlobalSettings, REDACTED, ResourceKey, ResourceKind, TenantDoc,
    redact_value,
};
pub use ownership::ownership_violations;

/// Name under which the singleton resources (global modules, settings) are stored.
pub const GLOBAL: &str = "global";
