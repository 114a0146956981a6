//! Raw (serde) settings of the rule-based modules, referenced by `crate::raw::RawGlobalModules`
//! and `RawTenantModules`. Actions keep BFE's command names (`cmd: REQ_HEADER_SET`) with typed
//! `params`, so a BFE user recognises them and a wrong arity is a shape error.

use serde::{Deserialize, Serialize};

/// mod_trust_clientip (HandleAccept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrustClientIp {
    /// Trusted peers: `10.0.0.1`, `10.0.0.0/8`, or `10.0.0.1-10.0.0.9` (BFE's Begin/End).
    #[serde(default)]
    pub ranges: Vec<String>,
}

/// mod_logid (HandleBeforeLocation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLogId {
    pub enabled: bool,
    /// The request header that carries the id to the backend (and from trusted peers).
    pub header: String,
}

/// One mod_block rule (HandleFoundProduct).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlockRule {
    pub name: String,
    pub condition: String,
    pub action: RawBlockAction,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "params", deny_unknown_fields)]
pub enum RawBlockAction {
    /// Close the connection, sending nothing.
    #[default]
    #[serde(rename = "CLOSE")]
    Close,
    /// Stop evaluating block rules (the tenant's too, when a global rule allows).
    #[serde(rename = "ALLOW")]
    Allow,
    /// Answer with this status and body (through HandleReadResponse; the connection stays).
    #[serde(rename = "RESPOND")]
    Respond(RawLocalResponse),
}

/// A response the proxy makes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocalResponse {
    #[serde(default = "default_limited_status")]
    pub status: u16,
    #[serde(default)]
    pub body: String,
}

/// One rate limit rule, in the spirit of mod_prison (HandleFoundProduct): requests matching
/// `condition` are counted per key in windows of `window_ms`; a key that goes over `threshold`
/// within one window is jailed for `stay_ms`, and `action` applies to it meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimitRule {
    pub name: String,
    pub condition: String,
    /// What identifies a client: `client_ip`, `socket_ip`, `host`, `path`, `url`,
    /// `header:NAME`, `cookie:NAME`, `query:NAME`; several are combined.
    pub key: Vec<String>,
    pub window_ms: u64,
    pub threshold: u64,
    #[serde(default)]
    pub stay_ms: u64,
    pub action: RawRateLimitAction,
    /// Distinct keys tracked at most; the oldest are forgotten first.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "params", deny_unknown_fields)]
pub enum RawRateLimitAction {
    /// Close the connection, sending nothing.
    #[serde(rename = "CLOSE")]
    Close,
    /// Answer, skip HandleReadResponse, close the connection after the answer. `params`
    /// (`{status, body}`, 429 by default) may be left out.
    #[serde(rename = "FINISH")]
    Finish(Option<RawLocalResponse>),
    /// Answer (through HandleReadResponse); the connection stays open.
    #[serde(rename = "RESPOND")]
    Respond(Option<RawLocalResponse>),
    /// Count and record only.
    #[serde(rename = "PASS")]
    Pass,
}

/// One mod_redirect rule (HandleFoundProduct): the first matching rule redirects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedirectRule {
    pub condition: String,
    pub actions: Vec<RawRedirectAction>,
    /// 301, 302, 303, 307 or 308.
    #[serde(default = "default_redirect_status")]
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "params", deny_unknown_fields)]
pub enum RawRedirectAction {
    /// `[url]`: redirect to this URL.
    #[serde(rename = "URL_SET")]
    UrlSet((String,)),
    /// `[key]`: redirect to the (decoded) value of this query parameter.
    #[serde(rename = "URL_FROM_QUERY")]
    UrlFromQuery((String,)),
    /// `[prefix]`: redirect to prefix + the request's path and query.
    #[serde(rename = "URL_PREFIX_ADD")]
    UrlPrefixAdd((String,)),
    /// `[http|https]`: redirect to the same URL with this scheme.
    #[serde(rename = "SCHEME_SET")]
    SchemeSet((String,)),
}

/// One mod_rewrite rule (HandleAfterLocation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRewriteRule {
    pub condition: String,
    pub actions: Vec<RawRewriteAction>,
    /// Stop the later rules of this scope when this one matched.
    #[serde(default)]
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "params", deny_unknown_fields)]
pub enum RawRewriteAction {
    #[serde(rename = "HOST_SET")]
    HostSet((String,)),
    /// `/example.org/rest` → Host `example.org`, path `/rest`.
    #[serde(rename = "HOST_SET_FROM_PATH_PREFIX")]
    HostSetFromPathPrefix,
    /// `[old_suffix, new_suffix]`
    #[serde(rename = "HOST_SUFFIX_REPLACE")]
    HostSuffixReplace(String, String),
    #[serde(rename = "PATH_SET")]
    PathSet((String,)),
    #[serde(rename = "PATH_PREFIX_ADD")]
    PathPrefixAdd((String,)),
    #[serde(rename = "PATH_PREFIX_TRIM")]
    PathPrefixTrim((String,)),
    /// `[key, value]`, appended as `key=value`.
    #[serde(rename = "QUERY_ADD")]
    QueryAdd(String, String),
    /// `[key, ...]`
    #[serde(rename = "QUERY_DEL")]
    QueryDel(Vec<String>),
    /// `[key, ...]`: keep only these keys.
    #[serde(rename = "QUERY_DEL_ALL_EXCEPT")]
    QueryDelAllExcept(Vec<String>),
    /// `[old, new]`
    #[serde(rename = "QUERY_RENAME")]
    QueryRename(String, String),
}

/// One mod_header rule: `REQ_*` actions run at HandleAfterLocation, `RSP_*` actions at
/// HandleReadResponse (each phase evaluates the condition itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeaderRule {
    pub condition: String,
    pub actions: Vec<RawHeaderAction>,
    /// Stop the later rules of this scope (at the same phase) when this one matched.
    #[serde(default)]
    pub last: bool,
}

/// Values may use `%variables` (`%bfe_client_ip`, `%bfe_log_id`, …); `%%` is a literal `%`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "params", deny_unknown_fields)]
pub enum RawHeaderAction {
    /// `[name, value]`
    #[serde(rename = "REQ_HEADER_SET")]
    ReqHeaderSet(String, String),
    #[serde(rename = "REQ_HEADER_ADD")]
    ReqHeaderAdd(String, String),
    /// `[name]`
    #[serde(rename = "REQ_HEADER_DEL")]
    ReqHeaderDel((String,)),
    /// `[old, new]`
    #[serde(rename = "REQ_HEADER_RENAME")]
    ReqHeaderRename(String, String),
    #[serde(rename = "RSP_HEADER_SET")]
    RspHeaderSet(String, String),
    #[serde(rename = "RSP_HEADER_ADD")]
    RspHeaderAdd(String, String),
    #[serde(rename = "RSP_HEADER_DEL")]
    RspHeaderDel((String,)),
    #[serde(rename = "RSP_HEADER_RENAME")]
    RspHeaderRename(String, String),
    /// `[name, value]` in the request's Cookie header.
    #[serde(rename = "REQ_COOKIE_SET")]
    ReqCookieSet(String, String),
    /// `[name]`
    #[serde(rename = "REQ_COOKIE_DEL")]
    ReqCookieDel((String,)),
    /// A Set-Cookie line replacing any other for the same name.
    #[serde(rename = "RSP_COOKIE_SET")]
    RspCookieSet(RawSetCookie),
    /// `[name]`: drop the response's Set-Cookie lines for this name.
    #[serde(rename = "RSP_COOKIE_DEL")]
    RspCookieDel((String,)),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSetCookie {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub http_only: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secure: bool,
}

// === impl RawTrustClientIp ===

impl RawTrustClientIp {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

// === impl RawLogId ===

impl RawLogId {
    pub const DEFAULT_HEADER: &'static str = "X-Bfe-Log-Id";

    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

impl Default for RawLogId {
    fn default() -> Self {
        Self {
            enabled: false,
            header: Self::DEFAULT_HEADER.to_owned(),
        }
    }
}

// === impl RawLocalResponse ===

impl Default for RawLocalResponse {
    fn default() -> Self {
        Self {
            status: default_limited_status(),
            body: String::new(),
        }
    }
}

fn default_limited_status() -> u16 {
    429
}

fn default_max_keys() -> usize {
    100_000
}

fn default_redirect_status() -> u16 {
    302
}
