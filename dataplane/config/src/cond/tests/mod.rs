//! Tests of the condition language: every primitive true and false (`cases`), every error
//! class with its column (`errors`), grammar and precedence (`syntax`), hash and time
//! arithmetic against independent vectors (`internals`), the host analysis behind the route
//! index (`hosts`).

mod cases;
mod errors;
mod fake;
mod hosts;
mod internals;
mod syntax;

use super::table::{PRIMITIVE_COUNT, PRIMITIVES};
use super::{CondError, Condition};

fn compile(src: &str) -> Condition {
    Condition::compile(src).unwrap_or_else(|e| panic!("{src:?} should compile: {e}"))
}

fn compile_err(src: &str) -> CondError {
    match Condition::compile(src) {
        Ok(c) => panic!("{src:?} should not compile, got {c:?}"),
        Err(e) => e,
    }
}

/// The primitive a single-call case exercises: the name before `(`.
fn primitive_of(cond: &str) -> &str {
    cond.split('(').next().unwrap_or(cond).trim()
}

#[test]
fn every_case_evaluates_as_expected() {
    let mut failures = Vec::new();
    for case in cases::CASES {
        let got = compile(case.cond).eval(&(case.facts)());
        if got != case.want {
            failures.push(format!("{} => {got}, want {}", case.cond, case.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_primitive_has_a_true_and_a_false_case() {
    let mut missing = Vec::new();
    for proto in &PRIMITIVES {
        let has = |want: bool| {
            cases::CASES
                .iter()
                .any(|c| primitive_of(c.cond) == proto.name && c.want == want)
        };
        // default_t() cannot be false; its negation is covered in `syntax`.
        let needs_false = proto.name != "default_t";
        if !has(true) || (needs_false && !has(false)) {
            missing.push(proto.name);
        }
    }
    assert!(
        missing.is_empty(),
        "primitives without a true and a false case: {missing:?}"
    );
}

#[test]
fn every_case_names_a_known_primitive() {
    for case in cases::CASES {
        let name = primitive_of(case.cond);
        assert!(PRIMITIVES.iter().any(|p| p.name == name), "{name}");
    }
}

/// bfe `parser/semant.go` defines 56 names; BFE.md §3.3 adds the two body-JSON primitives
/// of later BFE (`docs/en_us/condition/request/body.md`): 58.
#[test]
fn the_table_has_exactly_the_bfe_primitives() {
    assert_eq!(PRIMITIVES.len(), 58);
    assert_eq!(PRIMITIVE_COUNT, 58);
    let mut names: Vec<&str> = PRIMITIVES.iter().map(|p| p.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 58, "duplicate names in the table");
    let response: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with("res_"))
        .collect();
    assert_eq!(
        response,
        ["res_code_in", "res_header_key_in", "res_header_value_in"]
    );
}

#[test]
fn uses_response_is_true_only_with_res_primitives() {
    assert!(!compile(r#"req_host_in("a") && !req_path_in("/", false)"#).uses_response());
    assert!(compile(r#"req_host_in("a") || !res_code_in("500")"#).uses_response());
    assert!(compile(r#"(default_t() && res_header_key_in("x"))"#).uses_response());
}
