//! Grammar: precedence and grouping, literals, comments, and the `Condition` value itself.

use std::sync::Arc;

use super::compile;
use super::fake::{Fake, bare};
use crate::cond::parse::{Expr, Lit, parse};
use crate::cond::{CondError, Condition};

/// The parse tree as `or(and(not(a),b),c)`, calls by name only.
fn shape(src: &str) -> String {
    fn render(e: &Expr) -> String {
        let join = |op: &str, ts: &[Expr]| {
            format!(
                "{op}({})",
                ts.iter().map(render).collect::<Vec<_>>().join(",")
            )
        };
        match e {
            Expr::Or(ts) => join("or", ts),
            Expr::And(ts) => join("and", ts),
            Expr::Not(inner) => format!("not({})", render(inner)),
            Expr::Call(c) => c.name.clone(),
            Expr::Var { name, .. } => format!("${name}"),
        }
    }
    render(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")))
}

#[test]
fn precedence_is_not_then_and_then_or() {
    assert_eq!(shape("!a() && b() || c()"), "or(and(not(a),b),c)");
    assert_eq!(shape("a() || b() && c()"), "or(a,and(b,c))");
    assert_eq!(shape("!a() && (b() || c())"), "and(not(a),or(b,c))");
    assert_eq!(shape("!(a() && b()) || c()"), "or(not(and(a,b)),c)");
    assert_eq!(
        shape("a() && b() && c() || d() || e()"),
        "or(and(a,b,c),d,e)"
    );
    assert_eq!(shape("!!a()"), "not(not(a))");
    assert_eq!(shape("((a()))"), "a");
}

/// The same groupings, end to end: a = method "A", b = path "/b", c = host "c".
#[test]
fn precedence_holds_in_evaluation() {
    let (a, b, c) = (
        r#"req_method_in("A")"#,
        r#"req_path_in("/b", false)"#,
        r#"req_host_in("c")"#,
    );
    type Truth = fn(bool, bool, bool) -> bool;
    let exprs: [(String, Truth); 4] = [
        (format!("!{a} && {b} || {c}"), |a, b, c| (!a && b) || c),
        (format!("!{a} && ({b} || {c})"), |a, b, c| !a && (b || c)),
        (format!("{a} || {b} && {c}"), |a, b, c| a || (b && c)),
        (format!("!({a} || {b}) && {c}"), |a, b, c| !(a || b) && c),
    ];
    for (src, want) in &exprs {
        let cond = compile(src);
        for bits in 0..8u8 {
            let (va, vb, vc) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            let facts = Fake {
                method: if va { "A" } else { "Z" }.into(),
                path: if vb { "/b" } else { "/z" }.into(),
                host: if vc { "c" } else { "z" }.into(),
                ..bare()
            };
            assert_eq!(
                cond.eval(&facts),
                want(va, vb, vc),
                "{src} with a={va} b={vb} c={vc}"
            );
        }
    }
}

#[test]
fn negation_and_constants() {
    assert!(compile("default_t()").eval(&bare()));
    assert!(!compile("!default_t()").eval(&bare()));
    assert!(compile("!!default_t()").eval(&bare()));
    assert!(!compile("default_t() && !default_t()").eval(&bare()));
    assert!(compile("!default_t() || default_t()").eval(&bare()));
}

#[test]
fn literals_escapes_and_comments() {
    let lit = |src: &str| match parse(src) {
        Ok(Expr::Call(c)) => c.args.into_iter().map(|a| a.lit).collect::<Vec<_>>(),
        other => panic!("{src}: {other:?}"),
    };
    let s = |v: &str| Lit::Str(v.to_owned());
    assert_eq!(lit(r#"f("a\"b", "c\\d")"#), [s("a\"b"), s("c\\d")]);
    assert_eq!(
        lit(r#"f("\t\n\x41\101\u00e9\U0001F600")"#),
        [s("\t\nAAé😀")]
    );
    assert_eq!(lit("f(`raw \\d+ \"q\"`)"), [s("raw \\d+ \"q\"")]);
    assert_eq!(lit("f(`two\r\nlines`)"), [s("two\nlines")]);
    assert_eq!(
        lit("f(true, false, 12, x-y)"),
        [
            Lit::Bool(true),
            Lit::Bool(false),
            Lit::Number("12".into()),
            Lit::Ident("x-y".into()),
        ]
    );
    assert_eq!(lit("f()"), []);
    let with_comment = "// routing rule\nreq_method_in(\"GET\") // trailing\n";
    assert!(compile(with_comment).eval(&Fake {
        method: "GET".into(),
        ..bare()
    }));
    assert!(compile(" \t\r\ndefault_t ( ) ").eval(&bare()));
}

#[test]
fn a_regex_written_with_escapes_means_what_it_says() {
    let quoted = compile(r#"req_path_regmatch("^/v\\d+/a\\.b$")"#);
    let raw = compile(r"req_path_regmatch(`^/v\d+/a\.b$`)");
    for cond in [&quoted, &raw] {
        assert!(
            cond.eval(&Fake {
                path: "/v12/a.b".into(),
                ..bare()
            }),
            "{cond}"
        );
        assert!(
            !cond.eval(&Fake {
                path: "/v12/aXb".into(),
                ..bare()
            }),
            "{cond}"
        );
    }
}

#[test]
fn condition_value_semantics() {
    let src = r#"req_host_in("a.com")"#;
    let c = compile(src);
    assert_eq!(c.source(), src);
    assert_eq!(c.to_string(), src);
    assert_eq!(format!("{c:?}"), format!("Condition({src:?})"));
    let parsed: Result<Condition, CondError> = src.parse();
    assert_eq!(parsed.as_ref().ok(), Some(&c));
    assert_ne!(compile("default_t()"), c);
    let copy = c.clone();
    assert!(
        Arc::ptr_eq(&copy.inner, &c.inner),
        "clone shares the compiled tree"
    );
}

#[test]
fn condition_is_send_sync_and_eval_takes_unsized_facts() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Condition>();
    let facts: &dyn crate::cond::Facts = &Fake {
        method: "GET".into(),
        ..bare()
    };
    assert!(compile(r#"req_method_in("get")"#).eval(facts));
}
