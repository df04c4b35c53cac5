//! The Switchboard protocol server: one WebSocket endpoint per module, with auth first,
//! positions, a bounded history, replay, snapshots (in parts), resync, heartbeats, limits
//! and origin checks. One implementation, two uses: the `switchboard-gateway` binary serves
//! it in production, in front of a broker; the development backend serves it in front of
//! its simulators (docs/PROTOCOL.md; docs/GATEWAY.md).
//!
//! - [`Gateway`] is the shared state; [`Gateway::router`] serves `/ws/{module}` and
//!   `/healthz`; [`serve`] runs a router until shutdown, then closes every socket with 1012.
//! - [`feed`]: one module's positions, history and state, shared by its connections.
//! - [`conn`]: one connection's life, generic over `Sink`/`Stream`.
//! - [`endpoint`]: a module's feed, counters and levers.
//! - [`auth`]: HS256, and RS256/ES256 from a JWKS file; operator and publisher audiences.
//! - [`action`]: actions: authorised per action, carried out once per request id,
//!   answered once, audited.

pub mod action;
pub mod app;
pub mod auth;
pub mod broker;
pub mod config;
pub mod conn;
pub mod endpoint;
pub mod feed;
pub mod metrics;
pub mod publish;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

pub use conn::Settings;
pub use endpoint::{Endpoint, Module};

/// Which pages may open a socket, by their `Origin`.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    /// Allowed origins, exactly (`https://noc.example.net`); `*` allows any.
    pub allowed: Vec<String>,
    /// Also allow every loopback origin (`http://localhost:…`): the development backend's
    /// choice, never the gateway's default.
    pub loopback: bool,
}

impl Origins {
    /// Whether a WebSocket upgrade from a page on `origin` is allowed: no `Origin` (not a
    /// browser: a service, a load client), an allowed one, or any when `*` is allowed.
    pub fn allow(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        (self.loopback && is_loopback_origin(origin))
            || self.allowed.iter().any(|o| o == "*" || o == origin)
    }
}

/// How many sockets a gateway holds at once, and per client address.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Over every endpoint.
    pub max_connections: usize,
    /// From one client address (after the trusted proxy header, see [`Gateway::client_ip`]).
    pub max_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_per_ip: 256,
        }
    }
}

/// The state every request shares: one [`Endpoint`] per module, the settings, the limits
/// and the shutdown signal.
#[derive(Clone, Debug)]
pub struct Gateway {
    endpoints: Arc<HashMap<Module, Arc<Endpoint>>>,
    settings: Arc<Settings>,
    origins: Arc<Origins>,
    limits: Limits,
    slots: Arc<Semaphore>,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    trusted_proxy_header: Option<HeaderName>,
    shutdown: watch::Receiver<bool>,
    next_conn: Arc<AtomicU64>,
}

impl Gateway {
    /// A gateway with these settings, one endpoint per module of the registry, each with an
    /// empty feed. Send `true` on the returned sender to shut down.
    pub fn new(
        settings: Settings,
        origins: Origins,
        limits: Limits,
    ) -> (Self, watch::Sender<bool>) {
        let (tx, rx) = watch::channel(false);
        let endpoints = Module::all()
            .map(|m| (m, Arc::new(Endpoint::new(m, &settings.feed))))
            .collect();
        let gateway = Self {
            endpoints: Arc::new(endpoints),
            settings: Arc::new(settings),
            origins: Arc::new(origins),
            limits,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            per_ip: Arc::default(),
            trusted_proxy_header: None,
            shutdown: rx,
            next_conn: Arc::new(AtomicU64::new(0)),
        };
        (gateway, tx)
    }

    /// The same gateway, taking the client's address from `header` (for example
    /// `X-Forwarded-For`, its last entry) as set by the proxy in front of it. Without it, the
    /// TCP peer is the client.
    pub fn with_trusted_proxy_header(mut self, header: Option<HeaderName>) -> Self {
        self.trusted_proxy_header = header;
        self
    }

    /// The endpoint of `module`.
    pub fn endpoint(&self, module: Module) -> Option<&Arc<Endpoint>> {
        self.endpoints.get(&module)
    }

    /// Every endpoint, in the registry's order.
    pub fn endpoints(&self) -> impl Iterator<Item = &Arc<Endpoint>> {
        Module::all().filter_map(|m| self.endpoints.get(&m))
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The allowed origins.
    pub fn origins(&self) -> &Origins {
        &self.origins
    }

    /// Whether the server is shutting down.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The client's address: the last entry of the trusted proxy header when one is
    /// configured (the address the proxy itself saw; earlier entries are the client's own
    /// claims), the TCP peer otherwise. A request without the header, through a configured
    /// proxy, counts under the peer.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.trusted_proxy_header
            .as_ref()
            .and_then(|name| headers.get_all(name).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok())
            .unwrap_or(peer)
    }

    /// Takes a connection slot for `ip`, or says which limit is full.
    fn admit(&self, ip: IpAddr) -> Result<Admitted, &'static str> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| "too many connections")?;
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let count = per_ip.entry(ip).or_default();
        if *count >= self.limits.max_per_ip {
            return Err("too many connections from this address");
        }
        *count += 1;
        Ok(Admitted {
            _slot: slot,
            ip,
            per_ip: self.per_ip.clone(),
        })
    }

    /// Resolves once no socket is open: every connection slot is back.
    pub async fn drained(&self) {
        let all = u32::try_from(self.limits.max_connections).unwrap_or(u32::MAX);
        let _ = self.slots.acquire_many(all).await;
    }

    /// `/ws/{module}` and `/healthz`, with this state.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/ws/{module}", get(websocket))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self.clone())
    }
}

/// A connection's place under the limits, given back when it ends.
struct Admitted {
    _slot: OwnedSemaphorePermit,
    ip: IpAddr,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
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
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The current time, as the core counts it.
pub fn now() -> switchboard_core::Instant {
    switchboard_core::Instant::from_millis(unix_ms())
}

async fn websocket(
    Path(module): Path<String>,
    State(state): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(endpoint) = Module::named(&module)
        .and_then(|m| state.endpoint(m))
        .cloned()
    else {
        return (StatusCode::NOT_FOUND, "no such module").into_response();
    };
    if state.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !state.origins.allow(origin) {
        endpoint.count(|r| r.refused += 1);
        tracing::warn!(module, origin, "origin not allowed");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    if !endpoint.serving.load(Ordering::Relaxed) {
        endpoint.count(|r| r.refused += 1);
        return (StatusCode::SERVICE_UNAVAILABLE, "reading the stream").into_response();
    }
    if endpoint.refusing(unix_ms()) {
        endpoint.count(|r| r.refused += 1);
        return (StatusCode::SERVICE_UNAVAILABLE, "refusing connections").into_response();
    }
    let ip = state.client_ip(peer.ip(), &headers);
    let admitted = match state.admit(ip) {
        Ok(admitted) => admitted,
        Err(why) => {
            endpoint.count(|r| r.refused += 1);
            tracing::warn!(module, %ip, why, "connection refused");
            return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
        }
    };
    let number = state.next_conn.fetch_add(1, Ordering::Relaxed);
    endpoint.count(|r| {
        r.connections += 1;
        r.open += 1;
        r.accepted(unix_ms());
    });
    tracing::debug!(module, number, %ip, "connection accepted");
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
            drop(admitted);
        })
}

/// Resolves on SIGTERM or Ctrl-C: the shutdown signal of both servers' binaries.
pub async fn terminated() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or_default(),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or_default();
}

/// Serves `router` on `listener` until `shutdown` resolves: then stops accepting, tells
/// every connection of `gateway` to close with 1012 (`stop`), and returns once they have,
/// or after `grace`, whichever is first. (The HTTP server's own graceful shutdown does not
/// wait for upgraded sockets, so a process that exited when it returned would cut them off
/// before their 1012 went out.)
pub async fn serve(
    gateway: Gateway,
    listener: TcpListener,
    router: Router,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let (closing_tx, closing_rx) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: closing every connection with 1012");
        let _ = stop.send(true);
        let _ = closing_tx.send(());
    };
    let server = axum::serve(listener, service).with_graceful_shutdown(graceful);
    let server = std::pin::pin!(server.into_future());
    // Once shutdown began, the connections get `grace` to close; then the process goes on
    // without them.
    let bounded = async move {
        if closing_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let drained = async move {
        let served = server.await;
        gateway.drained().await;
        served
    };
    tokio::select! {
        served = drained => served,
        () = bounded => {
            tracing::warn!(?grace, "connections still open after the grace period; exiting");
            Ok(())
        }
    }
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
