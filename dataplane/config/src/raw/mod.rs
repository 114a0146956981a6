//! Raw configuration: the serde shape of one snapshot as files, the REST API and the store carry
//! it. Unknown fields are errors (a typo must not pass silently); every semantic check happens in
//! `compile`, never here, so a parse error is only ever about shape.

mod cluster;
mod modules;
mod tenant;
mod tls;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::modules::raw::*;
pub use cluster::{
    BackendProtocol, Balance, GSLB_BLACKHOLE, HashStrategy, HealthKind, HealthMode, RawBackend,
    RawBackendTls, RawCluster, RawHashConf, RawHealthCheck, RawPool, RawRetry, RawSubCluster,
    RawTimeouts, RetryLevel,
};
pub use modules::{AccessLogFormat, RawAccessLog, RawGlobalModules, RawTenantModules};
pub use tenant::{ADVANCED_MODE, RawAdvancedRule, RawBasicRule, RawRoutes, RawTenant};
pub use tls::{AlpnProtocol, RawClientAuth, RawStream, RawTls, RawTlsRule};

/// One whole configuration: what `dataplane --config FILE` reads and what a control-plane
/// version holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshot {
    /// Free-form label for standalone files; the control plane stamps its own version number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Tenant that serves hosts no tenant claims (BFE's `DefaultProduct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tenant: Option<String>,
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
    #[serde(default)]
    pub clusters: Vec<RawCluster>,
    #[serde(default)]
    pub certificates: Vec<RawCertificate>,
    /// TLS rules: certificate per VIP/SNI, ALPN, client authentication.
    #[serde(default, skip_serializing_if = "is_default")]
    pub tls: RawTls,
    /// Module settings and rules of the global scope (they run before any tenant's).
    #[serde(default)]
    pub modules: RawGlobalModules,
}

/// A PEM certificate chain and its private key. The key is write-only through the admin API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCertificate {
    pub name: String,
    pub cert_pem: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_pem: String,
    /// A DER OCSP response for the leaf, base64, stapled to TLS handshakes (BFE's
    /// `OcspResponseFile`, fetched by the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_der_base64: Option<String>,
}

/// Why a document could not even be read as a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
}

/// Sections left at their defaults stay out of the canonical form, so adding a feature does
/// not change the hash of configs that do not use it.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

// === impl RawSnapshot ===

impl RawSnapshot {
    /// Reads JSON when the text starts with `{`, YAML otherwise.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.trim_start().starts_with('{') {
            Ok(serde_json::from_str(text)?)
        } else {
            Ok(serde_yaml_ng::from_str(text)?)
        }
    }

    /// The canonical encoding: compact JSON with struct fields in declaration order and maps
    /// sorted (all maps are `BTreeMap`), so equal configs hash equal.
    pub fn canonical_json(&self) -> Vec<u8> {
        // Serializing plain data into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Hex SHA-256 of [`Self::canonical_json`].
    pub fn sha256_hex(&self) -> String {
        let digest = Sha256::digest(self.canonical_json());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests;
