//! TLS termination on rustls: per snapshot, one server configuration per TLS rule, built once
//! when the snapshot is installed; per connection, the rule is chosen from the ClientHello
//! (VIP, then SNI) against the snapshot live at that moment, so a swap changes certificates
//! for new connections and leaves established ones alone.
//!
//! TLS 1.3 and 1.2 only; the ring provider's groups (X25519, P-256, P-384) and its suites
//! (AES-GCM and ChaCha20-Poly1305, ECDHE only).

use std::net::IpAddr;
use std::sync::Arc;

use bfe_config::tls::{AlpnProtocol, TlsConfig, TlsRule};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::{ProducesTickets, ServerSessionMemoryCache, StoresServerSessions};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

/// Server-side session cache entries kept (resumption by session id, TLS 1.2 and 1.3).
const SESSION_CACHE_SIZE: usize = 20_000;

/// What survives snapshot swaps: resumption state.
pub struct TlsShared {
    provider: Arc<CryptoProvider>,
    /// Session tickets; keys rotate every 6 hours (the previous key still decrypts).
    ticketer: Option<Arc<dyn ProducesTickets>>,
    cache: Arc<dyn StoresServerSessions>,
}

/// The server configurations of one snapshot, indexed like its TLS rules.
pub struct TlsServers {
    rules: Vec<Option<Arc<ServerConfig>>>,
    default: Option<Arc<ServerConfig>>,
}

/// A rule and the configuration to finish the handshake with.
pub struct Selected<'a> {
    pub rule: &'a Arc<TlsRule>,
    pub config: Arc<ServerConfig>,
}

/// What the handshake established, kept in the session for conditions and logs.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    pub sni: Option<Arc<str>>,
    /// The protocol to speak: the ALPN result, else the rule's mandatory one, else HTTP/1.1.
    pub protocol: AlpnProtocol,
    /// The client presented a certificate that verified.
    pub client_auth: bool,
    pub client_ca_name: Option<Arc<str>>,
    pub version: &'static str,
    pub resumed: bool,
    pub rule: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsBuildError {
    #[error("certificate '{0}': {1}")]
    Certificate(Arc<str>, rustls::Error),
    #[error("client CA '{0}': {1}")]
    ClientCa(Arc<str>, String),
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}

// === impl TlsShared ===

impl TlsShared {
    pub fn new() -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ticketer = match rustls::crypto::ring::Ticketer::new() {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "Session tickets disabled.");
                None
            }
        };
        Self {
            provider,
            ticketer,
            cache: ServerSessionMemoryCache::new(SESSION_CACHE_SIZE),
        }
    }

    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// Builds every rule's server configuration; a rule that cannot be built (an unusable
    /// key) is logged and its handshakes fail, the others serve.
    pub fn build(&self, tls: &TlsConfig) -> TlsServers {
        let keys: Vec<Option<Arc<CertifiedKey>>> = tls
            .certificates
            .iter()
            .map(|c| {
                let key = self
                    .provider
                    .key_provider
                    .load_private_key(c.key.clone_key())
                    .map_err(|e| TlsBuildError::Certificate(c.name.clone(), e));
                match key {
                    Ok(key) => {
                        let mut ck = CertifiedKey::new(c.chain.clone(), key);
                        if !c.ocsp.is_empty() {
                            ck.ocsp = Some(c.ocsp.clone());
                        }
                        Some(Arc::new(ck))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "TLS certificate unusable.");
                        None
                    }
                }
            })
            .collect();
        let build = |rule: &TlsRule| -> Option<Arc<ServerConfig>> {
            let key = keys.get(rule.certificate.0 as usize)?.clone()?;
            match self.server_config(rule, key) {
                Ok(c) => Some(Arc::new(c)),
                Err(e) => {
                    tracing::error!(rule = %rule.name, error = %e, "TLS rule unusable.");
                    None
                }
            }
        };
        TlsServers {
            rules: tls.rules.iter().map(|r| build(r)).collect(),
            default: tls.default_rule.as_deref().and_then(build),
        }
    }

    fn server_config(
        &self,
        rule: &TlsRule,
        key: Arc<CertifiedKey>,
    ) -> Result<ServerConfig, TlsBuildError> {
        let builder = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
        let builder = match &rule.client_auth {
            None => builder.with_no_client_auth(),
            Some(auth) => {
                let mut roots = RootCertStore::empty();
                for der in &auth.roots {
                    roots.add(der.clone()).map_err(|e| {
                        TlsBuildError::ClientCa(auth.ca_name.clone(), e.to_string())
                    })?;
                }
                let mut v = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .with_crls(auth.crls.iter().cloned());
                if !auth.required {
                    v = v.allow_unauthenticated();
                }
                let verifier = v
                    .build()
                    .map_err(|e| TlsBuildError::ClientCa(auth.ca_name.clone(), e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config =
            builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)));
        config.alpn_protocols = rule.alpn.iter().map(|p| p.id().to_vec()).collect();
        config.session_storage = self.cache.clone();
        if let Some(t) = &self.ticketer {
            config.ticketer = t.clone();
        }
        // Our pipeline never reads early data: refuse it (replay safety).
        config.max_early_data_size = 0;
        Ok(config)
    }
}

impl Default for TlsShared {
    fn default() -> Self {
        Self::new()
    }
}

// === impl TlsServers ===

impl TlsServers {
    pub fn empty() -> Self {
        Self {
            rules: Vec::new(),
            default: None,
        }
    }

    /// The rule and configuration for a ClientHello to `vip` naming `sni`.
    pub fn select<'a>(
        &self,
        tls: &'a TlsConfig,
        vip: Option<IpAddr>,
        sni: Option<&str>,
    ) -> Option<Selected<'a>> {
        let rule = tls.select(vip, sni)?;
        let config = match tls.rules.iter().position(|r| Arc::ptr_eq(r, rule)) {
            Some(i) => self.rules.get(i)?.clone()?,
            None => self.default.clone()?,
        };
        Some(Selected { rule, config })
    }
}

// === impl TlsInfo ===

impl TlsInfo {
    /// Reads the result of a finished handshake.
    pub fn from_connection(
        conn: &rustls::ServerConnection,
        rule: &TlsRule,
        sni: Option<Arc<str>>,
    ) -> Self {
        let protocol = conn
            .alpn_protocol()
            .and_then(AlpnProtocol::from_id)
            .or(rule.mandatory)
            .unwrap_or(AlpnProtocol::Http11);
        let client_auth = conn.peer_certificates().is_some_and(|c| !c.is_empty());
        Self {
            sni,
            protocol,
            client_auth,
            client_ca_name: rule
                .client_auth
                .as_ref()
                .filter(|_| client_auth)
                .map(|a| a.ca_name.clone()),
            version: match conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "unknown",
            },
            resumed: matches!(conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed)),
            rule: rule.name.clone(),
        }
    }
}
