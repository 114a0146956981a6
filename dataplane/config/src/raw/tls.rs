//! TLS settings of a snapshot: which certificate each connection gets, ALPN, client auth.

use serde::{Deserialize, Serialize};

/// TLS rules and defaults (certificates themselves are `RawSnapshot::certificates`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {}
