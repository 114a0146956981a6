//! The last good snapshot on disk, so a node boots and serves without its control plane.
//! Written atomically: temp file, fsync, rename, fsync of the directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bfe_config::RawSnapshot;
use serde::{Deserialize, Serialize};

const FILE: &str = "active-snapshot.json";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cache {path}: {source}")]
    Decode {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cache {path}: content hash {actual} does not match the recorded {recorded}")]
    Hash {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
}

/// One persisted version.
#[derive(Debug, Serialize, Deserialize)]
pub struct Cached {
    pub version: u64,
    pub sha256: String,
    pub snapshot: RawSnapshot,
}

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The persisted version, if any; a corrupt or tampered file is an error (never served).
    pub fn load(&self) -> Result<Option<Cached>, CacheError> {
        let path = self.path();
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Io { path, source }),
        };
        let cached: Cached =
            serde_json::from_slice(&text).map_err(|source| CacheError::Decode {
                path: path.clone(),
                source,
            })?;
        let actual = cached.snapshot.sha256_hex();
        if actual != cached.sha256 {
            return Err(CacheError::Hash {
                path,
                recorded: cached.sha256,
                actual,
            });
        }
        Ok(Some(cached))
    }

    /// Persists `cached` so that a crash at any point leaves either the old or the new file.
    pub fn store(&self, cached: &Cached) -> Result<(), CacheError> {
        let path = self.path();
        let io = |source| CacheError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let bytes = serde_json::to_vec(cached).map_err(|source| CacheError::Decode {
            path: path.clone(),
            source,
        })?;
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)?;
        sync_dir(&self.dir).map_err(io)?;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = std::env::temp_dir().join(format!("bfe-cache-test-{}", std::process::id()));
        let cache = Cache::new(dir.clone());
        assert!(cache.load().unwrap().is_none());
        let snapshot = RawSnapshot::parse("tenants: []\n").unwrap();
        let cached = Cached {
            version: 7,
            sha256: snapshot.sha256_hex(),
            snapshot,
        };
        cache.store(&cached).unwrap();
        let back = cache.load().unwrap().unwrap();
        assert_eq!(back.version, 7);
        let text = std::fs::read_to_string(cache.path())
            .unwrap()
            .replace("\"version\":7", "\"version\":7,\"x\":1");
        std::fs::write(cache.path(), text.replace(&cached.sha256, &"0".repeat(64))).unwrap();
        assert!(matches!(cache.load(), Err(CacheError::Hash { .. })));
        let _ = std::fs::remove_dir_all(dir);
    }
}
