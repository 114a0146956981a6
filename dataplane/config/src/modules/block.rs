//! mod_block's condition rules (HandleFoundProduct) and the local reply shared with rate_limit.

use std::sync::Arc;

use http::StatusCode;

use super::raw::{RawBlockAction, RawBlockRule, RawLocalResponse};
use crate::cond::Condition;
use crate::error::{FieldPath, Violations};

#[derive(Debug, Clone)]
pub struct BlockRule {
    pub name: Arc<str>,
    pub condition: Condition,
    pub action: BlockAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockAction {
    /// Close the connection, sending nothing (BFE's CLOSE).
    Close,
    /// Stop evaluating block rules, the tenant's included when a global rule allows.
    Allow,
    /// Answer with this response; it passes HandleReadResponse.
    Respond(LocalReply),
}

/// A response a module makes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: StatusCode,
    pub body: Arc<str>,
}

// === impl BlockRule ===

impl BlockRule {
    pub(crate) fn compile(
        raw: &RawBlockRule,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        if raw.name.trim().is_empty() {
            errs.push(&path.field("name"), "give the rule a name");
        }
        let condition =
            super::compile_condition(&raw.condition, &path.field("condition"), false, errs);
        let action = match &raw.action {
            RawBlockAction::Close => BlockAction::Close,
            RawBlockAction::Allow => BlockAction::Allow,
            RawBlockAction::Respond(r) => BlockAction::Respond(LocalReply::compile(
                r,
                &path.field("action").field("params"),
                errs,
            )?),
        };
        Some(Self {
            name: raw.name.as_str().into(),
            condition: condition?,
            action,
        })
    }
}

// === impl LocalReply ===

impl LocalReply {
    pub(crate) fn compile(
        raw: &RawLocalResponse,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        match StatusCode::from_u16(raw.status) {
            Ok(status) if (200..=599).contains(&raw.status) => Some(Self {
                status,
                body: raw.body.as_str().into(),
            }),
            _ => {
                errs.push(
                    &path.field("status"),
                    format!("invalid status {}: give 200-599", raw.status),
                );
                None
            }
        }
    }
}
