use std::collections::HashSet;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{FieldPath, Violations};
use crate::raw::RawCertificate;

/// Checks that each certificate entry holds a PEM chain and (when given) a private key.
pub(super) fn check_all(certs: &[RawCertificate], path: &FieldPath, errs: &mut Violations) {
    let mut names = HashSet::new();
    for (i, cert) in certs.iter().enumerate() {
        let p = path.index(i);
        super::check_name(&cert.name, &p.field("name"), errs);
        if !names.insert(cert.name.as_str()) {
            errs.push(
                &p.field("name"),
                format!("duplicate certificate '{}'", cert.name),
            );
        }
        let chain: Result<Vec<_>, _> =
            CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes()).collect();
        match chain {
            Ok(chain) if !chain.is_empty() => {}
            Ok(_) => errs.push(&p.field("cert_pem"), "no CERTIFICATE block in PEM"),
            Err(e) => errs.push(&p.field("cert_pem"), format!("invalid PEM: {e}")),
        }
        if !cert.key_pem.is_empty()
            && let Err(e) = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes())
        {
            errs.push(&p.field("key_pem"), format!("invalid private key PEM: {e}"));
        }
        if let Some(b64) = &cert.ocsp_der_base64
            && decode_base64(b64).is_none_or(|d| d.is_empty())
        {
            errs.push(&p.field("ocsp_der_base64"), "invalid base64");
        }
    }
}

/// Standard base64 (padding optional, whitespace ignored); `None` when malformed.
pub(super) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = 0;
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (padding <= 2 && bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(super::decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(super::decode_base64("aGVs\nbG8").unwrap(), b"hello");
        assert_eq!(super::decode_base64("").unwrap(), b"");
        assert!(super::decode_base64("a$b").is_none());
        assert!(super::decode_base64("aG=Vs").is_none());
    }
}
