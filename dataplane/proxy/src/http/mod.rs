//! HTTP protocol pieces that know nothing of tenants or routes.

pub mod body;
pub mod headers;
pub mod local_reply;
pub mod timed_io;
pub mod upgrade;
