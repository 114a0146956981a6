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
    }
}
