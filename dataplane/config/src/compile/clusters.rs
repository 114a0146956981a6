use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use crate::cluster::{
    Backend, BackendId, BackendTls, ClientIdSource, Cluster, HashKey, HealthCheck, Pool, Retry,
    StatusSet, SubCluster, Timeouts,
};
use crate::error::{FieldPath, Violations};
use crate::raw::{
    GSLB_BLACKHOLE, HashStrategy, RawBackend, RawBackendTls, RawCertificate, RawCluster,
    RawHashConf, RawHealthCheck, RawSubCluster,
};

/// Upper bound on any single weight, so sums cannot overflow a u32.
const MAX_WEIGHT: u32 = 1_000_000;

/// Compiles every cluster; the result keeps input order (indices become `ClusterId`s). Broken
/// clusters are still returned so that routes referring to them are not reported twice.
pub(super) fn compile_all(
    raw: &[RawCluster],
    certs: &[RawCertificate],
    path: &FieldPath,
    errs: &mut Violations,
) -> Vec<Cluster> {
    let mut names = HashSet::new();
    raw.iter()
        .enumerate()
        .map(|(i, c)| {
            let p = path.index(i);
            if !names.insert(c.name.as_str()) {
                errs.push(&p.field("name"), format!("duplicate cluster '{}'", c.name));
            }
            let mut cluster = compile_one(c, &p, errs);
            cluster.tls = compile_tls(c, certs, &p, errs);
            cluster.health.tls = cluster.tls.clone();
            cluster
        })
        .collect()
}

/// The cluster's backend TLS: required shape for `https`/`h2`, refused for cleartext.
fn compile_tls(
    raw: &RawCluster,
    certs: &[RawCertificate],
    path: &FieldPath,
    errs: &mut Violations,
) -> Option<Arc<BackendTls>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use sha2::Digest;
    let p = path.field("tls");
    if !raw.protocol.is_tls() {
        if raw.tls.is_some() {
            errs.push(&p, "only for protocol https or h2");
        }
        return None;
    }
    let default = RawBackendTls::default();
    let t = raw.tls.as_ref().unwrap_or(&default);
    let roots = match &t.ca_pem {
        None => Vec::new(),
        Some(pem) => {
            match CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>() {
                Ok(r) if !r.is_empty() => r,
                Ok(_) => {
                    errs.push(&p.field("ca_pem"), "no CERTIFICATE block in PEM");
                    Vec::new()
                }
                Err(e) => {
                    errs.push(&p.field("ca_pem"), format!("invalid PEM: {e}"));
                    Vec::new()
                }
            }
        }
    };
    let client_cert = t.client_certificate.as_ref().and_then(|name| {
        let cp = p.field("client_certificate");
        let Some(c) = certs.iter().find(|c| &c.name == name) else {
            errs.push(&cp, format!("unknown certificate '{name}'"));
            return None;
        };
        let chain = CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        match PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes()) {
            Ok(key) => Some((chain, key)),
            Err(_) => {
                errs.push(
                    &cp,
                    format!("certificate '{name}' has no usable private key"),
                );
                None
            }
        }
    });
    let mut h = sha2::Sha256::new();
    h.update(serde_json::to_vec(t).unwrap_or_default());
    h.update(format!("{:?}", raw.protocol));
    if let Some((chain, _)) = &client_cert {
        for c in chain {
            h.update(c.as_ref());
        }
    }
    let id: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(Arc::new(BackendTls {
        id: id.into(),
        sni: t.sni.as_deref().map(Into::into),
        roots,
        insecure_skip_verify: t.insecure_skip_verify,
        h2: raw.protocol.is_h2(),
        client_cert,
    }))
}

fn compile_one(raw: &RawCluster, path: &FieldPath, errs: &mut Violations) -> Cluster {
    super::check_name(&raw.name, &path.field("name"), errs);
    let sp = path.field("sub_clusters");
    if raw.sub_clusters.is_empty() {
        errs.push(&sp, "a cluster needs at least one sub-cluster");
    }
    let mut names = HashSet::new();
    let mut blackhole_weight = 0;
    let mut sub_clusters = Vec::new();
    for (i, s) in raw.sub_clusters.iter().enumerate() {
        let p = sp.index(i);
        if !names.insert(s.name.as_str()) {
            errs.push(
                &p.field("name"),
                format!("duplicate sub-cluster '{}'", s.name),
            );
        }
        if s.weight > MAX_WEIGHT {
            errs.push(
                &p.field("weight"),
                format!("weight must be at most {MAX_WEIGHT}"),
            );
        }
        if s.name == GSLB_BLACKHOLE {
            if !s.backends.is_empty() {
                errs.push(&p.field("backends"), "GSLB_BLACKHOLE cannot have backends");
            }
            blackhole_weight = s.weight.min(MAX_WEIGHT);
        } else {
            sub_clusters.push(compile_sub_cluster(s, &p, errs));
        }
    }
    sub_clusters.sort_by(|a, b| a.name.cmp(&b.name));
    if !raw.sub_clusters.is_empty() && sub_clusters.iter().all(|s| s.weight == 0) {
        errs.push(
            &sp,
            "at least one sub-cluster other than GSLB_BLACKHOLE needs a weight > 0",
        );
    }
    let t = &raw.timeouts;
    let tp = path.field("timeouts");
    let timeouts = Timeouts {
        connect: positive_ms(t.connect_ms, &tp.field("connect_ms"), errs),
        response_header: positive_ms(t.response_header_ms, &tp.field("response_header_ms"), errs),
        read_client_body: positive_ms(
            t.read_client_body_ms,
            &tp.field("read_client_body_ms"),
            errs,
        ),
        write_client: positive_ms(t.write_client_ms, &tp.field("write_client_ms"), errs),
        keepalive_idle: positive_ms(t.keepalive_idle_ms, &tp.field("keepalive_idle_ms"), errs),
    };
    if raw.retry.max + raw.retry.cross > 20 {
        errs.push(
            &path.field("retry"),
            "max + cross must be at most 20 attempts",
        );
    }
    Cluster {
        name: raw.name.as_str().into(),
        sub_clusters,
        blackhole_weight,
        balance: raw.balance,
        hash: compile_hash(&raw.hash, &path.field("hash"), errs),
        protocol: raw.protocol,
        tls: None,
        health: compile_health(&raw.health, &path.field("health"), errs),
        retry: Retry {
            max: raw.retry.max,
            cross: raw.retry.cross,
            level: raw.retry.level,
        },
        timeouts,
        pool: Pool {
            max_idle_per_backend: raw.pool.max_idle_per_backend as usize,
            idle_timeout: positive_ms(
                raw.pool.idle_timeout_ms,
                &path.field("pool").field("idle_timeout_ms"),
                errs,
            ),
        },
        slow_start: Duration::from_millis(raw.slow_start_ms),
        max_request_body_bytes: raw.max_request_body_bytes,
    }
}

fn compile_sub_cluster(raw: &RawSubCluster, path: &FieldPath, errs: &mut Violations) -> SubCluster {
    super::check_name(&raw.name, &path.field("name"), errs);
    let bp = path.field("backends");
    if raw.weight > 0 && !raw.backends.iter().any(|b| b.weight > 0) {
        errs.push(
            &bp,
            "a sub-cluster with weight > 0 needs a backend with weight > 0",
        );
    }
    let mut seen = HashSet::new();
    let backends = raw
        .backends
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = bp.index(i);
            if !seen.insert(b.addr.as_str()) {
                errs.push(&p.field("addr"), format!("duplicate backend '{}'", b.addr));
            }
            compile_backend(b, &p, errs)
        })
        .collect();
    SubCluster {
        name: raw.name.as_str().into(),
        weight: raw.weight.min(MAX_WEIGHT),
        backends,
    }
}

fn compile_backend(raw: &RawBackend, path: &FieldPath, errs: &mut Violations) -> Backend {
    if let Err(e) = check_addr(&raw.addr) {
        errs.push(&path.field("addr"), e);
    }
    if raw.weight > MAX_WEIGHT {
        errs.push(
            &path.field("weight"),
            format!("weight must be at most {MAX_WEIGHT}"),
        );
    }
    let addr: Arc<str> = raw.addr.as_str().into();
    Backend {
        id: BackendId(addr.clone()),
        addr,
        weight: raw.weight.min(MAX_WEIGHT),
        name: raw.name.as_deref().map(Into::into),
    }
}

/// `ip:port`, `[v6]:port` or `host:port` with a DNS-shaped host and a non-zero port.
fn check_addr(addr: &str) -> Result<(), String> {
    let bad = || format!("invalid backend address '{addr}': expected ip:port or host:port");
    if let Ok(sa) = addr.parse::<std::net::SocketAddr>() {
        return if sa.port() == 0 { Err(bad()) } else { Ok(()) };
    }
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    match port.parse::<u16>() {
        Ok(p) if p > 0 && host_ok => Ok(()),
        _ => Err(bad()),
    }
}

fn compile_hash(raw: &RawHashConf, path: &FieldPath, errs: &mut Violations) -> HashKey {
    let source = match (&raw.header, &raw.cookie) {
        (Some(h), None) => match HeaderName::from_bytes(h.as_bytes()) {
            Ok(name) => Some(ClientIdSource::Header(name)),
            Err(_) => {
                errs.push(&path.field("header"), format!("invalid header name '{h}'"));
                None
            }
        },
        (None, Some(c)) if !c.is_empty() => Some(ClientIdSource::Cookie(c.as_str().into())),
        (None, Some(_)) => {
            errs.push(&path.field("cookie"), "cookie name cannot be empty");
            None
        }
        (Some(_), Some(_)) => {
            errs.push(path, "give either header or cookie, not both");
            None
        }
        (None, None) => None,
    };
    match raw.strategy {
        HashStrategy::ClientIp => HashKey::ClientIp,
        HashStrategy::RequestUri => HashKey::RequestUri,
        HashStrategy::ClientId | HashStrategy::ClientIdPreferred => {
            let Some(source) = source else {
                if raw.header.is_none() && raw.cookie.is_none() {
                    errs.push(path, "the client_id strategies need a header or a cookie");
                }
                return HashKey::ClientIp;
            };
            if raw.strategy == HashStrategy::ClientId {
                HashKey::ClientId(source)
            } else {
                HashKey::ClientIdPreferred(source)
            }
        }
    }
}

fn compile_health(raw: &RawHealthCheck, path: &FieldPath, errs: &mut Violations) -> HealthCheck {
    let status = |text: &str, field: &str, errs: &mut Violations| {
        StatusSet::parse(text).unwrap_or_else(|e| {
            errs.push(&path.field(field), e);
            StatusSet::default()
        })
    };
    if !raw.path.starts_with('/') {
        errs.push(&path.field("path"), "probe path must start with '/'");
    }
    if raw.rise == 0 {
        errs.push(&path.field("rise"), "must be at least 1");
    }
    if raw.fall == 0 {
        errs.push(&path.field("fall"), "must be at least 1");
    }
    HealthCheck {
        tls: None,
        mode: raw.mode,
        kind: raw.kind,
        path: raw.path.as_str().into(),
        host: raw.host.as_deref().map(Into::into),
        expect_status: status(&raw.expect_status, "expect_status", errs),
        interval: positive_ms(raw.interval_ms, &path.field("interval_ms"), errs),
        timeout: positive_ms(raw.timeout_ms, &path.field("timeout_ms"), errs),
        rise: raw.rise,
        fall: raw.fall,
        outlier_status: raw
            .outlier_status
            .as_deref()
            .map(|s| status(s, "outlier_status", errs)),
    }
}

fn positive_ms(ms: u64, path: &FieldPath, errs: &mut Violations) -> Duration {
    if ms == 0 || ms > 24 * 3600 * 1000 {
        errs.push(path, "must be between 1 ms and 24 h");
    }
    Duration::from_millis(ms)
}
