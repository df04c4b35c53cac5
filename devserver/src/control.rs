//! Fault injection and reports over HTTP, for tests and demos.
//!
//! | Request | Effect on `/ws/{module}` |
//! |---|---|
//! | `POST /_control/{module}/drop` | drop every connection now (no close frame) |
//! | `POST /_control/{module}/drop?secs=N` | drop every connection and refuse new ones for N seconds, while the world goes on |
//! | `POST /_control/{module}/pause?on=true` | the world makes nothing (heartbeats and scripts go on) |
//! | `POST /_control/{module}/new-epoch` | a new epoch, as after a restart: the history is forgotten |
//! | `POST /_control/{module}/repeat?frames=N` | every connection sends its last N frames again (1 to 1,000): nothing may be applied twice |
//! | `POST /_control/{module}/refuse?secs=N` | refuse new connections for N seconds (≤ 3600) |
//! | `POST /_control/{module}/silent?on=true` | keep sockets open, send nothing |
//! | `POST /_control/{module}/malformed` | one malformed frame of each kind |
//! | `POST /_control/{module}/reject-auth?on=true` | refuse every auth frame (4001) |
//! | `POST /_control/{module}/flood?rate=N&secs=D` | N frames a second (≤ 50,000) for D seconds (≤ 3600) |
//! | `POST /_control/{module}/script` (body: JSON array of frames) | send these frames |
//! | `POST /_control/{module}/action?fault=refuse` | the next action is refused ("refused by the backend (injected fault)") |
//! | `POST /_control/{module}/action?fault=late&secs=N` | the next action is carried out and answered N seconds late |
//! | `POST /_control/{module}/action?fault=never` | the next action is never carried out nor answered |
//! | `GET /_control/audit` | every module's audit log: each action carried out or refused, oldest first |
//! | `GET /_control/report` | counters of every endpoint |
//! | `GET /_control/{module}/state` | the world: epoch, head position, history size, state frames |
//! | `GET /dev/config.json` | a dashboard config with a fresh dev token |
//!
//! Every route here answers only loopback peers (403 otherwise), and only pages from a
//! loopback origin or one given with `--allow-origin` (403 otherwise; `*` does not open
//! these). A `POST` must say `Content-Type: application/json` (415 otherwise), so a page
//! elsewhere cannot send a "simple" cross-site request: the browser has to ask first, and the
//! CORS answer names only allowed origins. Out-of-range parameters are a 400.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::endpoint::{ActionFault, Fault, Module};
use crate::{AppState, Control};
use switchboard_gateway::{now, unix_ms};

/// The longest `secs` a fault accepts: an hour.
pub const MAX_SECS: u64 = 3600;
/// The highest flood rate, frames a second. The flood sends in 10 ms ticks, so a tick holds
/// at most 500 frames.
pub const MAX_FLOOD_RATE: u32 = 50_000;

#[derive(Debug, Default, Deserialize)]
struct Params {
    secs: Option<u64>,
    on: Option<bool>,
    rate: Option<u32>,
    frames: Option<usize>,
    fault: Option<String>,
}

/// The most frames one `repeat` fault sends again.
pub const MAX_REPEAT: usize = 1_000;

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}

impl Params {
    /// `secs`, or `default`, checked against [`MAX_SECS`].
    fn secs(&self, default: u64) -> Result<Duration, String> {
        match self.secs.unwrap_or(default) {
            s @ 1..=MAX_SECS => Ok(Duration::from_secs(s)),
            s => Err(format!("secs={s}: must be 1 to {MAX_SECS}")),
        }
    }

    /// `rate`, or 1,000, checked against [`MAX_FLOOD_RATE`].
    fn rate(&self) -> Result<u32, String> {
        match self.rate.unwrap_or(1000) {
            r @ 1..=MAX_FLOOD_RATE => Ok(r),
            r => Err(format!("rate={r}: must be 1 to {MAX_FLOOD_RATE}")),
        }
    }
}

async fn fault(
    State(state): State<AppState>,
    Path((module, action)): Path<(String, String)>,
    Query(p): Query<Params>,
    body: axum::body::Bytes,
) -> Response {
    let Some(endpoint) = Module::named(&module).and_then(|m| state.endpoint(m)) else {
        return (StatusCode::NOT_FOUND, "no such module").into_response();
    };
    let on = p.on.unwrap_or(true);
    let sent = match action.as_str() {
        "drop" => {
            if p.secs.is_some() {
                let secs = match p.secs(10) {
                    Ok(d) => d.as_secs(),
                    Err(e) => return bad_request(e),
                };
                let until = unix_ms().saturating_add(secs.saturating_mul(1000));
                endpoint.refuse_until.store(until, Ordering::Relaxed);
            }
            endpoint.faults.send(Fault::Drop).map(|_| ())
        }
        "new-epoch" => endpoint.faults.send(Fault::NewEpoch).map(|_| ()),
        "pause" => {
            endpoint.paused.store(on, Ordering::Relaxed);
            Ok(())
        }
        "malformed" => endpoint.faults.send(Fault::Malformed).map(|_| ()),
        "repeat" => match p.frames.unwrap_or(10) {
            frames @ 1..=MAX_REPEAT => endpoint.faults.send(Fault::Repeat { frames }).map(|_| ()),
            n => return bad_request(format!("frames={n}: must be 1 to {MAX_REPEAT}")),
        },
        "flood" => {
            let (rate, duration) = match (p.rate(), p.secs(5)) {
                (Ok(r), Ok(d)) => (r, d),
                (Err(e), _) | (_, Err(e)) => return bad_request(e),
            };
            endpoint
                .faults
                .send(Fault::Flood { rate, duration })
                .map(|_| ())
        }
        "script" => {
            let Ok(frames) = serde_json::from_slice::<Vec<serde_json::Value>>(&body) else {
                return bad_request("body must be a JSON array of frames".into());
            };
            let frames = frames.iter().map(ToString::to_string).collect();
            endpoint.faults.send(Fault::Script(frames)).map(|_| ())
        }
        "refuse" => {
            let secs = match p.secs(10) {
                Ok(d) => d.as_secs(),
                Err(e) => return bad_request(e),
            };
            let until = unix_ms().saturating_add(secs.saturating_mul(1000));
            endpoint.refuse_until.store(until, Ordering::Relaxed);
            Ok(())
        }
        "silent" => {
            endpoint.silent.store(on, Ordering::Relaxed);
            Ok(())
        }
        "reject-auth" => {
            endpoint.reject_auth.store(on, Ordering::Relaxed);
            Ok(())
        }
        "action" => {
            let fault = match (p.fault.as_deref(), p.secs) {
                (Some("refuse"), _) => ActionFault::Refuse,
                (Some("never"), _) => ActionFault::Never,
                (Some("late"), _) => match p.secs(5) {
                    Ok(d) => ActionFault::Late(d),
                    Err(e) => return bad_request(e),
                },
                (other, _) => {
                    return bad_request(format!(
                        "fault={}: must be refuse, late or never",
                        other.unwrap_or("")
                    ));
                }
            };
            endpoint.action_fault(fault);
            Ok(())
        }
        _ => return (StatusCode::NOT_FOUND, "unknown fault").into_response(),
    };
    tracing::info!(module, action, "fault injected");
    // A one-shot fault with no open connection has nobody to reach; that is not an error.
    let _ = sent;
    (StatusCode::OK, "ok").into_response()
}

/// The gate in front of every route here: loopback peers, allowed origins, JSON posts.
async fn guard(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    match state.control() {
        Control::Off => return (StatusCode::NOT_FOUND, "control is off").into_response(),
        Control::Loopback if !peer.0.ip().is_loopback() => {
            return (StatusCode::FORBIDDEN, "control is loopback-only").into_response();
        }
        Control::Loopback => {}
        Control::Secret(secret) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !same_secret(given, secret) {
                return (StatusCode::UNAUTHORIZED, "control needs its secret").into_response();
            }
        }
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| state.control_host_allowed(h)) {
        tracing::warn!(?host, "control request for a host not served");
        return (StatusCode::FORBIDDEN, "host not allowed").into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .is_ok_and(|o| state.control_origin_allowed(o));
        if !allowed {
            tracing::warn!(?origin, "control request from a page not allowed");
            return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
        }
    }
    if request.method() == Method::POST {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "control posts must be Content-Type: application/json",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn report(State(state): State<AppState>) -> Response {
    let mut out = serde_json::Map::new();
    for module in Module::all() {
        if let Some(endpoint) = state.endpoint(module) {
            let report = endpoint.report.lock().unwrap_or_else(|e| e.into_inner());
            out.insert(
                module.name().into(),
                serde_json::to_value(&*report).unwrap_or_default(),
            );
        }
    }
    Json(out).into_response()
}

/// Every module's audit log, oldest first.
async fn audit(State(state): State<AppState>) -> Response {
    let mut entries: Vec<_> = Module::all()
        .filter_map(|m| state.endpoint(m))
        .flat_map(|e| e.actions.audit())
        .collect();
    entries.sort_by(|a, b| a.at.cmp(&b.at));
    Json(entries).into_response()
}

async fn world(State(state): State<AppState>, Path(module): Path<String>) -> Response {
    match Module::named(&module).and_then(|m| state.endpoint(m)) {
        Some(endpoint) => Json(endpoint.world().report(now())).into_response(),
        None => (StatusCode::NOT_FOUND, "no such module").into_response(),
    }
}

/// A config that points every module at this server's `/ws/{module}` on the page's origin,
/// with a fresh development token. Only `cargo xtask dev` serves it to the page.
async fn dev_config(State(state): State<AppState>) -> Response {
    let token = match crate::auth::mint_operator(
        &state.settings.secret,
        "dev-operator",
        Duration::from_secs(8 * 3600),
    ) {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let modules: serde_json::Map<String, serde_json::Value> = Module::all()
        .map(|m| {
            (
                m.name().to_owned(),
                serde_json::json!({ "url": format!("/ws/{}", m.name()) }),
            )
        })
        .collect();
    Json(serde_json::json!({ "simulation": true, "dev_token": token, "modules": modules }))
        .into_response()
}

/// `/_control/…` and `/dev/…`, behind [`guard`]. CORS answers name the asking origin only
/// when it is allowed (the browser tests' runner is a loopback page), never `*`.
pub(crate) fn routes(state: &AppState) -> axum::Router<AppState> {
    let allowed = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.control_origin_allowed(o))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    axum::Router::new()
        .route("/_control/{module}/{action}", post(fault))
        .route("/_control/report", get(report))
        .route("/_control/audit", get(audit))
        .route("/_control/{module}/state", get(world))
        .route("/dev/config.json", get(dev_config))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(cors)
}
