//! End-to-end tests: real sockets on loopback, an in-process data plane (or the real binary),
//! programmable origins. One test binary, one module per area.

// Test helpers outside #[test] fns: a panic is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

mod balance;
mod check_cli;
mod fleet;
mod framing;
mod grpc;
mod h2;
mod lifecycle;
mod managed;
mod pool;
mod proxy_protocol;
mod reload;
mod routing;
mod status;
mod stream;
mod timeouts;
mod tls;
mod websocket;
