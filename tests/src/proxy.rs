//! An in-process data plane serving a temporary config file on 127.0.0.1:0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bfe_dataplane::Running;
use bfe_dataplane::agent::AgentSettings;
use bfe_dataplane::proxy_protocol::Mode;
use bfe_dataplane::settings::{ConfigSource, Limits, Settings};

pub struct TestProxy {
    pub addr: SocketAddr,
    /// The HTTPS listener, when started with one.
    pub https: Option<SocketAddr>,
    pub admin: SocketAddr,
    pub config_path: PathBuf,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

impl TestProxy {
    pub async fn start(config: &str) -> Self {
        Self::start_with(config, Limits::default()).await
    }

    pub async fn start_with(config: &str, limits: Limits) -> Self {
        Self::start_listeners(config, limits, false, Mode::Off).await
    }

    /// With an HTTPS listener beside the HTTP one.
    pub async fn start_tls(config: &str) -> Self {
        Self::start_listeners(config, Limits::default(), true, Mode::Off).await
    }

    /// Every listener choice: an HTTPS listener or not, and the PROXY protocol mode.
    pub async fn start_listeners(
        config: &str,
        limits: Limits,
        https: bool,
        proxy_protocol: Mode,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("snapshot.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let https_listen = if https {
            vec!["127.0.0.1:0".parse().expect("literal")]
        } else {
            Vec::new()
        };
        let settings = Settings {
            http_listen: vec!["127.0.0.1:0".parse().expect("literal")],
            https_listen,
            proxy_protocol,
            admin_listen: Some("127.0.0.1:0".parse().expect("literal")),
            source: ConfigSource::File {
                path: config_path.clone(),
                poll: Duration::from_millis(50),
            },
            limits,
            shutdown_timeout: Duration::from_secs(5),
        };
        let running = bfe_dataplane::start(settings)
            .await
            .expect("data plane starts");
        Self {
            addr: running.http[0],
            https: running.https.first().copied(),
            admin: running.admin.expect("admin bound"),
            config_path,
            running: Some(running),
            _dir: dir,
        }
    }

    /// A managed data plane: config from the control plane at `url`, cached in `cache_dir`.
    pub async fn start_managed(url: &str, node_id: &str, cache_dir: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Settings {
            http_listen: vec!["127.0.0.1:0".parse().expect("literal")],
            https_listen: Vec::new(),
            proxy_protocol: Mode::Off,
            admin_listen: Some("127.0.0.1:0".parse().expect("literal")),
            source: ConfigSource::Managed(AgentSettings {
                url: url.to_owned(),
                node_id: node_id.to_owned(),
                labels: vec![("zone".to_owned(), "test".to_owned())],
                token: Some("node-secret".to_owned()),
                cache_dir: cache_dir.to_owned(),
                stats_interval: Duration::from_millis(200),
                max_snapshot_bytes: 64 * 1024 * 1024,
                tls: None,
            }),
            limits: Limits::default(),
            shutdown_timeout: Duration::from_secs(5),
        };
        let running = bfe_dataplane::start(settings)
            .await
            .expect("data plane starts");
        Self {
            addr: running.http[0],
            https: None,
            admin: running.admin.expect("admin bound"),
            config_path: cache_dir.join("active-snapshot.json"),
            running: Some(running),
            _dir: dir,
        }
    }

    /// The control plane's version the node runs (managed mode).
    pub fn version(&self) -> Option<u64> {
        self.running.as_ref().and_then(|r| r.live.current().version)
    }

    /// Replaces the config file atomically (write + rename), as a deploy tool would.
    pub fn write_config(&self, text: &str) {
        let tmp = self.config_path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write config");
        std::fs::rename(&tmp, &self.config_path).expect("rename config");
    }

    pub fn generation(&self) -> u64 {
        self.running
            .as_ref()
            .map_or(0, |r| r.live.current().generation)
    }

    /// Waits until the running generation reaches `generation`; false on timeout.
    pub async fn wait_generation(&self, generation: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if self.generation() >= generation {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    pub async fn shutdown(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// A config with one tenant `t` owning `hosts`, routing everything to cluster `c` on `backends`.
pub fn simple_config(hosts: &[&str], backends: &[SocketAddr], cluster_extra: &str) -> String {
    let hosts: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    let backends: Vec<String> = backends
        .iter()
        .map(|b| format!("{{ addr: \"{b}\" }}"))
        .collect();
    format!(
        r#"
tenants:
  - name: t
    hosts: [{}]
    routes:
      advanced:
        - {{ condition: "default_t()", cluster: c }}
clusters:
  - name: c
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{}] }}
{cluster_extra}
"#,
        hosts.join(", "),
        backends.join(", ")
    )
}
