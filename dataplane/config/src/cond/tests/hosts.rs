//! The host analysis behind the advanced-route index (`Condition::required_hosts`) and the
//! request key it is compared with (`host_key`).

use super::compile;
use crate::cond::host_key;

/// `(condition, hosts it requires)`; `None` = may match any host.
const CASES: &[(&str, Option<&[&str]>)] = &[
    (r#"req_host_in("a.com")"#, Some(&["a.com"])),
    (
        r#"req_host_in("B.com|a.COM|a.com")"#,
        Some(&["a.com", "b.com"]),
    ),
    (
        r#"req_host_in("[::1]|[2001:DB8::1]")"#,
        Some(&["[2001:db8::1]", "[::1]"]),
    ),
    // Items are in the host table's normal form: no trailing dot, ASCII lower case.
    (r#"req_host_in("a.com.")"#, Some(&["a.com"])),
    (r#"req_host_in("A.com.|a.com")"#, Some(&["a.com"])),
    (r#"req_host_in("XN--9CA.com")"#, Some(&["xn--9ca.com"])),
    // `&&`: the constrained side; both constrained: the intersection.
    (
        r#"req_host_in("a.com") && req_path_prefix_in("/x", false)"#,
        Some(&["a.com"]),
    ),
    (
        r#"req_path_prefix_in("/x", false) && req_host_in("A.com")"#,
        Some(&["a.com"]),
    ),
    (
        r#"req_host_in("a.com|b.com") && req_host_in("b.com|c.com")"#,
        Some(&["b.com"]),
    ),
    (r#"req_host_in("a.com") && req_host_in("b.com")"#, Some(&[])),
    (r#"req_method_in("GET") && req_path_in("/", false)"#, None),
    // `||`: the union, only if every side is constrained.
    (
        r#"req_host_in("a.com") || req_host_in("b.com|a.com")"#,
        Some(&["a.com", "b.com"]),
    ),
    (r#"req_host_in("a.com") || req_path_in("/", false)"#, None),
    (r#"req_path_in("/", false) || req_host_in("a.com")"#, None),
    // `!` is never indexed, not even a double negation.
    (r#"!req_host_in("a.com")"#, None),
    (r#"!!req_host_in("a.com")"#, None),
    (r#"req_host_in("a.com") || !req_host_in("b.com")"#, None),
    (
        r#"!req_host_in("a.com") && req_host_in("b.com")"#,
        Some(&["b.com"]),
    ),
    // Nesting.
    (
        r#"(req_host_in("a.com") || req_host_in("b.com")) && req_method_in("GET")"#,
        Some(&["a.com", "b.com"]),
    ),
    (
        r#"req_host_in("a.com|c.com") && (req_host_in("b.com") || req_path_in("/", false))"#,
        Some(&["a.com", "c.com"]),
    ),
    (
        r#"((req_host_in("a.com") && default_t()) || (req_method_in("GET") && req_host_in("b.com")))"#,
        Some(&["a.com", "b.com"]),
    ),
    (
        r#"req_method_in("GET") && (req_host_in("a.com") || (req_host_in("b.com") && !req_path_in("/", false)))"#,
        Some(&["a.com", "b.com"]),
    ),
    // Other host primitives and host-like sources are not exact host lists.
    (r#"req_host_suffix_in("a.com")"#, None),
    (r#"req_host_regmatch("^a\\.com$")"#, None),
    (r#"req_host_tag_in("a.com")"#, None),
    (r#"ses_tls_sni_in("a.com")"#, None),
    (r#"req_header_value_in("host", "a.com", true)"#, None),
    ("default_t()", None),
];

#[test]
fn required_hosts_follow_the_rules() {
    let mut failures = Vec::new();
    for (src, want) in CASES {
        let cond = compile(src);
        let got: Option<Vec<&str>> = cond
            .required_hosts()
            .map(|hs| hs.iter().map(|h| &**h).collect());
        let want = want.map(<[&str]>::to_vec);
        if got != want {
            failures.push(format!("{src} => {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Lists that could name no host, or a host the host table would read differently, are refused
/// at compile time, so every key is a normal form.
#[test]
fn odd_host_lists_do_not_compile() {
    for list in [
        "a.com:80",
        "a.com:",
        "[::1]:80",
        "[::1",
        "[nope]",
        "a.com|",
        "|a.com",
        "a.com||b.com",
        "",
        ".",
        "\u{212a}.com",
        "\u{e9}.com",
    ] {
        let src = format!("req_host_in(\"{list}\")");
        assert!(
            crate::cond::Condition::compile(&src).is_err(),
            "{src} should not compile"
        );
    }
}

#[test]
fn host_key_is_the_normal_form() {
    let key = |h: &str| {
        let mut buf = [0u8; crate::host::MAX_HOST_LEN];
        host_key(h, &mut buf).map(str::to_owned)
    };
    assert_eq!(key("a.com").as_deref(), Some("a.com"));
    assert_eq!(key("A.Com:8080").as_deref(), Some("a.com"));
    assert_eq!(
        key("a.com.").as_deref(),
        Some("a.com"),
        "trailing dot dropped"
    );
    assert_eq!(
        key("a.com:x").as_deref(),
        Some("a.com:x"),
        "a non-digit port is not cut"
    );
    assert_eq!(
        key("a.com:1:2").as_deref(),
        Some("a.com:1"),
        "cut at the last ':'"
    );
    assert_eq!(key("[::1]:443").as_deref(), Some("[::1]"));
    assert_eq!(key("[::ABC]").as_deref(), Some("[::abc]"));
    assert_eq!(key("").as_deref(), Some(""));
    assert_eq!(
        key("\u{c9}.COM").as_deref(),
        Some("\u{c9}.com"),
        "ASCII only"
    );
    let max = "x".repeat(crate::host::MAX_HOST_LEN);
    assert_eq!(key(&max).as_deref(), Some(max.as_str()));
    assert_eq!(key(&format!("{max}x")), None, "longer than any name");
}

/// Soundness on the primitive itself: whenever `req_host_in` is true, the request's key is in
/// the required set, for hosts in any case, with ports, dots and brackets.
#[test]
fn req_host_in_true_implies_key_in_set() {
    let lists = ["a.com|B.com", "[::1]", "a.com.", "xn--9ca.com", "x"];
    let hosts = [
        "a.com",
        "A.COM",
        "a.com:80",
        "a.com:x",
        "a.com.",
        "A.COM.:1",
        "b.com",
        "[::1]",
        "[::1]:80",
        "a.com..",
        "a.com:1:2",
        "k.com",
        "K.COM",
        "\u{212a}.com",
        "xn--9CA.com.",
        "\u{e9}.com",
        "x",
        "X:1",
        "X.",
        "",
        ":80",
        "c.com",
    ];
    let mut checked = 0;
    for list in lists {
        let cond = compile(&format!("req_host_in(\"{list}\")"));
        let Some(set) = cond.required_hosts() else {
            panic!("{list} should be indexed");
        };
        for h in hosts {
            let facts = super::fake::Fake {
                host: h.to_owned(),
                ..super::fake::bare()
            };
            if cond.eval(&facts) {
                let mut buf = [0u8; 255];
                let k = host_key(h, &mut buf);
                assert!(
                    k.is_some_and(|k| set.iter().any(|s| &**s == k)),
                    "{list} matched {h:?}, key {k:?} not in {set:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "only {checked} matches");
}
