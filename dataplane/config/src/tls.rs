//! Compiled TLS settings: certificates parsed once, rules indexed by VIP and SNI.
//!
//! Pure data: the data plane turns each [`Certificate`] into a signing key and each
//! [`TlsRule`] into a server configuration once per snapshot.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

pub use crate::raw::AlpnProtocol;
use crate::snapshot::ClusterId;

/// Index of a certificate in [`TlsConfig::certificates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertId(pub u32);

/// Everything the data plane's TLS listener needs from one snapshot.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// Certificates usable by TLS (those with a private key), parsed once.
    pub certificates: Vec<Arc<Certificate>>,
    pub rules: Vec<Arc<TlsRule>>,
    /// The rule for connections no rule matches (built from `default_certificate`).
    pub default_rule: Option<Arc<TlsRule>>,
    by_vip: HashMap<IpAddr, usize>,
    by_sni: HashMap<String, usize>,
    /// Keyed by the suffix after `*.` (`example.com` for `*.example.com`).
    by_wildcard: HashMap<String, usize>,
}

/// A certificate chain (leaf first) and its private key.
pub struct Certificate {
    pub name: Arc<str>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// A DER OCSP response stapled to handshakes (empty: none).
    pub ocsp: Vec<u8>,
}

/// One compiled TLS rule.
#[derive(Debug)]
pub struct TlsRule {
    pub name: Arc<str>,
    pub certificate: CertId,
    /// ALPN protocols offered, in preference order (only the mandatory one when set).
    pub alpn: Vec<AlpnProtocol>,
    /// Used even when the client sends no ALPN.
    pub mandatory: Option<AlpnProtocol>,
    pub client_auth: Option<ClientAuth>,
    pub stream: Option<StreamTarget>,
}

#[derive(Debug)]
pub struct ClientAuth {
    pub ca_name: Arc<str>,
    pub roots: Vec<CertificateDer<'static>>,
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct StreamTarget {
    pub cluster: ClusterId,
    pub proxy_protocol: Option<ProxyProtocolVersion>,
    pub idle_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyProtocolVersion {
    V1,
    V2,
}

// === impl AlpnProtocol ===

impl AlpnProtocol {
    /// The protocol id on the wire.
    pub fn id(self) -> &'static [u8] {
        match self {
            Self::H2 => b"h2",
            Self::Http11 => b"http/1.1",
            Self::Stream => b"stream",
        }
    }

    pub fn from_id(id: &[u8]) -> Option<Self> {
        match id {
            b"h2" => Some(Self::H2),
            b"http/1.1" => Some(Self::Http11),
            b"stream" => Some(Self::Stream),
            _ => None,
        }
    }
}

// === impl TlsConfig ===

impl TlsConfig {
    pub(crate) fn new(
        certificates: Vec<Arc<Certificate>>,
        rules: Vec<Arc<TlsRule>>,
        default_rule: Option<Arc<TlsRule>>,
        by_vip: HashMap<IpAddr, usize>,
        by_sni: HashMap<String, usize>,
        by_wildcard: HashMap<String, usize>,
    ) -> Self {
        Self {
            certificates,
            rules,
            default_rule,
            by_vip,
            by_sni,
            by_wildcard,
        }
    }

    /// The rule for a connection to `vip` naming `sni`: by VIP, then exact SNI, then the
    /// closest wildcard (`*.example.com` matches `a.example.com`, not `a.b.example.com`),
    /// then the default. SNI is compared case-insensitively, a trailing dot ignored.
    pub fn select(&self, vip: Option<IpAddr>, sni: Option<&str>) -> Option<&Arc<TlsRule>> {
        if let Some(i) = vip.and_then(|v| self.by_vip.get(&v)) {
            return self.rules.get(*i);
        }
        if let Some(sni) = sni {
            let name = normalize_host(sni);
            if let Some(i) = self.by_sni.get(&name) {
                return self.rules.get(*i);
            }
            if let Some((_, parent)) = name.split_once('.')
                && let Some(i) = self.by_wildcard.get(parent)
            {
                return self.rules.get(*i);
            }
        }
        self.default_rule.as_ref()
    }

    /// True when a TLS listener has anything to serve.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.default_rule.is_none()
    }

    pub fn certificate(&self, id: CertId) -> Option<&Arc<Certificate>> {
        self.certificates.get(id.0 as usize)
    }
}

/// Lower case without a trailing dot.
pub fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

// === impl Certificate ===

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("Certificate")
            .field("name", &self.name)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}
