//! `switchboard-devserver`: serve the protocol locally, or mint a development token.

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::sync::atomic::Ordering;

use switchboard_devserver::endpoint::Module;
use switchboard_devserver::world::WorldSettings;
use switchboard_devserver::{AppState, Settings, auth, serve};
use tokio::net::TcpListener;

/// The development secret. Only for local work: production tokens come from the real auth
/// service.
const DEV_SECRET: &str = "switchboard-dev-secret";

#[derive(Parser)]
#[command(
    name = "switchboard-devserver",
    version,
    about = "Switchboard development backend"
)]
struct Cli {
    /// HS256 secret shared by `serve` and `token`.
    #[arg(long, env = "SWITCHBOARD_DEV_SECRET", default_value = DEV_SECRET, global = true)]
    secret: String,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve /ws/{module} for every module in the registry (the default).
    Serve(ServeArgs),
    /// Print a development token (it grants every action).
    Token {
        /// Lifetime, e.g. `8h` or `90s`.
        #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// The operator named in `sub`.
        #[arg(long, default_value = "dev-operator")]
        sub: String,
    },
}

#[derive(Parser)]
struct ServeArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Time allowed for the auth frame.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    auth_timeout: Duration,
    /// Inbound frames allowed per connection per minute.
    #[arg(long, default_value_t = 100)]
    rate_per_minute: u32,
    /// Largest inbound frame, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_frame_bytes: usize,
    /// Serve `/_control` (fault injection, reports) and `/dev` (a config with a fresh token)
    /// to anyone with the control secret. Needed to reach them at all when `--bind` is not
    /// loopback; without it they answer 404 there.
    #[arg(long)]
    control: bool,
    /// The secret `--control` requires, sent as `Authorization: Bearer <secret>`.
    #[arg(long, env = "SWITCHBOARD_CONTROL_SECRET", hide_env_values = true)]
    control_secret: Option<String>,
    /// Extra allowed page Origins, e.g. `https://demo.example.net` (loopback origins are always
    /// allowed). `*` lets any page open a socket, but never opens `/_control` or `/dev`.
    #[arg(long = "allow-origin")]
    allow_origins: Vec<String>,
    /// Most connections at once, over all endpoints.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Seed for the traffic generators.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fault: reject every auth frame (4001) from the start. `/_control` can turn it off.
    #[arg(long)]
    reject_auth: bool,
    /// Fault: keep sockets open but send nothing, from the start.
    #[arg(long)]
    silent: bool,
    /// Fault: refuse new connections for this long after start, e.g. `20s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    refuse_for: Option<Duration>,
    /// Start with every world paused: no traffic until `/_control/{module}/pause?on=false`.
    #[arg(long)]
    paused: bool,
    /// Speak only the reference protocol: no positions, no `sync`, no heartbeats.
    #[arg(long)]
    no_resume: bool,
    /// The most frames each module's history keeps for replays.
    #[arg(long, default_value_t = 10_000)]
    history_len: usize,
    /// The oldest frame each module's history keeps, e.g. `5m`.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    history_age: Duration,
    /// How often a quiet socket gets a heartbeat.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    heartbeat: Duration,
    /// Simulate this much past on start, so charts open with history, e.g. `5m` or `0s`.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    backfill: Duration,
    /// Forget finished entries (paid or void invoices, terminated subscribers, resolved or
    /// closed tickets) this long after they finished, as a real backend's state would.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    settled_age: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Cmd::Token { ttl, sub }) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", auth::mint_operator(&cli.secret, &sub, ttl)?);
            }
            return Ok(());
        }
        Some(Cmd::Serve(args)) => args,
        None => ServeArgs::parse_from(["serve"]),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let listener = TcpListener::bind((args.bind.as_str(), args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    let control = switchboard_devserver::control_for(
        addr.ip().is_loopback(),
        args.control,
        args.control_secret.as_deref(),
        cli.secret == DEV_SECRET,
    )
    .map_err(anyhow::Error::msg)?;
    let settings = Settings {
        secret: cli.secret,
        auth_timeout: args.auth_timeout,
        rate_per_minute: args.rate_per_minute,
        max_frame_bytes: args.max_frame_bytes,
        seed: args.seed,
        world: WorldSettings {
            resume: !args.no_resume,
            history_len: args.history_len,
            history_age: args.history_age,
            heartbeat: args.heartbeat,
            backfill: args.backfill,
            paused: args.paused,
            settled_age: args.settled_age,
        },
    };
    let (state, stop) = AppState::new(settings, args.allow_origins, args.max_connections);
    let state = state.with_control(control);
    let refuse_until = args.refuse_for.map(|d| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (now + d).as_millis() as u64
    });
    for module in Module::all() {
        if let Some(endpoint) = state.endpoint(module) {
            endpoint
                .reject_auth
                .store(args.reject_auth, Ordering::Relaxed);
            endpoint.silent.store(args.silent, Ordering::Relaxed);
            endpoint
                .refuse_until
                .store(refuse_until.unwrap_or(0), Ordering::Relaxed);
        }
    }
    // The first line on stdout is the address, for scripts that bound port 0.
    #[allow(clippy::print_stdout)]
    {
        println!("listening on {addr}");
    }
    let served: Vec<&str> = Module::all().map(Module::name).collect();
    tracing::info!(%addr, modules = ?served, "devserver ready: /ws/{{module}}");
    serve(listener, state, stop, switchboard_gateway::terminated()).await?;
    tracing::info!("stopped");
    Ok(())
}
