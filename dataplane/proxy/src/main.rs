//! `dataplane`: the proxy binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bfe_dataplane::agent::{AgentSettings, AgentTls};
use bfe_dataplane::proxy_protocol::Mode;
use bfe_dataplane::reload::{self, LoadError};
use bfe_dataplane::settings::{ConfigSource, Limits, Settings};
use clap::Parser;

/// A BFE-style layer-7 load balancer: the data plane.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Snapshot file (JSON or YAML) to serve; reloaded on change and SIGHUP (standalone mode).
    #[arg(long, short = 'c', required_unless_present_any = ["check", "control_plane"], conflicts_with = "control_plane")]
    config: Option<PathBuf>,
    /// Managed mode: the control plane's gRPC URL, e.g. http://127.0.0.1:9090.
    #[arg(long, env = "BFE_CONTROL_PLANE")]
    control_plane: Option<String>,
    /// This node's id in the fleet (managed mode; default: the host name).
    #[arg(long, env = "BFE_NODE_ID")]
    node_id: Option<String>,
    /// A node label `key=value` (repeatable), shown in the fleet view.
    #[arg(long = "label", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Node credential presented to the control plane.
    #[arg(long, env = "BFE_NODE_TOKEN", hide_env_values = true)]
    node_token: Option<String>,
    /// Where a managed node keeps its last good config.
    #[arg(long, default_value = ".data/dataplane")]
    cache_dir: PathBuf,
    /// Seconds per statistics interval sent to the control plane.
    #[arg(long, default_value_t = 10)]
    stats_interval: u64,
    /// CA bundle (PEM file) that signs the control plane's certificate (for an https:// URL).
    #[arg(long)]
    control_plane_ca: Option<PathBuf>,
    /// This node's certificate chain (PEM file) for mutual TLS with the control plane.
    #[arg(long, requires = "node_key")]
    node_cert: Option<PathBuf>,
    /// This node's private key (PEM file).
    #[arg(long, requires = "node_cert")]
    node_key: Option<PathBuf>,
    /// Worker threads (default: one per CPU).
    #[arg(long)]
    workers: Option<usize>,
    /// Largest config snapshot (bytes) this node accepts from its control plane.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_snapshot_bytes: usize,
    /// Check a snapshot file, print every violation and exit (non-zero when invalid).
    #[arg(long, short = 't', value_name = "FILE")]
    check: Option<PathBuf>,
    /// HTTP listener address (repeatable).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: Vec<SocketAddr>,
    /// HTTPS listener address (repeatable); certificates and TLS rules come with the config.
    #[arg(long)]
    https_listen: Vec<SocketAddr>,
    /// PROXY protocol (v1/v2) in front of connections on every listener: off, optional or
    /// required.
    #[arg(long, default_value = "off", value_parser = parse_proxy_protocol)]
    proxy_protocol: Mode,
    /// Admin listener for /healthz, /readyz, /metrics and /config.
    #[arg(long, default_value = "127.0.0.1:8421")]
    admin: SocketAddr,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, default_value_t = 10)]
    shutdown_timeout: u64,
    /// Seconds to read a request head (and to wait for the first one).
    #[arg(long, default_value_t = 60)]
    header_timeout: u64,
    /// Largest request head in bytes (larger gets 431).
    #[arg(long, default_value_t = 65_536)]
    max_header_bytes: usize,
    /// Longest request URI in bytes (longer gets 414).
    #[arg(long, default_value_t = 8192)]
    max_uri_bytes: usize,
    /// Write the bound addresses as JSON to this file once listening (for scripts and tests).
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    log_format: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing(&args.log_format);
    if let Some(path) = &args.check {
        return check(path);
    }
    // One worker: a current-thread runtime, like one nginx worker: no work-stealing queues,
    // no cross-thread wake-ups. More: the multi-thread scheduler with that many workers.
    let mut builder = match args.workers {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n.max(1));
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `nginx -t`: every violation on its own line, exit 1 when there is any.
fn check(path: &std::path::Path) -> ExitCode {
    match reload::load(path) {
        Ok(s) => {
            println!(
                "{}: configuration OK ({} tenants, {} clusters, hash {})",
                path.display(),
                s.tenants.len(),
                s.clusters.len(),
                s.hash
            );
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid { path, violations }) => {
            for v in violations.iter() {
                println!("{}: {v}", path.display());
            }
            println!(
                "{}: {} violation(s), configuration refused",
                path.display(),
                violations.len()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, got '{s}'"))
}

fn parse_proxy_protocol(s: &str) -> Result<Mode, String> {
    match s {
        "off" => Ok(Mode::Off),
        "optional" => Ok(Mode::Optional),
        "required" => Ok(Mode::Required),
        _ => Err(format!("expected off, optional or required, got '{s}'")),
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let source = match (args.config, args.control_plane) {
        (Some(path), None) => ConfigSource::File {
            path,
            poll: Duration::from_millis(500),
        },
        (None, Some(url)) => ConfigSource::Managed(AgentSettings {
            url,
            node_id: match args.node_id {
                Some(id) => id,
                None => hostname(),
            },
            labels: args.labels,
            token: args.node_token,
            cache_dir: args.cache_dir,
            stats_interval: Duration::from_secs(args.stats_interval.max(1)),
            max_snapshot_bytes: args.max_snapshot_bytes,
            tls: agent_tls(
                args.control_plane_ca.as_deref(),
                args.node_cert.as_deref(),
                args.node_key.as_deref(),
            )?,
        }),
        _ => anyhow::bail!("give exactly one of --config FILE or --control-plane URL"),
    };
    let settings = Settings {
        http_listen: args.listen,
        https_listen: args.https_listen,
        proxy_protocol: args.proxy_protocol,
        admin_listen: Some(args.admin),
        source,
        limits: Limits {
            header_read_timeout: Duration::from_secs(args.header_timeout),
            max_header_bytes: args.max_header_bytes,
            max_uri_bytes: args.max_uri_bytes,
            ..Limits::default()
        },
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
    };
    let running = bfe_dataplane::start(settings).await?;
    if let Some(path) = &args.ready_file {
        let ready = serde_json::json!({
            "http": running.http,
            "https": running.https,
            "admin": running.admin,
        });
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, ready.to_string()).context("writing the ready file")?;
        std::fs::rename(&tmp, path).context("writing the ready file")?;
    }
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: draining."),
        _ = int.recv() => tracing::info!("SIGINT: draining."),
    }
    running.shutdown().await;
    Ok(())
}

fn agent_tls(
    ca: Option<&std::path::Path>,
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> anyhow::Result<Option<AgentTls>> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let Some(ca) = ca else {
        anyhow::ensure!(cert.is_none(), "--node-cert needs --control-plane-ca");
        return Ok(None);
    };
    let identity = match (cert, key) {
        (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
        _ => None,
    };
    Ok(Some(AgentTls {
        ca_pem: read(ca)?,
        identity,
    }))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}

fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
