//! Module settings in their raw form. Rule-based modules (header, redirect, rewrite, block, …)
//! add their rule lists here, per tenant and in the global scope.

use serde::{Deserialize, Serialize};

/// Settings and rules of the global scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGlobalModules {
    #[serde(default)]
    pub access_log: RawAccessLog,
}

/// Rules of one tenant's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenantModules {}

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

impl Default for RawAccessLog {
    fn default() -> Self {
        Self {
            enabled: false,
            format: AccessLogFormat::Json,
            target: "stdout".to_owned(),
        }
    }
}
