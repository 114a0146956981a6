//! The one reading of a request's Host value. The host table ([`crate::host_table`]), the
//! advanced-route index ([`crate::route_table`]) and the condition primitives (`req_host_in`
//! for its list items and for the request, `req_host_suffix_in`, `req_host_regmatch`,
//! `req_port_in`) all call these functions, so tenant lookup, `req_host_in` and the index
//! cannot disagree about which host a request is for.
//!
//! The rules, applied in this order:
//! 1. **Port.** A value starting with `[` is a bracketed IPv6 literal: the name ends at the
//!    first `]` (`[::1]:80` → `[::1]`; without a `]` the whole value is the name). Otherwise the
//!    port is cut at the *last* `:`, and only when everything after it is ASCII digits:
//!    `a.com:8080` → `a.com`, `a.com:` → `a.com`, but `a.com:foo` stays `a.com:foo` (a name
//!    that matches nothing) rather than becoming `a.com`.
//! 2. **Trailing dot.** One trailing `.` is dropped: the absolute name `a.com.` is `a.com`.
//! 3. **Case.** ASCII letters are lower-cased; other bytes are kept, so a non-ASCII value
//!    never equals an ASCII name (Unicode case folding and IDNA are out of scope: configure
//!    internationalized names in their `xn--` form, which is what clients send).
//! 4. **Length.** A name longer than [`MAX_HOST_LEN`] bytes after 1 and 2 has no normal form.

/// Longest host name that has a normal form; longer Host values match no host (DNS names are
/// at most 253 bytes).
pub const MAX_HOST_LEN: usize = 255;

/// Stack space for [`normalize_host`] to lower-case into.
pub type HostBuf = [u8; MAX_HOST_LEN];

/// Splits a Host value into its name (case and trailing dot kept) and its port: the digits
/// after the cut of rule 1, `None` when there are none. `[::1]:443` → (`[::1]`, `443`),
/// `a.com:` → (`a.com`, `None`), `a.com:foo` → (`a.com:foo`, `None`).
pub fn split_port(host: &str) -> (&str, Option<&str>) {
    let (name, port) = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => {
                let rest = &host[end + 1..];
                let port = rest
                    .strip_prefix(':')
                    .filter(|p| p.bytes().all(|b| b.is_ascii_digit()));
                (&host[..=end], port)
            }
            None => (host, None),
        }
    } else {
        // A byte loop: Host values are short, and `rfind` pays for a memrchr set-up.
        match host.bytes().rposition(|b| b == b':') {
            Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
                (&host[..i], Some(&host[i + 1..]))
            }
            _ => (host, None),
        }
    };
    (name, port.filter(|p| !p.is_empty()))
}

/// The Host value without its port (rule 1): `example.com:8080` → `example.com`,
/// `[::1]:80` → `[::1]`.
pub fn strip_port(host: &str) -> &str {
    split_port(host).0
}

/// The host name with rules 1 and 2 applied and its case kept, for primitives that read the
/// name as received (`req_host_regmatch` is case-sensitive, as in BFE).
pub fn host_name(host: &str) -> &str {
    let name = strip_port(host);
    name.strip_suffix('.').unwrap_or(name)
}

/// The normal form of a Host value (all four rules): `WWW.A.com.:8080` → `www.a.com`.
/// Borrows `host` when it has no upper-case letter, else lower-cases into `buf`; never
/// allocates. `None` when the name is longer than [`MAX_HOST_LEN`]. May be `Some("")`
/// (for `""`, `:80` or `.`), which is no host name: every caller matches nothing with it.
pub fn normalize_host<'a>(host: &'a str, buf: &'a mut HostBuf) -> Option<&'a str> {
    let name = host_name(host);
    if name.len() > MAX_HOST_LEN {
        return None;
    }
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(name);
    }
    let dst = buf.get_mut(..name.len())?;
    dst.copy_from_slice(name.as_bytes());
    dst.make_ascii_lowercase();
    // ASCII lower-casing keeps UTF-8 valid, so this never fails.
    std::str::from_utf8(dst).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cond::{Condition, Facts};
    use crate::host_table::{HostMatch, HostTable};
    use crate::snapshot::TenantId;

    fn norm(h: &str) -> Option<String> {
        normalize_host(h, &mut [0; MAX_HOST_LEN]).map(str::to_owned)
    }

    /// `(Host value, normal form, port)`.
    #[rustfmt::skip]
    const CASES: &[(&str, Option<&str>, Option<&str>)] = &[
        ("a.com", Some("a.com"), None),
        ("a.com:8080", Some("a.com"), Some("8080")),
        ("a.com:", Some("a.com"), None),
        ("a.com:0", Some("a.com"), Some("0")),
        ("a.com:99999", Some("a.com"), Some("99999")),
        // A non-digit "port" is part of the name, so the name matches nothing.
        ("a.com:foo", Some("a.com:foo"), None),
        ("a.com:80x", Some("a.com:80x"), None),
        ("a.com:+80", Some("a.com:+80"), None),
        // The last `:` is the port's.
        ("a.com:1:2", Some("a.com:1"), Some("2")),
        // IPv6: bracketed, with and without port; unbracketed is not an IPv6 reading.
        ("[::1]", Some("[::1]"), None),
        ("[::1]:443", Some("[::1]"), Some("443")),
        ("[::1]:", Some("[::1]"), None),
        ("[::1]:x", Some("[::1]"), None),
        ("[2001:DB8::A]:80", Some("[2001:db8::a]"), Some("80")),
        ("[::1", Some("[::1"), None),
        ("::1", Some(":"), Some("1")),
        // Trailing dot: one is dropped, also before a port.
        ("a.com.", Some("a.com"), None),
        ("a.com.:80", Some("a.com"), Some("80")),
        ("a.com..", Some("a.com."), None),
        (".", Some(""), None),
        // Case: ASCII only.
        ("WWW.Example.COM", Some("www.example.com"), None),
        ("WWW.Example.COM.:8080", Some("www.example.com"), Some("8080")),
        ("\u{c9}.COM", Some("\u{c9}.com"), None),
        ("\u{212a}.com", Some("\u{212a}.com"), None),
        // Empty.
        ("", Some(""), None),
        (":80", Some(""), Some("80")),
    ];

    #[test]
    fn normalize_host_table() {
        let mut failures = Vec::new();
        for &(host, want, port) in CASES {
            let got = norm(host);
            let got_port = split_port(host).1;
            if got.as_deref() != want || got_port != port {
                failures.push(format!(
                    "{host:?}: got {got:?} port {got_port:?}, want {want:?} port {port:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn normalize_host_bounds_the_length_and_borrows_lower_case() {
        let max = "x".repeat(MAX_HOST_LEN);
        assert_eq!(norm(&max).as_deref(), Some(max.as_str()));
        assert_eq!(norm(&format!("{max}.:80")).as_deref(), Some(max.as_str()));
        assert_eq!(
            norm(&max.to_ascii_uppercase()).as_deref(),
            Some(max.as_str())
        );
        assert_eq!(norm(&format!("{max}x")), None);
        assert_eq!(norm(&format!("{max}X")), None);
        let mut buf = [0; MAX_HOST_LEN];
        let host = "a.com:80";
        let got = normalize_host(host, &mut buf).unwrap();
        assert!(
            std::ptr::eq(got.as_ptr(), host.as_ptr()),
            "lower case is borrowed"
        );
    }

    struct Req(String);

    impl Facts for Req {
        fn host(&self) -> &str {
            &self.0
        }
    }

    /// Names in both the host table and a `req_host_in` list.
    const NAMES: [&str; 7] = [
        "a.com",
        "www.a.com",
        "k.com",
        "xn--9ca.com",
        "1.2.3.4",
        "[::1]",
        "[2001:db8::a]",
    ];

    /// Host values a client may send, most of them odd.
    fn tricky_hosts() -> Vec<String> {
        let mut hosts: Vec<String> = [
            "a.com",
            "A.COM",
            "a.com:80",
            "a.com:",
            "a.com:foo",
            "a.com:80x",
            "a.com:1:2",
            "a.com.",
            "A.Com.:8080",
            "a.com..",
            ".a.com",
            "www.a.com",
            "WWW.A.COM.:443",
            "x.a.com",
            "k.com",
            "K.COM:1",
            "\u{212a}.com",
            "xn--9CA.com",
            "\u{e9}.com",
            "1.2.3.4",
            "1.2.3.4:80",
            "[::1]",
            "[::1]:443",
            "[::1]:x",
            "[::1].",
            "::1",
            "[::1",
            "[2001:DB8::A]:8080",
            "[2001:db8::a].:80",
            "",
            ":80",
            ".",
            ":",
        ]
        .map(str::to_owned)
        .to_vec();
        hosts.push(format!("{}.com", "a".repeat(300)));
        hosts
    }

    /// For every tricky Host value and every name, the host table finds the name's tenant
    /// exactly when `req_host_in(name)` is true, and the index key is the normal form.
    #[test]
    fn host_table_and_req_host_in_agree() {
        let mut table = HostTable::new(None);
        for (i, name) in NAMES.iter().enumerate() {
            let m = HostMatch {
                tenant: TenantId(i as u32),
                tag: Some(0),
            };
            assert!(table.insert(name, m));
        }
        let conds: Vec<Condition> = NAMES
            .iter()
            .map(|n| Condition::compile(&format!("req_host_in(\"{n}\")")).unwrap())
            .collect();
        let mut failures = Vec::new();
        let mut matched = 0;
        for host in tricky_hosts() {
            let found = table.lookup(Some(&host), None).map(|m| m.tenant.0 as usize);
            for (i, cond) in conds.iter().enumerate() {
                let by_cond = cond.eval(&Req(host.clone()));
                if by_cond != (found == Some(i)) {
                    failures.push(format!(
                        "{host:?}: host table found {:?}, req_host_in(\"{}\") is {by_cond}",
                        found.map(|t| NAMES[t]),
                        NAMES[i]
                    ));
                }
                matched += usize::from(by_cond);
            }
            let mut a = [0; MAX_HOST_LEN];
            let mut b = [0; MAX_HOST_LEN];
            let key = crate::cond::host_key(&host, &mut a);
            if key != normalize_host(&host, &mut b) {
                failures.push(format!("{host:?}: index key {key:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // The hosts must exercise matches, not only misses.
        assert!(matched >= 18, "only {matched} matches");
    }
}
