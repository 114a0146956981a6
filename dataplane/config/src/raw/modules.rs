//! Module settings in their raw form. Rule-based modules (header, redirect, rewrite, block,
//! rate_limit) have rule lists both here in the global scope and per tenant; global rules run
//! before the tenant's (BFE). Actions keep BFE's command names (`cmd: REQ_HEADER_SET`) with
//! typed `params`, so a BFE user recognises them and a wrong arity is a shape error.

use serde::{Deserialize, Serialize};

use crate::modules::raw::{
    RawBlockRule, RawHeaderRule, RawLogId, RawRateLimitRule, RawRedirectRule, RawRewriteRule,
    RawTrustClientIp,
};

/// Settings and rules of the global scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGlobalModules {
    #[serde(default)]
    pub access_log: RawAccessLog,
    /// mod_trust_clientip: peers allowed to tell the client address and log id.
    #[serde(default, skip_serializing_if = "RawTrustClientIp::is_empty")]
    pub trust_clientip: RawTrustClientIp,
    /// mod_logid: a request id kept from trusted peers or generated.
    #[serde(default, skip_serializing_if = "RawLogId::is_default")]
    pub logid: RawLogId,
    /// mod_block's global IP blocklist: connections from these close at HandleAccept.
    /// Entries: `10.0.0.1`, `10.0.0.0/8`, or `10.0.0.1-10.0.0.9`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_blocklist: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<RawBlockRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limit: Vec<RawRateLimitRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect: Vec<RawRedirectRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewrite: Vec<RawRewriteRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header: Vec<RawHeaderRule>,
}

/// Rules of one tenant's scope; they run after the global scope's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenantModules {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<RawBlockRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limit: Vec<RawRateLimitRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect: Vec<RawRedirectRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewrite: Vec<RawRewriteRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header: Vec<RawHeaderRule>,
}

/// The access log (BFE mod_access), written at HandleRequestFinish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAccessLog {
    pub enabled: bool,
    pub format: AccessLogFormat,
    /// `stdout`, or a file path the node appends to.
    pub target: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// NCSA combined log format.
    Combined,
}

// === impl RawAccessLog ===

impl Default for RawAccessLog {
    fn default() -> Self {
        Self {
            enabled: false,
            format: AccessLogFormat::Json,
            target: "stdout".to_owned(),
        }
    }
}
