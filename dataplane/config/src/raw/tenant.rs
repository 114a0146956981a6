use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RawTenantModules;

/// Basic-rule target meaning "no cluster here: fall through to the advanced rules" (BFE's name).
pub const ADVANCED_MODE: &str = "ADVANCED_MODE";

/// A tenant (BFE "product"): the hosts it owns, its routes and its module rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    /// Host names owned directly (host tag = the tenant's name). `*.example.com` matches one or
    /// more extra labels.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Named groups of hosts (BFE host tags), usable in `req_host_tag_in`.
    #[serde(default)]
    pub host_tags: BTreeMap<String, Vec<String>>,
    /// Virtual IPs whose traffic belongs to this tenant when the Host matches nobody.
    #[serde(default)]
    pub vips: Vec<String>,
    #[serde(default)]
    pub routes: RawRoutes,
    #[serde(default)]
    pub modules: RawTenantModules,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoutes {
    /// Host × path rules, unordered: the most specific match wins.
    #[serde(default)]
    pub basic: Vec<RawBasicRule>,
    /// Ordered `condition → cluster` rules: the first match wins.
    #[serde(default)]
    pub advanced: Vec<RawAdvancedRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBasicRule {
    /// Exact hosts, `*.suffix` (exactly one label) or `*`; empty means `*`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Exact paths, or prefixes written `/a/b*` (matches `/a/b` and `/a/b/...`); empty means `*`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// A cluster name, or `ADVANCED_MODE`.
    pub cluster: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdvancedRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub condition: String,
    pub cluster: String,
}
