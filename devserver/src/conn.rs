//! One client connection: auth first, then traffic and faults until either side stops.
//!
//! The logic is generic over a `Sink` and a `Stream` of messages, so the unit tests below drive
//! it through in-memory channels with no network at all. One task runs both directions with
//! `select!`: inbound frames, the traffic ticker, faults and shutdown, and whichever ends the
//! connection ends all of it.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{Quota, RateLimiter};
use switchboard_core::Instant;
use switchboard_core::frame::encode_frame;
use tokio::sync::{broadcast, watch};
use tokio::time::MissedTickBehavior;

use crate::auth::{AuthError, check_auth_frame};
use crate::endpoint::{Endpoint, Fault};

/// Limits and secrets every connection shares.
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
    /// Seed for the traffic generators; each connection adds its own number.
    pub seed: u64,
}

fn now() -> Instant {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::from_millis(ms)
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The malformed frames of [`Fault::Malformed`], one of each kind the client must survive.
pub fn malformed_frames(main_channel: &str) -> Vec<Message> {
    let huge = "x".repeat(switchboard_core::frame::DEFAULT_MAX_FRAME_BYTES + 1);
    vec![
        Message::text(format!(r#"{{"type":"{main_channel}","data":"#)),
        Message::text(r#"{"data":{"x":1}}"#),
        Message::text(format!(
            r#"{{"type":"{main_channel}","data":{{"unexpected":"shape"}}}}"#
        )),
        Message::text(r#"{"type":"no_such_channel","data":{}}"#),
        Message::text(format!(r#"{{"type":"{main_channel}","data":"{huge}"}}"#)),
        Message::Binary(vec![0, 159, 146, 150].into()),
    ]
}

/// Redacts the token in a first frame, keeping its length, for the report.
fn redact(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            if let Some(token) = v.get_mut("token") {
                let len = token.as_str().map_or(0, str::len);
                *token = serde_json::Value::String(format!("<{len} chars>"));
            }
            v.to_string()
        }
        Err(_) => format!("<not JSON, {} bytes>", text.len()),
    }
}

async fn authenticate<R>(
    stream: &mut R,
    endpoint: &Endpoint,
    settings: &Settings,
) -> Result<(), AuthError>
where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let first = tokio::time::timeout(settings.auth_timeout, stream.next()).await;
    let text = match first {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        _ => return Err(AuthError::Missing),
    };
    endpoint.count(|r| r.first_frame(&redact(&text)));
    check_auth_frame(&settings.secret, &text)?;
    if endpoint
        .reject_auth
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(AuthError::Rejected);
    }
    Ok(())
}

/// Sends a batch and counts it. `false` when the client is gone.
async fn send_batch<S: Sink<Message> + Unpin>(
    sink: &mut S,
    endpoint: &Endpoint,
    batch: Vec<Message>,
) -> bool {
    let n = batch.len() as u64;
    let ok = sink
        .send_all(&mut futures_util::stream::iter(batch.into_iter().map(Ok)))
        .await
        .is_ok();
    if ok {
        endpoint.count(|r| r.frames_sent += n);
    }
    ok
}

/// Frames from the generator, as envelopes stamped `now`.
fn generate(
    sim: &mut dyn switchboard_core::simulator::Simulator,
    rng: &mut fastrand::Rng,
    out: &mut Vec<Message>,
) {
    let now = now();
    for frame in sim.tick(now, rng) {
        if let Ok(text) = encode_frame(frame.channel(), frame.data(), now) {
            out.push(Message::text(text));
        }
    }
}

/// Serves one connection until it ends.
pub async fn run<S, R>(
    mut sink: S,
    mut stream: R,
    endpoint: Arc<Endpoint>,
    settings: Arc<Settings>,
    mut shutdown: watch::Receiver<bool>,
    number: u64,
) where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let module = endpoint.module.name();
    // Subscribe before auth, so a fault sent right after the client authenticates is not lost.
    let mut faults = endpoint.faults.subscribe();
    if let Err(e) = authenticate(&mut stream, &endpoint, &settings).await {
        endpoint.count(|r| r.auth_rejected += 1);
        tracing::info!(
            module,
            number,
            reason = e.reason(),
            "auth refused; closing with 4001"
        );
        let _ = sink.send(close(4001, e.reason())).await;
        return;
    }
    endpoint.count(|r| r.auth_ok += 1);
    tracing::info!(module, number, "authenticated");

    let per_minute = NonZeroU32::new(settings.rate_per_minute).unwrap_or(NonZeroU32::MIN);
    let limiter = RateLimiter::direct(Quota::per_minute(per_minute));
    let mut sim = endpoint.module.simulator();
    let mut rng = fastrand::Rng::with_seed(settings.seed.wrapping_add(number));
    let mut traffic = tokio::time::interval(sim.interval());
    traffic.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut flood: Option<(f64, tokio::time::Instant, f64)> = None; // (per tick, until, carry)
    let mut flood_tick = tokio::time::interval(Duration::from_millis(10));

    let reason = loop {
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    endpoint.count(|r| r.frames_received += 1);
                    if limiter.check().is_err() {
                        endpoint.count(|r| r.rate_limited += 1);
                        let _ = sink.send(close(1008, "rate limit exceeded")).await;
                        break "inbound rate limit";
                    }
                }
                Some(Ok(Message::Close(_))) | None => break "client closed",
                Some(Err(_)) => break "protocol error (frame too large?)",
                Some(Ok(_)) => {}
            },
            _ = traffic.tick() => {
                if endpoint.silent.load(std::sync::atomic::Ordering::Relaxed) {
                    continue;
                }
                let mut out = Vec::new();
                generate(sim.as_mut(), &mut rng, &mut out);
                if !send_batch(&mut sink, &endpoint, out).await {
                    break "send failed";
                }
            }
            _ = flood_tick.tick(), if flood.is_some() => {
                let Some((per_tick, until, carry)) = flood.as_mut() else { continue };
                if tokio::time::Instant::now() >= *until {
                    flood = None;
                    continue;
                }
                *carry += *per_tick;
                let count = carry.floor();
                *carry -= count;
                let mut out = Vec::with_capacity(count as usize);
                while (out.len() as f64) < count {
                    generate(sim.as_mut(), &mut rng, &mut out);
                }
                out.truncate(count as usize);
                if !send_batch(&mut sink, &endpoint, out).await {
                    break "send failed";
                }
            }
            fault = faults.recv() => match fault {
                Ok(Fault::Drop) => break "dropped by fault injection",
                Ok(Fault::Malformed) => {
                    if !send_batch(&mut sink, &endpoint, malformed_frames(endpoint.module.main_channel())).await {
                        break "send failed";
                    }
                }
                Ok(Fault::Flood { rate, duration }) => {
                    flood = Some((f64::from(rate) / 100.0, tokio::time::Instant::now() + duration, 0.0));
                }
                Ok(Fault::Script(frames)) => {
                    if !send_batch(&mut sink, &endpoint, frames.into_iter().map(Message::text).collect()).await {
                        break "send failed";
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break "endpoint gone",
            },
            _ = shutdown.changed() => {
                let _ = sink.send(close(1001, "server shutting down")).await;
                break "server shutdown";
            }
        }
    };
    tracing::info!(module, number, reason, "connection ended");
}

#[cfg(test)]
mod tests;
