//! Process settings: where to listen and which store to use. Not routing configuration.

use std::path::PathBuf;

/// How the control plane process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// REST listen address, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// `postgres://…` for PostgreSQL; none for the embedded SQLite file.
    pub database_url: Option<String>,
    /// Directory of the embedded store (`controlplane.db` inside it).
    pub data_dir: PathBuf,
    /// Exact SQLite file; overrides `data_dir`.
    pub sqlite_path: Option<PathBuf>,
    /// Secret of the first admin token, instead of a random one shown once.
    pub bootstrap_token: Option<String>,
}

// === impl Settings ===

impl Settings {
    pub fn sqlite_path(&self) -> PathBuf {
        self.sqlite_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("controlplane.db"))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: None,
            data_dir: PathBuf::from("./.data"),
            sqlite_path: None,
            bootstrap_token: None,
        }
    }
}
