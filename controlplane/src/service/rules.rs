//! Ops on one route rule: insert, replace, merge-patch or delete a rule inside its tenant's
//! `routes` document, within the same change set (and the same transaction) as any other op.

use bfe_config::raw::{RawAdvancedRule, RawBasicRule, RawRoutes};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::ops::{ChangeOp, OpKind};
use super::patch::merge_patch;
use crate::error::ApiError;
use crate::model::{Config, Doc, Entry, ResourceKey};

/// Which rule list of a tenant's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleList {
    /// Host × path rules (unordered: the most specific wins).
    Basic,
    /// Ordered `condition → cluster` rules (the first match wins).
    Advanced,
}

/// Applies a rule op to the tenant's routes document `key` (whose `existing` entry may be
/// absent: an empty document).
pub(super) fn apply_rule_op(
    path: &str,
    op: &ChangeOp,
    list: RuleList,
    key: ResourceKey,
    existing: Option<Entry>,
    cfg: &mut Config,
) -> Result<(), ApiError> {
    let revision = existing.as_ref().map_or(0, |e| e.revision);
    let mut routes = match existing {
        Some(Entry {
            doc: Doc::Routes(r),
            ..
        }) => r,
        _ => RawRoutes::default(),
    };
    match list {
        RuleList::Basic => edit(path, op, &mut routes.basic)?,
        RuleList::Advanced => edit(path, op, &mut routes.advanced)?,
    }
    cfg.entries.insert(
        key,
        Entry {
            revision,
            doc: Doc::Routes(routes),
        },
    );
    Ok(())
}

/// The rules as JSON values with their index, for listings.
pub fn rules_of(routes: &RawRoutes, list: RuleList) -> Vec<Value> {
    let values: Vec<Value> = match list {
        RuleList::Basic => routes.basic.iter().map(to_value).collect(),
        RuleList::Advanced => routes.advanced.iter().map(to_value).collect(),
    };
    values
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// A rule type of one list.
trait Rule: Serialize + for<'de> Deserialize<'de> + Clone {}
impl Rule for RawBasicRule {}
impl Rule for RawAdvancedRule {}

fn edit<R: Rule>(path: &str, op: &ChangeOp, rules: &mut Vec<R>) -> Result<(), ApiError> {
    let index_path = format!("{path}.index");
    let body_path = format!("{path}.body");
    let parse = |v: Value| {
        serde_path_to_error::deserialize::<_, R>(v).map_err(|e| ApiError::shape(&body_path, &e))
    };
    let body = || {
        op.body
            .clone()
            .ok_or_else(|| ApiError::bad_field(&body_path, "missing body"))
    };
    let existing = |rules: &Vec<R>| match op.index {
        Some(i) if i < rules.len() => Ok(i),
        Some(i) => Err(ApiError::not_found(format!("{path}: rule {i}"))),
        None => Err(ApiError::bad_field(&index_path, "missing rule index")),
    };
    match op.op {
        OpKind::Create => {
            let rule = parse(body()?)?;
            match op.index {
                None => rules.push(rule),
                Some(i) if i <= rules.len() => rules.insert(i, rule),
                Some(i) => {
                    return Err(ApiError::bad_field(
                        &index_path,
                        format!("index {i} is past the end ({} rules)", rules.len()),
                    ));
                }
            }
        }
        OpKind::Update => {
            let i = existing(rules)?;
            rules[i] = parse(body()?)?;
        }
        OpKind::Patch => {
            let i = existing(rules)?;
            let mut v = to_value(&rules[i]);
            merge_patch(&mut v, body()?);
            rules[i] = parse(v)?;
        }
        OpKind::Delete => {
            let i = existing(rules)?;
            rules.remove(i);
        }
    }
    Ok(())
}
