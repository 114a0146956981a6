//! `demo-backend`: the echo origin used by the README's run command and by tests.

use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    listen: SocketAddr,
    /// Name reported in every echo.
    #[arg(long, default_value = "demo")]
    name: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let origin = bfe_tests::origin::Origin::bind(args.listen, &args.name).await;
    eprintln!(
        "demo-backend '{}' listening on {}",
        origin.name, origin.addr
    );
    let _ = tokio::signal::ctrl_c().await;
}
