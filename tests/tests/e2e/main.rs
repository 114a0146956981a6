//! End-to-end tests: real sockets on loopback, an in-process data plane (or the real binary),
//! programmable origins. One test binary, one module per area.

mod check_cli;
mod framing;
mod h2;
mod lifecycle;
mod reload;
mod routing;
mod status;
mod timeouts;
