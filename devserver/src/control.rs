//! Fault injection and reports over HTTP, for tests and demos. Loopback only.
//!
//! | Request | Effect on `/ws/{module}` |
//! |---|---|
//! | `POST /_control/{module}/drop` | drop every connection now (no close frame) |
//! | `POST /_control/{module}/refuse?secs=N` | refuse new connections for N seconds |
//! | `POST /_control/{module}/silent?on=true` | keep sockets open, send nothing |
//! | `POST /_control/{module}/malformed` | one malformed frame of each kind |
//! | `POST /_control/{module}/reject-auth?on=true` | refuse every auth frame (4001) |
//! | `POST /_control/{module}/flood?rate=N&secs=D` | N frames a second for D seconds |
//! | `POST /_control/{module}/script` (body: JSON array of frames, any content type) | send these frames |
//! | `GET /_control/report` | counters of every endpoint |
//! | `GET /dev/config.json` | a dashboard config with a fresh dev token |

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::endpoint::{Fault, Module};
use crate::{AppState, refuse_unless_loopback, unix_ms};

/// Browser tests read reports from the test runner's origin. The control routes only answer
/// loopback peers, so this opens nothing to the network.
const ANY_ORIGIN: [(axum::http::HeaderName, &str); 1] =
    [(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")];

#[derive(Debug, Default, Deserialize)]
struct Params {
    secs: Option<u64>,
    on: Option<bool>,
    rate: Option<u32>,
}

async fn fault(
    peer: ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    Path((module, action)): Path<(String, String)>,
    Query(p): Query<Params>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(denied) = refuse_unless_loopback(&peer) {
        return denied;
    }
    let Some(endpoint) = Module::from_name(&module).and_then(|m| state.endpoint(m)) else {
        return (StatusCode::NOT_FOUND, "no such module").into_response();
    };
    let on = p.on.unwrap_or(true);
    let sent = match action.as_str() {
        "drop" => endpoint.faults.send(Fault::Drop).map(|_| ()),
        "malformed" => endpoint.faults.send(Fault::Malformed).map(|_| ()),
        "flood" => {
            let duration = Duration::from_secs(p.secs.unwrap_or(5));
            endpoint
                .faults
                .send(Fault::Flood {
                    rate: p.rate.unwrap_or(1000),
                    duration,
                })
                .map(|_| ())
        }
        "script" => {
            // Any content type: browser tests send text/plain to avoid a CORS preflight.
            let Ok(frames) = serde_json::from_slice::<Vec<serde_json::Value>>(&body) else {
                let msg = "body must be a JSON array of frames";
                return (StatusCode::BAD_REQUEST, ANY_ORIGIN, msg).into_response();
            };
            let frames = frames.iter().map(ToString::to_string).collect();
            endpoint.faults.send(Fault::Script(frames)).map(|_| ())
        }
        "refuse" => {
            let until = unix_ms() + p.secs.unwrap_or(10) * 1000;
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
        _ => return (StatusCode::NOT_FOUND, "unknown fault").into_response(),
    };
    tracing::info!(module, action, "fault injected");
    // A one-shot fault with no open connection has nobody to reach; that is not an error.
    let _ = sent;
    (StatusCode::OK, ANY_ORIGIN, "ok").into_response()
}

async fn report(peer: ConnectInfo<SocketAddr>, State(state): State<AppState>) -> Response {
    if let Some(denied) = refuse_unless_loopback(&peer) {
        return denied;
    }
    let mut out = serde_json::Map::new();
    for module in Module::ALL {
        if let Some(endpoint) = state.endpoint(module) {
            let report = endpoint.report.lock().unwrap_or_else(|e| e.into_inner());
            out.insert(
                module.name().into(),
                serde_json::to_value(&*report).unwrap_or_default(),
            );
        }
    }
    (ANY_ORIGIN, Json(out)).into_response()
}

/// A config that points every module at this server's `/ws/{module}` on the page's origin,
/// with a fresh development token. Only `cargo xtask dev` serves it to the page.
async fn dev_config(State(state): State<AppState>) -> Response {
    let token = match crate::auth::mint(
        &state.settings.secret,
        "dev-operator",
        Duration::from_secs(8 * 3600),
    ) {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let modules: serde_json::Map<String, serde_json::Value> = Module::ALL
        .into_iter()
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

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/_control/{module}/{action}", post(fault))
        .route("/_control/report", get(report))
        .route("/dev/config.json", get(dev_config))
}
