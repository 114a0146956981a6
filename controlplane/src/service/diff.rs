//! Structured diff of two snapshots: per resource (tenant, cluster, certificate, the global
//! modules and settings), and inside each, per field with a JSON path. Private keys show as
//! changed, never as text.

use std::collections::BTreeMap;

use bfe_config::RawSnapshot;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::Actor;
use crate::model::{Config, GLOBAL, redact_value};

/// What happened to a resource or a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// The differences between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotDiff {
    pub resources: Vec<ResourceDiff>,
}

/// One resource that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceDiff {
    /// `tenant` (with its routes and modules), `cluster`, `certificate`, `global_modules`,
    /// `settings`.
    pub kind: String,
    pub name: String,
    pub change: Change,
    /// Field-level changes (for `changed` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDiff>,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldDiff {
    /// Path inside the resource, e.g. `routes.advanced[0].condition`.
    pub path: String,
    pub change: Change,
    /// The field's value before: any JSON value (a private key shows as `"[redacted]"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub before: Option<Value>,
    /// The field's value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub after: Option<Value>,
}

type Resources = BTreeMap<(&'static str, String), Value>;

// === impl SnapshotDiff ===

impl SnapshotDiff {
    pub fn between(from: &RawSnapshot, to: &RawSnapshot) -> Self {
        let (a, b) = (resources(from), resources(to));
        let mut out = Vec::new();
        for (key, va) in &a {
            match b.get(key) {
                None => out.push(resource(key, Change::Removed, Vec::new())),
                Some(vb) if vb != va => {
                    let mut fields = Vec::new();
                    diff_values("", va, vb, &mut fields);
                    out.push(resource(key, Change::Changed, fields));
                }
                Some(_) => {}
            }
        }
        for key in b.keys().filter(|k| !a.contains_key(*k)) {
            out.push(resource(key, Change::Added, Vec::new()));
        }
        out.sort_by(|x, y| (&x.kind, &x.name).cmp(&(&y.kind, &y.name)));
        Self { resources: out }
    }

    /// Keeps only what a scoped token may see: its tenants, and clusters its scope owns in
    /// `before` or `after`.
    pub fn visible_to(mut self, actor: &Actor, before: &Config, after: &Config) -> Self {
        if actor.is_scoped() {
            self.resources.retain(|r| match r.kind.as_str() {
                "tenant" => actor.sees_tenant(&r.name),
                "cluster" => {
                    actor.owns_cluster(before, &r.name) || actor.owns_cluster(after, &r.name)
                }
                _ => false,
            });
        }
        self
    }
}

fn resource(key: &(&'static str, String), change: Change, fields: Vec<FieldDiff>) -> ResourceDiff {
    ResourceDiff {
        kind: key.0.to_owned(),
        name: key.1.clone(),
        change,
        fields,
    }
}

fn resources(s: &RawSnapshot) -> Resources {
    let mut out = Resources::new();
    for t in &s.tenants {
        out.insert(("tenant", t.name.clone()), json!(t));
    }
    for c in &s.clusters {
        out.insert(("cluster", c.name.clone()), json!(c));
    }
    for c in &s.certificates {
        let mut v = json!(c);
        // Compare keys by hash, so a changed key shows as changed without its text.
        if let Some(obj) = v.as_object_mut()
            && !c.key_pem.is_empty()
        {
            let digest = crate::auth::hash_secret(&c.key_pem);
            obj.insert("key_pem".to_owned(), Value::String(digest));
        }
        out.insert(("certificate", c.name.clone()), v);
    }
    out.insert(("global_modules", GLOBAL.to_owned()), json!(s.modules));
    out.insert(
        ("settings", GLOBAL.to_owned()),
        json!({ "default_tenant": s.default_tenant }),
    );
    out
}

fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<FieldDiff>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = join(path, k);
                match y.get(k) {
                    Some(vb) => diff_values(&p, va, vb, out),
                    None => out.push(field(&p, Change::Removed, Some(va), None)),
                }
            }
            for (k, vb) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                out.push(field(&join(path, k), Change::Added, None, Some(vb)));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => diff_values(&p, va, vb, out),
                    (Some(va), None) => out.push(field(&p, Change::Removed, Some(va), None)),
                    (None, Some(vb)) => out.push(field(&p, Change::Added, None, Some(vb))),
                    (None, None) => {}
                }
            }
        }
        _ if a != b => out.push(field(path, Change::Changed, Some(a), Some(b))),
        _ => {}
    }
}

fn field(path: &str, change: Change, before: Option<&Value>, after: Option<&Value>) -> FieldDiff {
    let show = |v: Option<&Value>| {
        v.map(|v| {
            let mut v = v.clone();
            redact_value(&mut v);
            if path.ends_with("key_pem") {
                Value::String(crate::model::REDACTED.to_owned())
            } else {
                v
            }
        })
    };
    FieldDiff {
        path: path.to_owned(),
        change,
        before: show(before),
        after: show(after),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_and_changes() {
        let a: RawSnapshot = serde_json::from_value(json!({
            "tenants": [{"name": "t", "routes": {"advanced": [
                {"condition": "default_t()", "cluster": "a"}]}}],
            "clusters": [{"name": "a", "sub_clusters": []}]
        }))
        .expect("valid");
        let b: RawSnapshot = serde_json::from_value(json!({
            "tenants": [{"name": "t", "routes": {"advanced": [
                {"condition": "default_t()", "cluster": "b"}]}}],
            "clusters": [{"name": "b", "sub_clusters": []}]
        }))
        .expect("valid");
        let d = SnapshotDiff::between(&a, &b);
        let kinds: Vec<_> = d
            .resources
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str(), r.change))
            .collect();
        assert_eq!(
            kinds,
            [
                ("cluster", "a", Change::Removed),
                ("cluster", "b", Change::Added),
                ("tenant", "t", Change::Changed)
            ]
        );
        let t = &d.resources[2].fields;
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].path, "routes.advanced[0].cluster");
        assert_eq!(t[0].after, Some(json!("b")));
    }
}
