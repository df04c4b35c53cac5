//! `switchboard-gateway`: the Switchboard protocol in production, in front of an in-memory or
//! NATS JetStream broker. See docs/GATEWAY.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use switchboard_gateway::auth::Verifier;
use switchboard_gateway::broker::Broker;
use switchboard_gateway::broker::nats::Nats;
use switchboard_gateway::config::{Config, ENV_OVERRIDES};
use switchboard_gateway::{app, serve, terminated};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "switchboard-gateway",
    version,
    about = "The Switchboard protocol server: one WebSocket endpoint per module"
)]
struct Cli {
    /// The configuration file (see gateway/gateway.toml for every key).
    #[arg(long, default_value = "gateway/gateway.toml")]
    config: PathBuf,
    /// Overrides `listen`.
    #[arg(long)]
    listen: Option<String>,
    /// Overrides `nats.url`: use NATS JetStream at these servers.
    #[arg(long)]
    nats: Option<String>,
    /// Overrides `auth.jwks_file`.
    #[arg(long)]
    jwks_file: Option<String>,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
    /// Log as JSON lines (for a log shipper) instead of text.
    #[arg(long, env = "SWITCHBOARD_GATEWAY_LOG_JSON")]
    log_json: bool,
}

/// The overrides, environment first, then flags (later ones win).
fn overrides(cli: &Cli) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = ENV_OVERRIDES
        .iter()
        .filter_map(|(var, key)| std::env::var(var).ok().map(|v| (*key, v)))
        .collect();
    for (key, value) in [
        ("listen", &cli.listen),
        ("nats.url", &cli.nats),
        ("auth.jwks_file", &cli.jwks_file),
    ] {
        if let Some(v) = value {
            out.push((key, v.clone()));
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }

    let config = Config::load(&cli.config, &overrides(&cli)).map_err(anyhow::Error::msg)?;
    app::check_exposure(&config).map_err(anyhow::Error::msg)?;
    let verifier = Arc::new(Verifier::new(config.auth.clone()).map_err(anyhow::Error::msg)?);
    if cli.check {
        #[allow(clippy::print_stdout)]
        {
            println!("{}: ok", cli.config.display());
        }
        return Ok(());
    }
    if config.auth.jwks_file.is_some() {
        tokio::spawn(app::watch_jwks(verifier.clone(), Duration::from_secs(2)));
    }

    let (gateway, stop) = app::gateway(&config, verifier);
    let broker = match &config.nats {
        None => Broker::Memory,
        Some(nats) => {
            let nats = Nats::connect(nats, &config.streams)
                .await
                .map_err(anyhow::Error::msg)?;
            nats.follow_all(&gateway);
            Broker::Nats(nats)
        }
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    // The first line on stdout is the address, for scripts that bound port 0.
    #[allow(clippy::print_stdout)]
    {
        println!("listening on {addr}");
    }
    tracing::info!(%addr, broker = broker.name(), "gateway ready: /ws/{{module}}, /publish/{{module}}, /healthz, /readyz, /metrics");
    let router = app::router(&gateway, &broker, &config);
    serve(
        gateway,
        listener,
        router,
        stop,
        terminated(),
        config.shutdown_grace,
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}
