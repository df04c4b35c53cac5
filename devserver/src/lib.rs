//! The Switchboard development backend: the gateway library's protocol server, one
//! WebSocket endpoint per module, in front of simulated worlds, with fault injection.
//!
//! - [`app`] builds the router from an [`AppState`]; tests bind port 0 and call [`serve`].
//! - [`world`]: each module's generator, publishing into the module's feed.
//! - [`endpoint`]: the gateway library's endpoint plus the world and its faults.
//! - [`control`]: the loopback-only fault injection and report endpoints.
//!
//! The protocol itself (auth, positions, history, replay, snapshots, heartbeats, limits) is
//! the gateway library's, the same code the production gateway runs.

pub mod control;
pub mod endpoint;
pub mod world;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use switchboard_gateway::auth::Verifier;
use switchboard_gateway::{Gateway, Limits, Origins};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use switchboard_gateway::auth;
pub use switchboard_gateway::is_loopback_origin;

use endpoint::{Endpoint, Module};
use world::WorldSettings;

/// What the development backend runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// HS256 secret for tokens.
    pub secret: String,
    /// How long a client has to send its auth frame.
    pub auth_timeout: Duration,
    /// Inbound frames allowed per minute (the reference suggests 100).
    pub rate_per_minute: u32,
    /// Frames larger than this end the connection (1009); enforced by the upgrade.
    pub max_frame_bytes: usize,
    /// Seed for the worlds' generators; each module adds its own number.
    pub seed: u64,
    /// How each module's world keeps its history and speaks to clients.
    pub world: WorldSettings,
}

/// Shared server state: the gateway library's, and the worlds.
#[derive(Clone, Debug)]
pub struct AppState {
    gateway: Gateway,
    endpoints: Arc<HashMap<Module, Arc<Endpoint>>>,
    settings: Arc<Settings>,
    control: Arc<Control>,
}

/// Who may use `/_control` and `/dev` (fault injection, reports, minting dev tokens).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Control {
    /// Loopback peers only: the default on a loopback bind, for local work and tests. A proxy
    /// on the same host makes every request look local: do not forward these paths.
    #[default]
    Loopback,
    /// Any peer that sends `Authorization: Bearer <secret>` (`--control` with a control
    /// secret): the only way to reach them when the bind is not loopback.
    Secret(String),
    /// Not served (404): a non-loopback bind without `--control`.
    Off,
}

impl AppState {
    /// State for a server with these settings. `origins` lists allowed `Origin`s (`*` for any);
    /// loopback origins are always allowed. Send `true` on the returned sender to shut down.
    pub fn new(
        settings: Settings,
        origins: Vec<String>,
        max_connections: usize,
    ) -> (Self, watch::Sender<bool>) {
        let served = switchboard_gateway::Settings {
            auth: Arc::new(Verifier::hs256(&settings.secret)),
            auth_timeout: settings.auth_timeout,
            rate_per_minute: settings.rate_per_minute,
            max_frame_bytes: settings.max_frame_bytes,
            feed: settings.world.feed(),
            per_token: Default::default(),
        };
        let origins = Origins {
            allowed: origins,
            loopback: true,
        };
        // Every connection on a development machine comes from one address.
        let limits = Limits {
            max_connections,
            max_per_ip: max_connections,
        };
        let (gateway, stop) = Gateway::new(served, origins, limits);
        let endpoints = gateway
            .endpoints()
            .enumerate()
            .map(|(i, served)| {
                let seed = settings.seed.wrapping_add(i as u64);
                let endpoint = Endpoint::new(served.clone(), &settings.world, seed);
                (served.module, Arc::new(endpoint))
            })
            .collect();
        let state = Self {
            gateway,
            endpoints: Arc::new(endpoints),
            settings: Arc::new(settings),
            control: Arc::new(Control::Loopback),
        };
        (state, stop)
    }

    /// The same state with `/_control` and `/dev` open as `control` says.
    pub fn with_control(mut self, control: Control) -> Self {
        self.control = Arc::new(control);
        self
    }

    /// Who may use `/_control` and `/dev`.
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether a `Host` header names this server as a control request may: a loopback host,
    /// or the host of an allowed origin. Anything else is a DNS-rebinding page (its own name
    /// pointed at this machine) or a misrouted request.
    pub(crate) fn control_host_allowed(&self, host: &str) -> bool {
        let name = |authority: &str| -> String {
            match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or("").to_ascii_lowercase(),
                None => authority
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase(),
            }
        };
        let host_name = name(host);
        is_loopback_origin(&format!("http://{host}"))
            || self
                .gateway
                .origins()
                .allowed
                .iter()
                .filter(|o| *o != "*")
                .any(|o| {
                    let authority = o.split_once("://").map_or(o.as_str(), |(_, a)| a);
                    !host_name.is_empty() && name(authority) == host_name
                })
    }

    /// The endpoint of `module`.
    pub fn endpoint(&self, module: Module) -> Option<&Arc<Endpoint>> {
        self.endpoints.get(&module)
    }

    /// Whether a page on `origin` may call `/_control` and `/dev`: a loopback origin or one
    /// listed exactly. `*` does not count here: control is never open to every site.
    pub(crate) fn control_origin_allowed(&self, origin: &str) -> bool {
        is_loopback_origin(origin)
            || self
                .gateway
                .origins()
                .allowed
                .iter()
                .any(|o| o != "*" && o == origin)
    }
}

/// The shortest control secret accepted.
pub const MIN_CONTROL_SECRET: usize = 16;

/// Who may use `/_control` and `/dev` on a server bound as `loopback_bind` says, from the
/// `--control` flag and the control secret; and whether the token secret may be the built-in
/// development one (`dev_secret`). Off a loopback bind every request may come through a
/// proxy, so peer addresses prove nothing: control needs `--control` and a secret there, and
/// the development secret (public, in this repository) is refused outright.
pub fn control_for(
    loopback_bind: bool,
    control: bool,
    control_secret: Option<&str>,
    dev_secret: bool,
) -> Result<Control, String> {
    if !loopback_bind && dev_secret {
        return Err(
            "refusing a non-loopback bind with the built-in development secret: \
                    set SWITCHBOARD_DEV_SECRET (e.g. `openssl rand -hex 32`)"
                .into(),
        );
    }
    match (control, control_secret) {
        (true, Some(s)) if s.len() >= MIN_CONTROL_SECRET => Ok(Control::Secret(s.to_owned())),
        (true, _) => Err(format!(
            "--control needs a control secret of at least {MIN_CONTROL_SECRET} characters \
             (--control-secret or SWITCHBOARD_CONTROL_SECRET)"
        )),
        (false, _) if loopback_bind => Ok(Control::Loopback),
        (false, _) => Ok(Control::Off),
    }
}

/// The router: the gateway library's `/ws/{module}` and `/healthz`, and `/dev/config.json`
/// and `/_control/…`.
pub fn app(state: AppState) -> Router {
    state
        .gateway
        .router()
        .merge(control::routes(&state).with_state(state))
}

/// How long connections get to close after a shutdown.
const GRACE: Duration = Duration::from_secs(5);

/// Runs every world and serves `app(state)` on `listener` until `shutdown` resolves, then
/// closes every WebSocket with 1012 and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    for endpoint in state.endpoints.values() {
        tokio::spawn(endpoint.clone().run_world(stop.subscribe()));
    }
    let gateway = state.gateway.clone();
    switchboard_gateway::serve(gateway, listener, app(state), stop, shutdown, GRACE).await
}
