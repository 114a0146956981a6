//! `dataplane --check FILE` (like `nginx -t`) against the real binary: the example config passes,
//! every violation of a bad file is printed with its field path, and syntax errors, unknown
//! fields and missing files fail with a clear message.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The `dataplane` binary next to this test binary (`target/debug/dataplane`).
///
/// `cargo test -p bfe-tests` does not build another package's binaries, so the test command
/// must build it first (`cargo build -p bfe-dataplane`); the tests never build it themselves.
pub(crate) fn dataplane_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/e2e-<hash> → target/debug/dataplane
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join("dataplane"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no `dataplane` binary above {}: run `cargo build -p bfe-dataplane` before the tests",
                exe.display()
            )
        })
}

/// Runs `dataplane --check <file>`; returns (success, stdout + stderr).
async fn check(file: &Path) -> (bool, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(dataplane_bin())
            .arg("--check")
            .arg(file)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("--check finishes within 20 s")
    .expect("run dataplane --check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write config");
    p
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/standalone.yaml")
}

#[tokio::test]
async fn check_accepts_the_example_config() {
    let file = example();
    let (ok, out) = check(&file).await;
    assert!(ok, "exit status must be 0: {out}");
    assert!(out.contains("configuration OK"), "{out}");
    assert!(!out.contains("violation"), "{out}");
}

#[tokio::test]
async fn check_lists_every_violation_with_its_field_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "bad.yaml",
        r#"
default_tenant: nobody
tenants:
  - name: a
    hosts: ["a.example", "bad host"]
    routes:
      basic:
        - { hosts: ["a.example"], paths: ["nope"], cluster: c1 }
      advanced:
        - { condition: 'req_hots_in("x")', cluster: c1 }
        - { condition: 'default_t()', cluster: missing }
clusters:
  - { name: c1, sub_clusters: [{ name: s, weight: 1, backends: [{ addr: "127.0.0.1:1" }] }] }
"#,
    );
    let (ok, out) = check(&file).await;
    assert!(!ok, "exit status must be non-zero: {out}");
    let f = file.display();
    let lines: Vec<&str> = out.lines().collect();
    for want in [
        format!("{f}: default_tenant: unknown tenant 'nobody'"),
        format!("{f}: tenants[0].hosts[1]: invalid host name 'bad host'"),
        format!(
            "{f}: tenants[0].routes.basic[0].paths[0]: path 'nope' must start with '/' or be '*'"
        ),
        format!(
            "{f}: tenants[0].routes.advanced[0].condition: unknown primitive 'req_hots_in' at column 1"
        ),
        format!("{f}: tenants[0].routes.advanced[1].cluster: unknown cluster 'missing'"),
        format!("{f}: 5 violation(s), configuration refused"),
    ] {
        assert!(
            lines.contains(&want.as_str()),
            "missing line {want:?} in:\n{out}"
        );
    }
    assert!(!out.contains("configuration OK"), "{out}");
}

#[tokio::test]
async fn check_reports_condition_errors_in_a_json_file_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "bad.json",
        r#"{"tenants": [{"name": "t", "hosts": ["t.example"], "routes": {"advanced": [
            {"condition": "default_t()", "cluster": "c"},
            {"condition": "req_method_in(\"GET\") &&", "cluster": "c"}]}}],
          "clusters": [{"name": "c", "sub_clusters": [{"name": "s", "weight": 1,
            "backends": [{"addr": "127.0.0.1:1"}]}]}]}"#,
    );
    let (ok, out) = check(&file).await;
    assert!(!ok, "{out}");
    let prefix = format!(
        "{}: tenants[0].routes.advanced[1].condition: ",
        file.display()
    );
    assert!(
        out.lines().any(|l| l.starts_with(&prefix)),
        "expected a line starting {prefix:?} in:\n{out}"
    );
    assert!(out.contains("1 violation(s)"), "{out}");
}

#[tokio::test]
async fn check_refuses_yaml_syntax_errors_and_unknown_fields() {
    let dir = tempfile::tempdir().expect("temp dir");

    let syntax = write(dir.path(), "syntax.yaml", "tenants: [\n  - name: x\n");
    let (ok, out) = check(&syntax).await;
    assert!(!ok, "{out}");
    assert!(out.contains("invalid YAML"), "{out}");
    assert!(out.contains("line 2"), "the position is reported: {out}");
    assert!(!out.contains("configuration OK"), "{out}");

    let unknown = write(dir.path(), "unknown.yaml", "tenants: []\nclustres: []\n");
    let (ok, out) = check(&unknown).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("unknown field `clustres`"),
        "the typo is named: {out}"
    );
    assert!(!out.contains("configuration OK"), "{out}");
}

#[tokio::test]
async fn check_fails_on_a_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("does-not-exist.yaml");
    let (ok, out) = check(&missing).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("does-not-exist.yaml"),
        "the file is named: {out}"
    );
    assert!(!out.contains("configuration OK"), "{out}");
}
