//! Module end-to-end tests: each module's behaviour and its callback point, through real
//! sockets, an in-process data plane and echoing origins. A separate test binary from `e2e`.

// Test helpers outside #[test] fns: a panic is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

mod block;
mod header;
mod rate_limit;
mod redirect;
mod rewrite;
mod support;
mod trust_logid;
