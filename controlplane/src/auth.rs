//! Who is calling: roles, tenant scopes and the bearer-token secrets.
//!
//! # Authorization rules
//!
//! - `viewer` may read (GET); `operator` may also write configuration (change sets, single
//!   resource writes, validate, rollback); `admin` may also manage API tokens and read the audit
//!   log.
//! - A token may be scoped to a set of existing tenants. A scoped token sees and changes only
//!   those tenants (their identity, routes and module rules) and the **clusters whose `owner` is
//!   one of them**; a cluster it creates or updates must keep such an owner, and its routes may
//!   newly reference only such clusters. Ownership is explicit, never inferred from routes, so
//!   pointing a route at a cluster takes nothing over. Clusters without an owner (global),
//!   certificates, global modules and settings, versions, rollback, tokens and the audit log
//!   need an unscoped token.
//! - No token or an unknown or revoked one is 401; a valid token without the right is 403.
//!   Resources of other tenants are 404 to a scoped token on reads, so it cannot probe names.

use std::collections::BTreeSet;
use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::model::Config;

/// Prefix of every token secret, so a leaked one is recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "bfe_";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: i64,
    pub token_name: String,
    pub role: Role,
    /// `None`: every tenant and the global resources.
    pub tenants: Option<BTreeSet<String>>,
}

// === impl Role ===

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Viewer, Self::Operator, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl Actor ===

impl Actor {
    /// `name#id`, as recorded in versions and the audit log.
    pub fn label(&self) -> String {
        format!("{}#{}", self.token_name, self.token_id)
    }

    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {role} role; the token has {}",
                self.role
            )))
        }
    }

    /// Global resources need a token that is not scoped to tenants.
    pub fn require_unscoped(&self) -> Result<(), ApiError> {
        match self.tenants {
            None => Ok(()),
            Some(_) => Err(ApiError::Forbidden(
                "a tenant-scoped token cannot access global resources".to_owned(),
            )),
        }
    }

    pub fn is_scoped(&self) -> bool {
        self.tenants.is_some()
    }

    pub fn sees_tenant(&self, tenant: &str) -> bool {
        self.tenants.as_ref().is_none_or(|t| t.contains(tenant))
    }

    /// Whether the scope owns a cluster whose owner is `owner` (see the module docs).
    pub fn owns(&self, owner: Option<&str>) -> bool {
        match &self.tenants {
            None => true,
            Some(scope) => owner.is_some_and(|o| scope.contains(o)),
        }
    }

    /// Whether the scope owns `cluster` in `config`.
    pub fn owns_cluster(&self, config: &Config, cluster: &str) -> bool {
        self.owns(config.cluster_owner(cluster))
    }
}

/// A new random token secret: `bfe_` + 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex(&bytes))
}

/// What the store keeps of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
