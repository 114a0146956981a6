//! TLS towards backends: one rustls client configuration per distinct cluster TLS setting
//! (and ALPN), built on first use and kept beside the pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bfe_config::cluster::BackendTls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::ProxyError;

/// Cluster TLS settings id and whether `h2` is offered.
type ConfigKey = (Arc<str>, bool);

#[derive(Default)]
pub struct TlsClients {
    configs: Mutex<HashMap<ConfigKey, Arc<ClientConfig>>>,
}

// === impl TlsClients ===

impl TlsClients {
    /// The client configuration for `tls`, offering `h2` or `http/1.1` by ALPN.
    pub fn config(&self, tls: &BackendTls, h2: bool) -> Result<Arc<ClientConfig>, ProxyError> {
        let key = (tls.id.clone(), h2);
        let mut map = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
        let config = Arc::new(build(tls, h2).map_err(|e| {
            tracing::warn!(error = %e, "Backend TLS configuration unusable.");
            ProxyError::Connect
        })?);
        // Settings change rarely; a bounded map keeps a config churn from growing it forever.
        if map.len() > 1024 {
            map.clear();
        }
        map.insert(key, config.clone());
        Ok(config)
    }
}

fn build(tls: &BackendTls, h2: bool) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        if tls.roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for r in &tls.roots {
                roots.add(r.clone())?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match &tls.client_cert {
        Some((chain, key)) => builder.with_client_auth_cert(chain.clone(), key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![if h2 {
        b"h2".to_vec()
    } else {
        b"http/1.1".to_vec()
    }];
    Ok(config)
}

/// The name to send and verify: the configured SNI, else the host of `addr`.
pub fn server_name(tls: &BackendTls, addr: &str) -> Result<ServerName<'static>, ProxyError> {
    let host = match &tls.sni {
        Some(s) => s.to_string(),
        None => {
            let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        }
    };
    ServerName::try_from(host).map_err(|_| ProxyError::Connect)
}

/// `insecure_skip_verify`: signatures are still checked (the handshake stays sound), the
/// certificate is not.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
