//! The store: the only place with SQL. One [`sqlx::AnyPool`] over PostgreSQL (when a
//! `postgres://` URL is given) or an embedded SQLite file; the queries are written once, in the
//! dialect both accept (`$n` placeholders, `ON CONFLICT … DO UPDATE`, JSON as text).

mod audit;
mod commit;
mod fleet;
mod resources;
mod stats;
mod tokens;
mod upgrade;
mod versions;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use commit::{Commit, CommitMeta};
pub use fleet::{HEARTBEAT, LIVENESS, Nack, NackViolation, NodeInfo};
pub use stats::{StatsFilter, StatsRow};
pub use tokens::{NewToken, TokenRow};
pub use versions::VersionInfo;

use crate::error::ApiError;

/// PostgreSQL channel notified with the version number of every commit.
pub const VERSIONS_CHANNEL: &str = "bfe_config_versions";

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Commits of this process queue here, before taking a connection: SQLite has one writer
    /// at a time (queueing here rather than in its busy handler keeps 50 concurrent writers
    /// from timing out), and on PostgreSQL a queue of writers blocked on the `config_head` row
    /// lock would otherwise hold pool connections that readers need. Replicas still serialize
    /// on that row lock.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// The resources as of the last version this process committed. A commit that finds the
    /// head still at that version starts from here instead of reading every row again; any
    /// other head (another replica committed) means a fresh read. Only a successful commit
    /// fills it, and every write goes through a commit, so it never disagrees with the rows.
    last_commit: Arc<std::sync::Mutex<Option<(i64, crate::model::Config)>>>,
    /// Notified after every commit of this process (the publisher waits on it).
    committed: Arc<tokio::sync::Notify>,
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("connecting to the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("upgrading stored data: {0}")]
    Upgrade(ApiError),
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

// === impl Store ===

impl Store {
    /// Opens PostgreSQL at `url` and applies `migrations/postgres`.
    pub async fn open_postgres(url: &str) -> Result<Self, OpenError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        let store = Self::new(pool, Backend::Postgres);
        store.run_upgrades().await.map_err(OpenError::Upgrade)?;
        Ok(store)
    }

    /// Opens (creating it if needed) the SQLite file at `path` and applies `migrations/sqlite`.
    /// The file holds private keys: it is made owner-only (0600, SQLite gives its WAL and SHM
    /// files the same mode) and directories created for it 0700, whatever the umask.
    pub async fn open_sqlite(path: &Path) -> Result<Self, OpenError> {
        sqlx::any::install_default_drivers();
        private_file(path).map_err(|source| OpenError::DataDir {
            path: path.display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; the busy timeout covers the
                    // rare contention with another process on the same file.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        let store = Self::new(pool, Backend::Sqlite);
        store.run_upgrades().await.map_err(OpenError::Upgrade)?;
        Ok(store)
    }

    /// Opens PostgreSQL for a `postgres://` or `postgresql://` URL, SQLite otherwise.
    pub async fn open(database_url: Option<&str>, sqlite_path: &Path) -> Result<Self, OpenError> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::open_postgres(url).await
            }
            _ => Self::open_sqlite(sqlite_path).await,
        }
    }

    fn new(pool: AnyPool, backend: Backend) -> Self {
        Self {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            last_commit: Arc::new(std::sync::Mutex::new(None)),
            committed: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Resolves after the next commit made by this process.
    pub async fn next_commit(&self) {
        self.committed.notified().await;
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Serializes the writers of this process (see `write_lock`).
    async fn writer(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write_lock.lock().await
    }
}

/// Creates `path` (and missing parent directories, 0700) as an empty owner-only file, or makes
/// an existing one owner-only.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        // The mode given at creation is masked by the umask; set it explicitly as well.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        // Left by an older release that created them with the umask's mode.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 rendering of a stored millisecond timestamp.
pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("corrupt stored data: {what}"))
}
