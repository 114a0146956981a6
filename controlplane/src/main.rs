//! `controlplane`: the REST admin API over the configuration store.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The BFE-style load balancer's control plane.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Without a command: serve.
    #[command(subcommand)]
    command: Option<Command>,
    /// REST API listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// PostgreSQL URL; without it an embedded SQLite file is used.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Directory of the embedded SQLite store.
    #[arg(long, default_value = "./.data", global = true)]
    data_dir: PathBuf,
    /// Exact path of the SQLite file (overrides --data-dir).
    #[arg(long, global = true)]
    sqlite_path: Option<PathBuf>,
    /// Secret of the first admin token (only used while no token exists).
    #[arg(long, env = "BFE_BOOTSTRAP_TOKEN", hide_env_values = true)]
    bootstrap_token: Option<String>,
    /// gRPC listen address for data-plane nodes (config distribution, statistics).
    #[arg(long, default_value = "127.0.0.1:9090")]
    grpc_listen: String,
    /// Credential every node must present (none: any node may connect).
    #[arg(long, env = "BFE_NODE_TOKEN", hide_env_values = true)]
    node_token: Option<String>,
    /// Seconds after which a silent node drops out of the fleet.
    #[arg(long, default_value_t = 3600)]
    node_grace_secs: u64,
    /// Hours of request statistics kept.
    #[arg(long, default_value_t = 24)]
    stats_retention_hours: u64,
    /// Write the bound addresses as JSON to this file once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// PEM certificate chain of the gRPC listener (enables TLS; needs --grpc-tls-key).
    #[arg(long, requires = "grpc_tls_key")]
    grpc_tls_cert: Option<PathBuf>,
    /// PEM private key of the gRPC listener.
    #[arg(long, requires = "grpc_tls_cert")]
    grpc_tls_key: Option<PathBuf>,
    /// PEM CA bundle that signs node certificates: nodes must present one (mutual TLS).
    #[arg(long, requires = "grpc_tls_cert")]
    grpc_client_ca: Option<PathBuf>,
    /// Largest REST request body in bytes (413 above); the default fits a 10k-route config.
    #[arg(long, default_value_t = bfe_controlplane::state::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// API tokens, managed offline with direct access to the store.
    #[command(subcommand)]
    AdminToken(AdminTokenCommand),
}

#[derive(Debug, Subcommand)]
enum AdminTokenCommand {
    /// Create an unscoped admin token and print its secret once on stdout: the recovery when
    /// no admin token works any more. Needs the same store flags as the server.
    Create {
        /// The token's name, as listed and audited.
        #[arg(long, default_value = "recovery")]
        name: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let grpc_tls = match (&args.grpc_tls_cert, &args.grpc_tls_key) {
        (Some(cert), Some(key)) => Some(bfe_controlplane::settings::GrpcTls {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: args.grpc_client_ca.as_ref().map(read).transpose()?,
        }),
        _ => None,
    };
    let command = args.command;
    let settings = bfe_controlplane::Settings {
        listen: args.listen,
        database_url: args.database_url.filter(|u| !u.is_empty()),
        data_dir: args.data_dir,
        sqlite_path: args.sqlite_path,
        bootstrap_token: args.bootstrap_token.filter(|t| !t.is_empty()),
        grpc_listen: args.grpc_listen,
        node_token: args.node_token.filter(|t| !t.is_empty()),
        node_grace: std::time::Duration::from_secs(args.node_grace_secs),
        stats_retention: std::time::Duration::from_secs(args.stats_retention_hours * 3600),
        ready_file: args.ready_file,
        grpc_tls,
        max_body_bytes: args.max_body_bytes,
    };
    if let Some(Command::AdminToken(AdminTokenCommand::Create { name })) = command {
        let secret = bfe_controlplane::create_admin_token(&settings, &name)
            .await
            .context("creating an admin token")?;
        // The secret alone on stdout, for scripts; it is stored only as a hash.
        println!("{secret}");
        return Ok(());
    }
    bfe_controlplane::run(settings, shutdown_signal())
        .await
        .context("control plane failed")
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("Shutting down.");
}
