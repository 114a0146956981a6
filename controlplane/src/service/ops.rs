//! The shape of a change set: operations on stored resources or on single route rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::RuleList;
use crate::error::ApiError;
use crate::model::{GLOBAL, ResourceKey, ResourceKind};

/// An atomic set of operations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSet {
    /// Recorded in the version; a summary of the ops is used when absent.
    #[serde(default)]
    pub message: Option<String>,
    pub ops: Vec<ChangeOp>,
}

/// One operation of a change set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOp {
    pub op: OpKind,
    pub kind: ChangeKind,
    /// The resource name; for `routes` and `tenant_modules` the tenant's (or give `tenant`);
    /// for `global_modules` and `settings` optional (`global`).
    #[serde(default)]
    pub name: Option<String>,
    /// The owning tenant of `routes` and `tenant_modules`.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The document: whole for `create` and `update`, a JSON merge patch (RFC 7386) for `patch`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub body: Option<Value>,
    /// The resource's ETag the change was based on; a stale one refuses the whole set (412).
    /// For rule ops, the ETag of the tenant's `routes` document.
    #[serde(default)]
    pub if_match: Option<String>,
    /// For `basic_rule` and `advanced_rule`: the rule's position. `create` inserts there
    /// (appends when absent); `update`, `patch` and `delete` need it.
    #[serde(default)]
    pub index: Option<usize>,
}

/// What an op addresses: a stored resource, or one rule inside a tenant's `routes` document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Tenant,
    Routes,
    TenantModules,
    Cluster,
    Certificate,
    GlobalModules,
    Settings,
    BasicRule,
    AdvancedRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Create,
    Update,
    Patch,
    Delete,
}

// === impl ChangeKind ===

impl ChangeKind {
    /// The stored resource kind; rules live in their tenant's `routes` document.
    pub fn resource(self) -> ResourceKind {
        match self {
            Self::Tenant => ResourceKind::Tenant,
            Self::Routes | Self::BasicRule | Self::AdvancedRule => ResourceKind::Routes,
            Self::TenantModules => ResourceKind::TenantModules,
            Self::Cluster => ResourceKind::Cluster,
            Self::Certificate => ResourceKind::Certificate,
            Self::GlobalModules => ResourceKind::GlobalModules,
            Self::Settings => ResourceKind::Settings,
        }
    }

    /// The rule list a rule op edits.
    pub fn rule_list(self) -> Option<RuleList> {
        match self {
            Self::BasicRule => Some(RuleList::Basic),
            Self::AdvancedRule => Some(RuleList::Advanced),
            _ => None,
        }
    }
}

impl From<ResourceKind> for ChangeKind {
    fn from(k: ResourceKind) -> Self {
        match k {
            ResourceKind::Tenant => Self::Tenant,
            ResourceKind::Routes => Self::Routes,
            ResourceKind::TenantModules => Self::TenantModules,
            ResourceKind::Cluster => Self::Cluster,
            ResourceKind::Certificate => Self::Certificate,
            ResourceKind::GlobalModules => Self::GlobalModules,
            ResourceKind::Settings => Self::Settings,
        }
    }
}

// === impl ChangeOp ===

impl ChangeOp {
    /// The resource this op addresses.
    pub(super) fn key(&self, path: &str) -> Result<ResourceKey, ApiError> {
        let kind = self.kind.resource();
        let name = if kind.is_singleton() {
            self.name.clone().unwrap_or_else(|| GLOBAL.to_owned())
        } else if matches!(kind, ResourceKind::Routes | ResourceKind::TenantModules) {
            match (&self.tenant, &self.name) {
                (Some(t), Some(n)) if t != n => {
                    return Err(ApiError::bad_field(
                        format!("{path}.name"),
                        "name and tenant differ; give the tenant only",
                    ));
                }
                (Some(t), _) | (None, Some(t)) => t.clone(),
                (None, None) => {
                    return Err(ApiError::bad_field(
                        format!("{path}.tenant"),
                        "missing tenant",
                    ));
                }
            }
        } else {
            self.name
                .clone()
                .ok_or_else(|| ApiError::bad_field(format!("{path}.name"), "missing name"))?
        };
        if kind.is_singleton() && name != GLOBAL {
            return Err(ApiError::bad_field(
                format!("{path}.name"),
                format!("{kind} is a singleton named '{GLOBAL}'"),
            ));
        }
        Ok(ResourceKey::new(kind, name))
    }
}
