//! Compiled module settings, shared by every request of a snapshot.

pub use crate::raw::AccessLogFormat;

#[derive(Debug, Clone, Default)]
pub struct Modules {
    pub access_log: Option<AccessLog>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    pub format: AccessLogFormat,
    pub target: AccessLogTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccessLogTarget {
    Stdout,
    File(std::path::PathBuf),
}
