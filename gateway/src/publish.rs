//! `POST /publish/{module}`: frames from systems that cannot speak NATS.
//!
//! - `Authorization: Bearer <publisher token>`: a token whose `aud` is the configured
//!   publisher audience (never an operator's), whose `modules` claim, if any, names the
//!   module. 401 without a good one, 403 for a module it does not name.
//! - The body is one frame, `{"type","data","timestamp"}`, or a JSON array of them, at most
//!   `limits.max_publish_bytes` (413 beyond).
//! - Every frame is checked against the module's payload types before anything is
//!   published. One bad frame refuses the whole request with 422 and the reason, naming the
//!   frame by its index; nothing of it is published.
//! - Requests per minute per token (`sub`) are limited (429 beyond, with `Retry-After`).
//! - 200 with `{"published": n, "seq": [first, last]}`: the positions the frames took.
//!   503 when the broker cannot take them.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::value::RawValue;
use switchboard_core::Frame;

use crate::auth::{Audience, AuthError};
use crate::broker::Broker;
use crate::{Gateway, Module};

/// What the publish route shares.
#[derive(Clone, Debug)]
pub struct Publisher {
    gateway: Gateway,
    broker: Broker,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    stats: Arc<PublishStats>,
}

/// Counters of the publish route.
#[derive(Debug, Default)]
pub struct PublishStats {
    /// Frames published, all modules.
    pub frames: std::sync::atomic::AtomicU64,
    /// Requests refused: bad token, forbidden module, bad frame, rate, size.
    pub refused: std::sync::atomic::AtomicU64,
}

impl Publisher {
    /// The route's state: `per_minute` requests a minute per publisher token.
    pub fn new(gateway: Gateway, broker: Broker, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            gateway,
            broker,
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            stats: Arc::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &PublishStats {
        &self.stats
    }

    /// `POST /publish/{module}`, bodies bounded by `max_bytes`.
    pub fn router(&self, max_bytes: usize) -> axum::Router {
        axum::Router::new()
            .route("/publish/{module}", post(publish))
            .layer(DefaultBodyLimit::max(max_bytes))
            .with_state(self.clone())
    }

    fn refuse(&self, status: StatusCode, reason: impl Into<String>) -> Response {
        self.stats
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = serde_json::json!({ "error": reason.into() });
        (status, Json(body)).into_response()
    }
}

/// The frames of a request body, each checked; the first bad one is the error, with its
/// index.
pub fn frames_of(module: Module, body: &[u8]) -> Result<Vec<Frame>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let trimmed = text.trim_start();
    let raws: Vec<Box<RawValue>> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(|e| format!("the body is not a JSON array: {e}"))?
    } else {
        vec![serde_json::from_str(trimmed).map_err(|e| format!("the body is not JSON: {e}"))?]
    };
    if raws.is_empty() {
        return Err("no frames".into());
    }
    raws.iter()
        .enumerate()
        .map(|(i, raw)| {
            module
                .frame_from(raw.get())
                .map_err(|why| format!("frame {i}: {why}"))
        })
        .collect()
}

/// The longest `Idempotency-Key` taken; a longer one is ignored (the request is published
/// without one).
const MAX_KEY_BYTES: usize = 200;

async fn publish(
    State(state): State<Publisher>,
    Path(module): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(module) = Module::named(&module) else {
        return state.refuse(StatusCode::NOT_FOUND, "no such module");
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return state.refuse(StatusCode::UNAUTHORIZED, "a publisher token is required");
    };
    let claims = match state
        .gateway
        .settings()
        .auth
        .verify(token, Audience::Publisher)
    {
        Ok(claims) => claims,
        Err(e) => return state.refuse(StatusCode::UNAUTHORIZED, e.reason()),
    };
    if !claims.may_see(module.name()) {
        return state.refuse(StatusCode::FORBIDDEN, AuthError::Forbidden.reason());
    }
    if state.limiter.check_key(&claims.sub).is_err() {
        let mut refused = state.refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "publish rate limit exceeded for this token",
        );
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return refused;
    }
    let frames = match frames_of(module, &body) {
        Ok(frames) => frames,
        Err(why) => return state.refuse(StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    // A retry with the request's key publishes nothing twice; keys are the publisher's own.
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES)
        .map(|k| format!("{}:{k}", claims.sub));
    let n = frames.len();
    match state
        .broker
        .publish(&state.gateway, module, frames, key.as_deref())
        .await
    {
        Ok(seqs) => {
            state
                .stats
                .frames
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            let span = seqs.first().zip(seqs.last()).map(|(a, b)| [*a, *b]);
            Json(serde_json::json!({ "published": seqs.len(), "seq": span })).into_response()
        }
        Err(e) => state.refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}
