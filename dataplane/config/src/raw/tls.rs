//! TLS settings of a snapshot: which certificate each connection gets, ALPN, client auth and
//! stream mode.

use serde::{Deserialize, Serialize};

/// TLS rules and defaults (certificates themselves are `RawSnapshot::certificates`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// Certificate for connections no rule matches (by VIP or SNI); none: such handshakes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_certificate: Option<String>,
    /// ALPN offered when no rule matches (default `[h2, http/1.1]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_alpn: Option<Vec<AlpnProtocol>>,
    /// Rules, chosen per connection: by VIP, then exact SNI, then wildcard SNI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RawTlsRule>,
}

/// One TLS rule (BFE's `tls_rule_conf` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTlsRule {
    pub name: String,
    /// Name of an entry of `certificates`.
    pub certificate: String,
    /// Virtual IPs this rule serves (the local address, or the PROXY header's destination).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<String>,
    /// Server names: exact (`www.example.com`) or wildcard (`*.example.com`), case-insensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sni: Vec<String>,
    /// Protocols offered by ALPN, in server preference order (default `[h2, http/1.1]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<Vec<AlpnProtocol>>,
    /// BFE's level 2: the only protocol offered, used even when the client sends no ALPN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_protocol: Option<AlpnProtocol>,
    /// Client-certificate authentication (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<RawClientAuth>,
    /// Where `stream` connections go (required when `stream` can be negotiated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<RawStream>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlpnProtocol {
    #[serde(rename = "h2")]
    H2,
    #[serde(rename = "http/1.1")]
    Http11,
    /// TLS-terminated TCP proxying (BFE's `stream`).
    #[serde(rename = "stream")]
    Stream,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClientAuth {
    /// Name of the CA, reported by `ses_tls_client_ca_in` and logs.
    pub ca_name: String,
    /// PEM bundle of the CA certificates client certificates must chain to.
    pub ca_pem: String,
    /// PEM CRLs; a revoked client certificate is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crl_pem: Vec<String>,
    /// Refuse clients without a certificate (false: ask, and accept anonymous clients).
    #[serde(default = "yes")]
    pub required: bool,
}

/// Stream mode's destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStream {
    pub cluster: String,
    /// PROXY protocol header sent to the backend first: 1 or 2 (BFE's `pp`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<u8>,
    /// Seconds without traffic either way before the connection is closed (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,
}

fn yes() -> bool {
    true
}
