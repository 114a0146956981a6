//! Use-cases shared by every API surface (REST now, gRPC later): change sets, rollback, scope
//! checks and violation mapping. Handlers parse and respond; the decisions are made here.

mod changes;
pub mod diff;
mod etag;
mod ops;
mod patch;
mod rules;
mod scope;
pub mod stats;
mod violations;

pub use changes::{apply_change_set, commit_change_set, rollback};
pub use etag::{etag_of, parse_etag};
pub use ops::{ChangeKind, ChangeOp, ChangeSet, OpKind};
pub use rules::{RuleList, rules_of};
pub use violations::{locate_violations, tenant_of_path};
