//! One stored resource document, typed by kind.

use std::collections::BTreeMap;
use std::fmt;

use bfe_config::raw::{RawCertificate, RawCluster, RawGlobalModules, RawRoutes, RawTenantModules};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What stands in for a private key wherever a document is shown.
pub const REDACTED: &str = "[redacted]";

/// Why a document could not be read, and at which field.
pub type DocError = serde_path_to_error::Error<serde_json::Error>;

/// The kinds of stored resources.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// Hosts, host tags and VIPs of one tenant.
    Tenant,
    /// The basic and advanced route rules of one tenant (named by the tenant).
    Routes,
    /// The module rules of one tenant (named by the tenant).
    TenantModules,
    Cluster,
    Certificate,
    /// The global module settings (singleton named `global`).
    GlobalModules,
    /// Global settings such as the default tenant (singleton named `global`).
    Settings,
}

/// Identity of one resource: its kind and its name (the tenant name for per-tenant kinds).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub kind: ResourceKind,
    pub name: String,
}

/// A tenant's own fields; its routes and module rules are separate resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDoc {
    pub name: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub host_tags: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub vips: Vec<String>,
}

/// Global settings that are not module settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalSettings {
    /// Tenant that serves hosts no tenant claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tenant: Option<String>,
}

/// A certificate as the API shows it: never the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateView {
    pub name: String,
    pub cert_pem: String,
    /// Whether a private key is stored (it is never returned).
    pub has_key: bool,
}

/// One typed resource document. Clusters are the largest variant and the most numerous, so
/// boxing them would only add an allocation to the common case.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doc {
    Tenant(TenantDoc),
    Routes(RawRoutes),
    TenantModules(RawTenantModules),
    Cluster(RawCluster),
    Certificate(RawCertificate),
    GlobalModules(RawGlobalModules),
    Settings(GlobalSettings),
}

// === impl ResourceKind ===

impl ResourceKind {
    pub const ALL: [Self; 7] = [
        Self::Tenant,
        Self::Routes,
        Self::TenantModules,
        Self::Cluster,
        Self::Certificate,
        Self::GlobalModules,
        Self::Settings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Routes => "routes",
            Self::TenantModules => "tenant_modules",
            Self::Cluster => "cluster",
            Self::Certificate => "certificate",
            Self::GlobalModules => "global_modules",
            Self::Settings => "settings",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Kinds that belong to one tenant and are named by it.
    pub fn is_per_tenant(self) -> bool {
        matches!(self, Self::Tenant | Self::Routes | Self::TenantModules)
    }

    /// Kinds with exactly one instance, named `global`.
    pub fn is_singleton(self) -> bool {
        matches!(self, Self::GlobalModules | Self::Settings)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl ResourceKey ===

impl ResourceKey {
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.kind, self.name)
    }
}

// === impl Doc ===

impl Doc {
    /// Reads a document of `kind` from JSON; unknown fields are errors, which name the field.
    pub fn from_value(kind: ResourceKind, v: Value) -> Result<Self, DocError> {
        use serde_path_to_error::deserialize as de;
        Ok(match kind {
            ResourceKind::Tenant => Self::Tenant(de(v)?),
            ResourceKind::Routes => Self::Routes(de(v)?),
            ResourceKind::TenantModules => Self::TenantModules(de(v)?),
            ResourceKind::Cluster => Self::Cluster(de(v)?),
            ResourceKind::Certificate => Self::Certificate(de(v)?),
            ResourceKind::GlobalModules => Self::GlobalModules(de(v)?),
            ResourceKind::Settings => Self::Settings(de(v)?),
        })
    }

    pub fn from_json_str(kind: ResourceKind, s: &str) -> Result<Self, DocError> {
        let v: Value =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(s))?;
        Self::from_value(kind, v)
    }

    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::Tenant(_) => ResourceKind::Tenant,
            Self::Routes(_) => ResourceKind::Routes,
            Self::TenantModules(_) => ResourceKind::TenantModules,
            Self::Cluster(_) => ResourceKind::Cluster,
            Self::Certificate(_) => ResourceKind::Certificate,
            Self::GlobalModules(_) => ResourceKind::GlobalModules,
            Self::Settings(_) => ResourceKind::Settings,
        }
    }

    /// The name the document carries itself, for kinds that have one.
    pub fn own_name(&self) -> Option<&str> {
        match self {
            Self::Tenant(t) => Some(&t.name),
            Self::Cluster(c) => Some(&c.name),
            Self::Certificate(c) => Some(&c.name),
            _ => None,
        }
    }

    /// The full document, private keys included: only for the store.
    pub fn to_stored_json(&self) -> String {
        // Serializing plain data cannot fail.
        serde_json::to_string(&self.to_full_value()).unwrap_or_default()
    }

    /// The full document, private keys included: only for the store and for merge patches.
    pub fn to_full_value(&self) -> Value {
        let v = match self {
            Self::Tenant(d) => serde_json::to_value(d),
            Self::Routes(d) => serde_json::to_value(d),
            Self::TenantModules(d) => serde_json::to_value(d),
            Self::Cluster(d) => serde_json::to_value(d),
            Self::Certificate(d) => serde_json::to_value(d),
            Self::GlobalModules(d) => serde_json::to_value(d),
            Self::Settings(d) => serde_json::to_value(d),
        };
        v.unwrap_or(Value::Null)
    }

    /// The document as the API shows it (certificates without their key).
    pub fn to_public_value(&self) -> Value {
        match self {
            Self::Certificate(c) => serde_json::to_value(CertificateView {
                name: c.name.clone(),
                cert_pem: c.cert_pem.clone(),
                has_key: !c.key_pem.is_empty(),
            })
            .unwrap_or(Value::Null),
            other => other.to_full_value(),
        }
    }

    /// The document as the audit log and diffs show it: the key replaced by a marker, so a key
    /// change is visible without the key.
    pub fn to_redacted_value(&self) -> Value {
        let mut v = self.to_full_value();
        if let Self::Certificate(_) = self {
            redact_value(&mut v);
        }
        v
    }
}

/// Replaces a `key_pem` member of a JSON object with [`REDACTED`].
pub fn redact_value(v: &mut Value) {
    if let Some(obj) = v.as_object_mut()
        && let Some(key) = obj.get_mut("key_pem")
        && key.as_str().is_some_and(|s| !s.is_empty())
    {
        *key = Value::String(REDACTED.to_owned());
    }
}
