//! Certificates made at test time (never committed keys): a root CA, an intermediate, leaf
//! certificates for servers and clients, CRLs; and a rustls client for the tests that do not
//! shell out to curl or openssl.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SerialNumber, date_time_ymd,
};

/// A certificate authority: a self-signed root and an intermediate that signs the leaves, so
/// a server's chain (leaf + intermediate) must be served whole to verify against the root.
pub struct TestCa {
    root: CertifiedIssuer<'static, KeyPair>,
    inter: CertifiedIssuer<'static, KeyPair>,
    next_serial: std::sync::atomic::AtomicU64,
}

/// A leaf certificate: its chain (leaf first, then the intermediate) and key, in PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub chain_pem: String,
    pub key_pem: String,
    pub serial: u64,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let root = CertifiedIssuer::self_signed(ca_params(&format!("{name} Root")), key())
            .expect("root CA");
        let inter =
            CertifiedIssuer::signed_by(ca_params(&format!("{name} Intermediate")), key(), &root)
                .expect("intermediate CA");
        Self {
            root,
            inter,
            next_serial: std::sync::atomic::AtomicU64::new(1000),
        }
    }

    /// The intermediate's certificate and key (it signs leaves, CRLs and, in tests, OCSP
    /// responses).
    pub fn intermediate_pem(&self) -> (String, String) {
        (self.inter.pem(), self.inter.key().serialize_pem())
    }

    /// The root certificate clients trust.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// A server certificate with subject CN `cn` and DNS names `sans`.
    pub fn server(&self, cn: &str, sans: &[&str]) -> Leaf {
        self.leaf(cn, sans, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate with subject CN `cn`.
    pub fn client(&self, cn: &str) -> Leaf {
        self.leaf(cn, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, cn: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> Leaf {
        let sans: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans).expect("names");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![usage];
        let serial = self
            .next_serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        params.serial_number = Some(SerialNumber::from(serial));
        let key = key();
        let cert = params.signed_by(&key, &self.inter).expect("leaf");
        let inter = self.inter.pem();
        Leaf {
            cert_pem: cert.pem(),
            chain_pem: format!("{}{inter}", cert.pem()),
            key_pem: key.serialize_pem(),
            serial,
        }
    }

    /// A CRL from the intermediate revoking `serials`.
    pub fn crl(&self, serials: &[u64]) -> String {
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2024, 1, 1),
            next_update: date_time_ymd(2099, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from(*s),
                    revocation_time: date_time_ymd(2024, 1, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.inter)
            .expect("CRL")
            .pem()
            .expect("CRL PEM")
    }

    /// The bundle a server verifying client certificates trusts: intermediate + root.
    pub fn bundle_pem(&self) -> String {
        format!("{}{}", self.inter.pem(), self.root.pem())
    }

    /// As [`Self::client_config`], resuming sessions (tickets, TLS 1.3 and 1.2).
    pub fn resuming_client_config(&self, alpn: &[&str]) -> Arc<rustls::ClientConfig> {
        let mut config = (*self.client_config(alpn, None)).clone();
        config.resumption = rustls::client::Resumption::in_memory_sessions(16);
        Arc::new(config)
    }

    /// A rustls client configuration trusting this CA's root, offering `alpn`.
    pub fn client_config(&self, alpn: &[&str], client: Option<&Leaf>) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.root.der().clone()).expect("root");
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
        let mut config = match client {
            None => builder.with_no_client_auth(),
            Some(leaf) => {
                use rustls::pki_types::pem::PemObject;
                let chain =
                    rustls::pki_types::CertificateDer::pem_slice_iter(leaf.chain_pem.as_bytes())
                        .collect::<Result<Vec<_>, _>>()
                        .expect("chain");
                let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes())
                    .expect("key");
                builder
                    .with_client_auth_cert(chain, key)
                    .expect("client auth")
            }
        };
        config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
        // Each connection shows the certificate served now, not one from a resumed session.
        config.resumption = rustls::client::Resumption::disabled();
        Arc::new(config)
    }
}

fn key() -> KeyPair {
    KeyPair::generate().expect("key pair")
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Indents a PEM block for a YAML block scalar at `indent` spaces.
pub fn yaml_block(pem: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::from("|\n");
    for line in pem.lines() {
        out.push_str(&pad);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes `text` to a file in `dir` and returns its path (for curl's --cacert and friends).
pub fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}
