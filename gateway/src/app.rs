//! The production gateway's router: the protocol (`/ws/{module}`), `/publish/{module}`,
//! `/healthz`, `/readyz` and `/metrics`. No control or fault-injection route exists here.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::auth::Verifier;
use crate::broker::Broker;
use crate::config::Config;
use crate::feed::FeedSettings;
use crate::metrics::Scrape;
use crate::publish::Publisher;
use crate::{Gateway, Limits, Origins, Settings};

/// The development HS256 secret in `gateway/gateway.toml`: public, so accepted only on a
/// loopback `listen`.
pub const EXAMPLE_SECRET: &str = "switchboard-gateway-example-secret-not-for-production";

/// The gateway's settings, limits and origins from its configuration.
pub fn gateway(
    config: &Config,
    verifier: Arc<Verifier>,
) -> (Gateway, tokio::sync::watch::Sender<bool>) {
    let settings = Settings {
        auth: verifier,
        auth_timeout: config.limits.auth_timeout,
        rate_per_minute: config.limits.client_frames_per_minute,
        max_frame_bytes: config.limits.max_client_frame_bytes,
        feed: FeedSettings {
            resume: true,
            history_len: config.streams.max_frames,
            history_age: config.streams.max_age,
            heartbeat: config.streams.heartbeat,
            settled_age: config.streams.settled_age,
        },
        per_token: crate::conn::TokenSlots::new(config.limits.max_connections_per_token),
    };
    let origins = Origins {
        allowed: config.origins.clone(),
        loopback: false,
    };
    let limits = Limits {
        max_connections: config.limits.max_connections,
        max_per_ip: config.limits.max_connections_per_ip,
    };
    let header = config
        .trusted_proxy_header
        .as_deref()
        .and_then(|h| axum::http::HeaderName::from_bytes(h.as_bytes()).ok());
    let (gateway, stop) = Gateway::new(settings, origins, limits);
    (gateway.with_trusted_proxy_header(header), stop)
}

/// Refuses a configuration that would be unsafe where it listens: the public example
/// secret on anything but loopback.
pub fn check_exposure(config: &Config) -> Result<(), String> {
    if !config.listen.ip().is_loopback()
        && config.auth.hs256_secret.as_deref() == Some(EXAMPLE_SECRET)
    {
        return Err(format!(
            "refusing to listen on {} with the example HS256 secret from gateway.toml: set \
             SWITCHBOARD_GATEWAY_HS256_SECRET (e.g. `openssl rand -hex 32`) or use jwks_file",
            config.listen
        ));
    }
    Ok(())
}

/// Every route of the production gateway.
pub fn router(gateway: &Gateway, broker: &Broker, config: &Config) -> Router {
    let publisher = Publisher::new(
        gateway.clone(),
        broker.clone(),
        config.limits.publishes_per_minute,
    );
    let scrape = Scrape {
        gateway: gateway.clone(),
        broker: broker.clone(),
        publisher: publisher.clone(),
    };
    let ready = Ready {
        gateway: gateway.clone(),
        broker: broker.clone(),
    };
    gateway
        .router()
        .merge(publisher.router(config.limits.max_publish_bytes))
        .merge(
            Router::new()
                .route("/metrics", get(crate::metrics::serve))
                .with_state(scrape),
        )
        .merge(
            Router::new()
                .route("/readyz", get(readyz))
                .with_state(ready),
        )
}

#[derive(Clone, Debug)]
struct Ready {
    gateway: Gateway,
    broker: Broker,
}

/// `/readyz`: 200 when the broker is reachable and its streams exist, and the node is not
/// shutting down; 503 with the reason otherwise (a load balancer stops sending sockets).
async fn readyz(State(ready): State<Ready>) -> impl IntoResponse {
    if ready.gateway.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned());
    }
    match ready.broker.ready() {
        Ok(()) => (StatusCode::OK, format!("ready ({})", ready.broker.name())),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
    }
}

/// Re-reads the JWKS file every `every` while the process runs, so a key the identity
/// provider rotates in is accepted without a restart.
pub async fn watch_jwks(verifier: Arc<Verifier>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match verifier.reload_if_changed() {
            Ok(true) => tracing::info!("JWKS file changed: keys reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!(
                error = e,
                "JWKS file unreadable; keeping the keys already loaded"
            ),
        }
    }
}
