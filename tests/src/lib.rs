//! Test harness shared by the end-to-end tests and the demo backend: a programmable origin
//! server, an in-process data plane on a temporary config file, and raw-socket helpers.

pub mod fake_cp;
pub mod origin;
pub mod proxy;
pub mod raw;
pub mod tls_util;
