//! The Switchboard development backend: one WebSocket endpoint per module, speaking the
//! protocol exactly, with JWT auth, limits and fault injection.
//!
//! - [`app`] builds the router from an [`AppState`]; tests bind port 0 and call [`serve`].
//! - [`conn`]: one connection's life, generic over `Sink`/`Stream`.
//! - [`control`]: the loopback-only fault injection and report endpoints.
//! - [`auth`]: minting and checking HS256 tokens.

pub mod auth;
pub mod conn;
pub mod control;
pub mod endpoint;
pub mod world;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub use conn::Settings;
use endpoint::{Endpoint, Module};

/// Shared server state.
#[derive(Clone, Debug)]
pub struct AppState {
    endpoints: Arc<HashMap<Module, Arc<Endpoint>>>,
    settings: Arc<Settings>,
    origins: Arc<Vec<String>>,
    slots: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
    next_conn: Arc<AtomicU64>,
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
        let (tx, rx) = watch::channel(false);
        let endpoints = Module::all()
            .enumerate()
            .map(|(i, m)| {
                let seed = settings.seed.wrapping_add(i as u64);
                (m, Arc::new(Endpoint::new(m, &settings.world, seed)))
            })
            .collect();
        let state = Self {
            endpoints: Arc::new(endpoints),
            settings: Arc::new(settings),
            origins: Arc::new(origins),
            slots: Arc::new(Semaphore::new(max_connections)),
            shutdown: rx,
            next_conn: Arc::new(AtomicU64::new(0)),
            control: Arc::new(Control::Loopback),
        };
        (state, tx)
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
            || self.origins.iter().filter(|o| *o != "*").any(|o| {
                let authority = o.split_once("://").map_or(o.as_str(), |(_, a)| a);
                !host_name.is_empty() && name(authority) == host_name
            })
    }

    /// The endpoint of `module`.
    pub fn endpoint(&self, module: Module) -> Option<&Arc<Endpoint>> {
        self.endpoints.get(&module)
    }

    /// Whether a WebSocket upgrade from a page on `origin` is allowed: no `Origin` (not a
    /// browser), a loopback origin, a listed one, or any when `*` is listed.
    fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        is_loopback_origin(origin) || self.origins.iter().any(|o| o == "*" || o == origin)
    }

    /// Whether a page on `origin` may call `/_control` and `/dev`: a loopback origin or one
    /// listed exactly. `*` does not count here: control is never open to every site.
    pub(crate) fn control_origin_allowed(&self, origin: &str) -> bool {
        is_loopback_origin(origin) || self.origins.iter().any(|o| o != "*" && o == origin)
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

/// Whether `origin` (`scheme://host[:port]`, as browsers send it) names a loopback host:
/// `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        // An IPv6 literal: up to the closing bracket, which a port may follow.
        Some(v6) => match v6.split_once(']') {
            Some((ip, tail)) if tail.is_empty() || tail.starts_with(':') => ip,
            _ => return false,
        },
        None => rest.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The current time, as the core counts it.
pub(crate) fn now() -> switchboard_core::Instant {
    switchboard_core::Instant::from_millis(unix_ms())
}

async fn websocket(
    Path(module): Path<String>,
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(endpoint) = Module::named(&module)
        .and_then(|m| state.endpoint(m))
        .cloned()
    else {
        return (StatusCode::NOT_FOUND, "no such module").into_response();
    };
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !state.origin_allowed(origin) {
        endpoint.count(|r| r.refused += 1);
        tracing::warn!(module, origin, "origin not allowed");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    if endpoint.refusing(unix_ms()) {
        endpoint.count(|r| r.refused += 1);
        return (StatusCode::SERVICE_UNAVAILABLE, "refusing connections").into_response();
    }
    let Ok(slot) = state.slots.clone().try_acquire_owned() else {
        endpoint.count(|r| r.refused += 1);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let number = state.next_conn.fetch_add(1, Ordering::Relaxed);
    endpoint.count(|r| {
        r.connections += 1;
        r.open += 1;
        r.accepted(unix_ms());
    });
    tracing::info!(module, number, "connection accepted");
    let settings = state.settings.clone();
    let shutdown = state.shutdown.clone();
    upgrade
        .max_message_size(settings.max_frame_bytes)
        .max_frame_size(settings.max_frame_bytes)
        .on_upgrade(move |socket| async move {
            use futures_util::StreamExt;
            let (sink, stream) = socket.split();
            conn::run(sink, stream, endpoint.clone(), settings, shutdown, number).await;
            endpoint.count(|r| r.open -= 1);
            drop(slot);
        })
}

/// The router: `/ws/{module}`, `/healthz`, `/dev/config.json` and `/_control/…`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/ws/{module}", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        .merge(control::routes(&state))
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then closes every WebSocket
/// with 1001 and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    for endpoint in state.endpoints.values() {
        tokio::spawn(endpoint.clone().run_world(state.shutdown.clone()));
    }
    let router = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: closing every connection with 1001");
        let _ = stop.send(true);
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(graceful)
        .await
}

#[cfg(test)]
mod tests {
    use super::is_loopback_origin;

    #[test]
    fn loopback_origins_are_recognised_and_lookalikes_are_not() {
        for yes in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1",
            "https://localhost:3000",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "http://[::1]",
            "http://127.1.2.3:9",
        ] {
            assert!(is_loopback_origin(yes), "{yes}");
        }
        for no in [
            "null",
            "",
            "file://",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "http://[::1].evil.example",
            "http://[::2]:80",
            "http://10.0.0.1",
            "ws://127.0.0.1",
            "http://[::1",
        ] {
            assert!(!is_loopback_origin(no), "{no}");
        }
    }
}
