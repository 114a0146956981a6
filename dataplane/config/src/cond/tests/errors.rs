//! Every error class, with the exact column of the offending token.

use super::compile_err;
use crate::cond::CondErrorKind::{self, *};

/// `(source, kind, column)`; columns are 1-based characters.
#[rustfmt::skip]
const ERRORS: &[(&str, CondErrorKind, usize)] = &[
    ("", Empty, 1),
    ("   // just a comment", Empty, 1),
    ("default_t() & default_t()", UnexpectedChar, 13),
    ("default_t();", UnexpectedChar, 12),
    ("default_t() | x", UnexpectedChar, 13),
    (r#"req_host_in("abc"#, UnterminatedString, 13),
    ("req_host_in(\"ab\nc\")", UnterminatedString, 13),
    ("req_host_in(`abc", UnterminatedString, 13),
    (r#"req_host_in("a\qb")"#, InvalidEscape, 15),
    (r#"req_host_in("\xff")"#, InvalidEscape, 14),
    (r#"req_host_in("\u12")"#, InvalidEscape, 14),
    ("default_t() default_t()", UnexpectedToken, 13),
    ("&& default_t()", UnexpectedToken, 1),
    (r#"req_host_in("a",)"#, UnexpectedToken, 17),
    (r#"req_host_in("a" "b")"#, UnexpectedToken, 17),
    ("()", UnexpectedToken, 2),
    ("(default_t() default_t())", UnexpectedToken, 14),
    (r#"req_host_in("a""#, UnexpectedEnd, 16),
    ("default_t() &&", UnexpectedEnd, 15),
    ("!", UnexpectedEnd, 2),
    ("req_host_in(", UnexpectedEnd, 13),
    ("default_t())", UnbalancedParen, 12),
    ("default_t() && )", UnbalancedParen, 16),
    ("(default_t()", UnbalancedParen, 1),
    ("((default_t())", UnbalancedParen, 1),
    (r#"req_hots_in("a")"#, UnknownPrimitive, 1),
    (r#"default_t() || REQ_HOST_IN("a")"#, UnknownPrimitive, 16),
    (r#"req_host_in("a") && req_path_in("/", tru)"#, UnresolvedVariable, 38),
    ("x && default_t()", UnresolvedVariable, 1),
    ("default_t() || !$news_host", UnresolvedVariable, 17),
    (r#"req_host_in("a", "b")"#, WrongArity, 1),
    ("default_t(true)", WrongArity, 1),
    (r#"!req_path_in("/")"#, WrongArity, 2),
    (r#"req_path_in("/", "true")"#, WrongArgType, 18),
    ("req_port_in(80)", WrongArgType, 13),
    (r#"req_host_in(true)"#, WrongArgType, 13),
    (r#"req_path_regmatch("(")"#, InvalidArgValue, 19),
    (r#"req_cip_range("1.2.3", "1.2.3.4")"#, InvalidArgValue, 15),
    (r#"req_cip_range("1.2.3.5", "1.2.3.4")"#, InvalidArgValue, 26),
    (r#"req_cip_range("1.2.3.4", "::1")"#, InvalidArgValue, 26),
    (r#"req_vip_in("1.1.1.1|nope")"#, InvalidArgValue, 12),
    (r#"req_cip_hash_in("0-10000")"#, InvalidArgValue, 17),
    (r#"req_cip_hash_in("99-0")"#, InvalidArgValue, 17),
    (r#"req_cip_hash_in("")"#, InvalidArgValue, 17),
    (r#"req_cip_hash_in("1-2-3")"#, InvalidArgValue, 17),
    (r#"req_header_value_hash_in("x", "0-99|x", false)"#, InvalidArgValue, 31),
    (r#"req_host_in("a.com:80")"#, InvalidArgValue, 13),
    (r#"req_host_in("[::1]:80")"#, InvalidArgValue, 13),
    (r#"req_host_in("a.com|")"#, InvalidArgValue, 13),
    (r#"default_t() && req_host_in("a.com||b.com")"#, InvalidArgValue, 28),
    (r#"req_host_in(".")"#, InvalidArgValue, 13),
    ("req_host_in(\"\u{212a}.com\")", InvalidArgValue, 13),
    (r#"req_port_in("80|http")"#, InvalidArgValue, 13),
    (r#"res_code_in("5xx")"#, InvalidArgValue, 13),
    (r#"bfe_time_range("20190230000000H", "20190301000000H")"#, InvalidArgValue, 16),
    (r#"bfe_time_range("20190204000000J", "20190301000000H")"#, InvalidArgValue, 16),
    (r#"bfe_time_range("20190204000000H", "2019020400000H")"#, InvalidArgValue, 35),
    (r#"bfe_time_range("20190204000001H", "20190204000000H")"#, InvalidArgValue, 35),
    (r#"bfe_periodic_time_range("240000H", "230000H", "")"#, InvalidArgValue, 25),
    (r#"bfe_periodic_time_range("100000H", "090000H", "")"#, InvalidArgValue, 36),
    (r#"bfe_periodic_time_range("100000H", "110000Z", "")"#, InvalidArgValue, 36),
    (r#"bfe_periodic_time_range("100000H", "110000H", "weekly")"#, InvalidArgValue, 47),
    (r#"req_body_json_in("a..b", "x", false)"#, InvalidArgValue, 18),
    (r#"req_body_json_in("a.*", "x", false)"#, InvalidArgValue, 18),
];

#[test]
fn every_error_class_reports_its_column() {
    let mut failures = Vec::new();
    for &(src, kind, column) in ERRORS {
        let e = compile_err(src);
        if e.kind != kind || e.column != column {
            failures.push(format!(
                "{src:?}: got {:?} at {} ({}), want {kind:?} at {column}",
                e.kind, e.column, e.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_error_kind_is_exercised() {
    let all = [
        Empty,
        UnexpectedChar,
        UnterminatedString,
        InvalidEscape,
        UnexpectedToken,
        UnexpectedEnd,
        UnbalancedParen,
        TooDeep,
        UnknownPrimitive,
        UnresolvedVariable,
        WrongArity,
        WrongArgType,
        InvalidArgValue,
    ];
    for kind in all {
        let in_table = ERRORS.iter().any(|(_, k, _)| *k == kind);
        assert!(in_table || kind == TooDeep, "{kind:?} has no case"); // TooDeep: own test below
    }
}

#[test]
fn messages_read_like_the_config_compiler_expects() {
    let cases = [
        (
            r#"req_hots_in("a")"#,
            "unknown primitive 'req_hots_in' at column 1",
        ),
        (
            r#"req_host_in("a", "b")"#,
            "req_host_in expects 1 argument, got 2 at column 1",
        ),
        (
            "default_t(true)",
            "default_t expects 0 arguments, got 1 at column 1",
        ),
        (
            r#"req_path_in("/", "true")"#,
            "argument 2 of req_path_in must be a bool at column 18",
        ),
        (
            "req_port_in(80)",
            "argument 1 of req_port_in must be a string at column 13",
        ),
        (
            r#"req_host_in("a") && req_path_in("/", tru)"#,
            "unresolved variable 'tru' at column 38",
        ),
        ("", "empty condition at column 1"),
        ("default_t())", "unmatched ')' at column 12"),
        (
            r#"req_host_in("a.com|")"#,
            "invalid argument 1 of req_host_in: empty host in the list (a doubled, leading or trailing '|'?) at column 13",
        ),
        (
            "req_host_in(\"\u{212a}.com\")",
            "invalid argument 1 of req_host_in: host '\u{212a}.com' must be ASCII: write an internationalized name in its xn-- form at column 13",
        ),
        (
            r#"req_cip_range("1.2.3", "1.2.3.4")"#,
            "invalid argument 1 of req_cip_range: '1.2.3' is not an IP address at column 15",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(compile_err(src).to_string(), want, "{src}");
    }
    let re = compile_err(r#"req_path_regmatch("(")"#).to_string();
    assert!(
        re.starts_with("invalid argument 1 of req_path_regmatch: not a valid regex"),
        "{re}"
    );
    assert!(!re.contains('\n'), "one line: {re}");
}

#[test]
fn nesting_is_bounded() {
    let depth = crate::cond::parse::MAX_DEPTH;
    let ok = format!("{}default_t(){}", "(".repeat(depth), ")".repeat(depth));
    assert!(super::compile(&ok).eval(&super::fake::bare()));
    let too_deep = format!(
        "{}default_t(){}",
        "(".repeat(depth + 1),
        ")".repeat(depth + 1)
    );
    let e = compile_err(&too_deep);
    assert_eq!((e.kind, e.column), (TooDeep, depth + 1));
    let nots = format!("{}default_t()", "!".repeat(depth + 1));
    assert_eq!(compile_err(&nots).kind, TooDeep);
    // Long flat chains are not depth: they compile to one n-ary node.
    let chain = vec!["default_t()"; 5000].join(" && ");
    assert!(super::compile(&chain).eval(&super::fake::bare()));
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = compile_err(r#"req_host_tag_in("é") && x"#);
    assert_eq!((e.kind, e.column), (UnresolvedVariable, 25));
    let e = compile_err(r#"default_t() && req_host_in("é")"#);
    assert_eq!((e.kind, e.column), (InvalidArgValue, 28));
}
