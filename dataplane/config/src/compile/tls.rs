//! `tls` → [`TlsConfig`]: certificate references resolved and parsed, VIP/SNI indexes built,
//! ALPN lists checked against stream and mandatory settings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::error::{FieldPath, Violations};
use crate::raw::{AlpnProtocol, RawClientAuth, RawSnapshot, RawStream, RawTlsRule};
use crate::snapshot::ClusterId;
use crate::tls::{
    CertId, Certificate, ClientAuth, ProxyProtocolVersion, StreamTarget, TlsConfig, TlsRule,
    normalize_host,
};

const DEFAULT_ALPN: [AlpnProtocol; 2] = [AlpnProtocol::H2, AlpnProtocol::Http11];
const DEFAULT_STREAM_IDLE: Duration = Duration::from_secs(600);

/// Compiles the TLS rules against the snapshot's certificates and clusters.
pub(super) fn compile(
    raw: &RawSnapshot,
    clusters: &HashMap<&str, ClusterId>,
    path: &FieldPath,
    errs: &mut Violations,
) -> TlsConfig {
    let certs = Certs::parse(raw);
    let mut c = Compiler {
        certs,
        used: HashMap::new(),
        certificates: Vec::new(),
        clusters,
        errs,
    };
    let tls = &raw.tls;
    let mut rules = Vec::new();
    let mut by_vip = HashMap::new();
    let mut by_sni = HashMap::new();
    let mut by_wildcard = HashMap::new();
    let mut names = std::collections::HashSet::new();
    for (i, r) in tls.rules.iter().enumerate() {
        let p = path.field("rules").index(i);
        super::check_name(&r.name, &p.field("name"), c.errs);
        if !names.insert(r.name.as_str()) {
            c.errs
                .push(&p.field("name"), format!("duplicate TLS rule '{}'", r.name));
        }
        for (j, vip) in r.vips.iter().enumerate() {
            let vp = p.field("vips").index(j);
            match vip.parse::<IpAddr>() {
                Ok(ip) => {
                    if by_vip.insert(ip, i).is_some() {
                        c.errs
                            .push(&vp, format!("VIP {ip} is already claimed by another rule"));
                    }
                }
                Err(_) => c.errs.push(&vp, format!("invalid IP address '{vip}'")),
            }
        }
        for (j, sni) in r.sni.iter().enumerate() {
            let sp = p.field("sni").index(j);
            let name = normalize_host(sni);
            let (map, key) = match name.strip_prefix("*.") {
                Some(parent) => (&mut by_wildcard, parent.to_owned()),
                None => (&mut by_sni, name.clone()),
            };
            if !valid_host(&key) {
                c.errs.push(&sp, format!("invalid server name '{sni}'"));
                continue;
            }
            if map.insert(key, i).is_some() {
                c.errs
                    .push(&sp, format!("server name '{sni}' is already claimed"));
            }
        }
        if let Some(rule) = c.rule(r, &p) {
            rules.push(Arc::new(rule));
        }
    }
    let default_rule = tls.default_certificate.as_ref().and_then(|name| {
        let cert = c.cert(name, &path.field("default_certificate"))?;
        let (alpn, _) = c.alpn(
            tls.default_alpn.as_deref(),
            None,
            false,
            &path.field("default_alpn"),
        );
        Some(Arc::new(TlsRule {
            name: "default".into(),
            certificate: cert,
            alpn,
            mandatory: None,
            client_auth: None,
            stream: None,
        }))
    });
    TlsConfig::new(
        c.certificates,
        rules,
        default_rule,
        by_vip,
        by_sni,
        by_wildcard,
    )
}

/// The snapshot's certificates, parsed (entries that do not parse are reported by
/// `certificates::check_all`; here they are simply absent).
struct Certs<'a> {
    parsed: HashMap<&'a str, Parsed>,
}

/// A certificate entry: chain, key (when usable), OCSP response (empty: none).
type Parsed = (
    Vec<CertificateDer<'static>>,
    Option<PrivateKeyDer<'static>>,
    Vec<u8>,
);

struct Compiler<'a, 'e> {
    certs: Certs<'a>,
    /// Certificate name → its index in `certificates` (each parsed entry added once).
    used: HashMap<String, CertId>,
    certificates: Vec<Arc<Certificate>>,
    clusters: &'a HashMap<&'a str, ClusterId>,
    errs: &'e mut Violations,
}

// === impl Certs ===

impl<'a> Certs<'a> {
    fn parse(raw: &'a RawSnapshot) -> Self {
        let mut parsed = HashMap::new();
        for cert in &raw.certificates {
            let chain: Result<Vec<_>, _> =
                CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes()).collect();
            let Ok(chain) = chain else { continue };
            if chain.is_empty() {
                continue;
            }
            let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).ok();
            let ocsp = cert
                .ocsp_der_base64
                .as_deref()
                .and_then(super::certificates::decode_base64)
                .unwrap_or_default();
            parsed.insert(cert.name.as_str(), (chain, key, ocsp));
        }
        Self { parsed }
    }
}

// === impl Compiler ===

impl Compiler<'_, '_> {
    fn rule(&mut self, r: &RawTlsRule, p: &FieldPath) -> Option<TlsRule> {
        let cert = self.cert(&r.certificate, &p.field("certificate"));
        let (alpn, mandatory) = self.alpn(
            r.alpn.as_deref(),
            r.mandatory_protocol,
            true,
            &p.field("alpn"),
        );
        if let Some(m) = r.mandatory_protocol
            && r.alpn.as_ref().is_some_and(|a| !a.contains(&m))
        {
            self.errs.push(
                &p.field("mandatory_protocol"),
                "the mandatory protocol must be in alpn (or leave alpn out)",
            );
        }
        let client_auth = r
            .client_auth
            .as_ref()
            .and_then(|a| self.client_auth(a, &p.field("client_auth")));
        let stream = r
            .stream
            .as_ref()
            .and_then(|s| self.stream(s, &p.field("stream")));
        if alpn.contains(&AlpnProtocol::Stream) && r.stream.is_none() {
            self.errs.push(
                &p.field("stream"),
                "required when the rule can negotiate `stream`",
            );
        }
        Some(TlsRule {
            name: r.name.as_str().into(),
            certificate: cert?,
            alpn,
            mandatory,
            client_auth,
            stream,
        })
    }

    fn cert(&mut self, name: &str, p: &FieldPath) -> Option<CertId> {
        if let Some(id) = self.used.get(name) {
            return Some(*id);
        }
        let Some((chain, key, ocsp)) = self.certs.parsed.get(name) else {
            self.errs.push(p, format!("unknown certificate '{name}'"));
            return None;
        };
        let Some(key) = key else {
            self.errs
                .push(p, format!("certificate '{name}' has no usable private key"));
            return None;
        };
        let id = CertId(self.certificates.len() as u32);
        self.certificates.push(Arc::new(Certificate {
            name: name.into(),
            chain: chain.clone(),
            key: key.clone_key(),
            ocsp: ocsp.clone(),
        }));
        self.used.insert(name.to_owned(), id);
        Some(id)
    }

    fn alpn(
        &mut self,
        list: Option<&[AlpnProtocol]>,
        mandatory: Option<AlpnProtocol>,
        stream_allowed: bool,
        p: &FieldPath,
    ) -> (Vec<AlpnProtocol>, Option<AlpnProtocol>) {
        if let Some(m) = mandatory {
            return (vec![m], Some(m));
        }
        let list = list.unwrap_or(&DEFAULT_ALPN);
        if list.is_empty() {
            self.errs.push(p, "at least one protocol");
        }
        let mut out = Vec::new();
        for (i, a) in list.iter().enumerate() {
            if out.contains(a) {
                self.errs.push(&p.index(i), "duplicate protocol");
            } else if *a == AlpnProtocol::Stream && !stream_allowed {
                self.errs
                    .push(&p.index(i), "stream needs a rule with a stream cluster");
            } else {
                out.push(*a);
            }
        }
        (out, None)
    }

    fn client_auth(&mut self, a: &RawClientAuth, p: &FieldPath) -> Option<ClientAuth> {
        super::check_name(&a.ca_name, &p.field("ca_name"), self.errs);
        let roots: Result<Vec<_>, _> =
            CertificateDer::pem_slice_iter(a.ca_pem.as_bytes()).collect();
        let roots = match roots {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => {
                self.errs
                    .push(&p.field("ca_pem"), "no CERTIFICATE block in PEM");
                return None;
            }
            Err(e) => {
                self.errs
                    .push(&p.field("ca_pem"), format!("invalid PEM: {e}"));
                return None;
            }
        };
        let mut crls = Vec::new();
        for (i, pem) in a.crl_pem.iter().enumerate() {
            let parsed: Result<Vec<_>, _> =
                CertificateRevocationListDer::pem_slice_iter(pem.as_bytes()).collect();
            match parsed {
                Ok(list) if !list.is_empty() => crls.extend(list),
                Ok(_) => self
                    .errs
                    .push(&p.field("crl_pem").index(i), "no X509 CRL block in PEM"),
                Err(e) => self
                    .errs
                    .push(&p.field("crl_pem").index(i), format!("invalid PEM: {e}")),
            }
        }
        Some(ClientAuth {
            ca_name: a.ca_name.as_str().into(),
            roots,
            crls,
            required: a.required,
        })
    }

    fn stream(&mut self, s: &RawStream, p: &FieldPath) -> Option<StreamTarget> {
        let proxy_protocol = match s.proxy_protocol {
            None => None,
            Some(1) => Some(ProxyProtocolVersion::V1),
            Some(2) => Some(ProxyProtocolVersion::V2),
            Some(v) => {
                self.errs.push(
                    &p.field("proxy_protocol"),
                    format!("PROXY protocol version {v}: use 1 or 2"),
                );
                None
            }
        };
        let Some(cluster) = self.clusters.get(s.cluster.as_str()) else {
            self.errs.push(
                &p.field("cluster"),
                format!("unknown cluster '{}'", s.cluster),
            );
            return None;
        };
        Some(StreamTarget {
            cluster: *cluster,
            proxy_protocol,
            idle_timeout: s
                .idle_timeout_secs
                .map_or(DEFAULT_STREAM_IDLE, Duration::from_secs),
        })
    }
}

fn valid_host(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use crate::raw::{RawCertificate, RawSnapshot};

    fn cert(name: &str) -> RawCertificate {
        let c = rcgen::generate_simple_self_signed(vec![format!("{name}.test")]).unwrap();
        RawCertificate {
            name: name.to_owned(),
            cert_pem: c.cert.pem(),
            key_pem: c.signing_key.serialize_pem(),
            ocsp_der_base64: None,
        }
    }

    fn snapshot(tls: &str) -> crate::Snapshot {
        let mut raw = RawSnapshot::parse(tls).unwrap();
        raw.certificates = ["a", "b", "c", "d"].map(cert).to_vec();
        crate::compile(&raw).unwrap()
    }

    #[test]
    fn vip_then_exact_then_closest_wildcard_then_default() {
        let s = snapshot(
            r#"
tls:
  default_certificate: d
  rules:
    - { name: by-vip, certificate: a, vips: ["10.0.0.1"] }
    - { name: exact, certificate: b, sni: [www.example.com, "Mixed.Example.com."] }
    - { name: wild, certificate: c, sni: ["*.example.com"], mandatory_protocol: h2 }
"#,
        );
        let pick = |vip: &str, sni: Option<&str>| {
            let rule = s.tls.select(vip.parse().ok(), sni).unwrap();
            rule.name.to_string()
        };
        assert_eq!(pick("10.0.0.1", Some("www.example.com")), "by-vip");
        assert_eq!(pick("10.0.0.2", Some("www.example.com")), "exact");
        assert_eq!(pick("10.0.0.2", Some("WWW.example.COM.")), "exact");
        assert_eq!(pick("10.0.0.2", Some("mixed.example.com")), "exact");
        assert_eq!(pick("10.0.0.2", Some("api.example.com")), "wild");
        // A wildcard covers one label only.
        assert_eq!(pick("10.0.0.2", Some("a.b.example.com")), "default");
        assert_eq!(pick("10.0.0.2", Some("example.com")), "default");
        assert_eq!(pick("10.0.0.2", None), "default");
        let wild = s.tls.select(None, Some("x.example.com")).unwrap();
        assert_eq!(wild.alpn, vec![crate::tls::AlpnProtocol::H2]);
        assert_eq!(wild.mandatory, Some(crate::tls::AlpnProtocol::H2));
        // Certificates used twice are parsed once.
        assert_eq!(s.tls.certificates.len(), 4);
    }

    #[test]
    fn without_default_unmatched_names_get_nothing() {
        let s = snapshot("tls:\n  rules:\n    - { name: r, certificate: a, sni: [a.test] }\n");
        assert!(s.tls.select(None, Some("b.test")).is_none());
        assert!(s.tls.select(None, Some("a.test")).is_some());
    }

    #[test]
    fn conflicts_are_violations() {
        let mut raw = RawSnapshot::parse(
            r#"
tls:
  rules:
    - { name: r, certificate: a, sni: [a.test], vips: ["10.0.0.1"], alpn: [h2, h2] }
    - { name: r, certificate: a, sni: [A.test], vips: ["10.0.0.1"], mandatory_protocol: stream, alpn: [h2] }
"#,
        )
        .unwrap();
        raw.certificates = vec![cert("a")];
        let text = crate::compile(&raw).unwrap_err().to_string();
        for needle in [
            "tls.rules[0].alpn[1]: duplicate protocol",
            "tls.rules[1].name: duplicate TLS rule 'r'",
            "tls.rules[1].vips[0]: VIP 10.0.0.1 is already claimed by another rule",
            "tls.rules[1].sni[0]: server name 'A.test' is already claimed",
            "tls.rules[1].mandatory_protocol: the mandatory protocol must be in alpn",
            "tls.rules[1].stream: required when the rule can negotiate `stream`",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }
}
