//! One client connection: auth first, then the world's frames and faults until either side
//! stops.
//!
//! The logic is generic over a `Sink` and a `Stream` of messages, so the unit tests drive it
//! through in-memory channels with no network at all. One task runs both directions with
//! `select!`: inbound frames, the world's broadcast, the heartbeat, faults and shutdown, and
//! whichever ends the connection ends all of it.
//!
//! A client whose auth frame carries `resume` (docs/PROTOCOL.md, "Resume") first gets the
//! world's answer to its position (a replay, a snapshot, or "live"), then every frame after
//! it, a heartbeat whenever the socket has been quiet for the announced interval, a new
//! answer when it sends `resync`, and a snapshot when the world starts a new epoch. Other
//! clients get the frames only, as from the reference server.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{Quota, RateLimiter};
use switchboard_core::resume::RESYNC;
use tokio::sync::{broadcast, watch};

use crate::auth::{AuthError, check_auth_frame};
use crate::endpoint::{Endpoint, Fault};
use crate::now;
use crate::world::{Published, ResumeFrom, WorldSettings, heartbeat};

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
    /// Seed for the worlds' generators; each module adds its own number.
    pub seed: u64,
    /// How each module's world keeps its history and speaks to clients.
    pub world: WorldSettings,
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

/// Checks the auth frame; on success, returns the client's resume request, if it made one.
async fn authenticate<R>(
    stream: &mut R,
    endpoint: &Endpoint,
    settings: &Settings,
) -> Result<Option<ResumeFrom>, AuthError>
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
    #[derive(serde::Deserialize)]
    struct Resume {
        resume: Option<ResumeFrom>,
    }
    Ok(serde_json::from_str::<Resume>(&text)
        .ok()
        .and_then(|r| r.resume))
}

/// A client's `resync` frame: where it stands.
fn resync_request(text: &str) -> Option<ResumeFrom> {
    #[derive(serde::Deserialize)]
    struct Resync {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        data: ResumeFrom,
    }
    serde_json::from_str::<Resync>(text)
        .ok()
        .filter(|r| r.kind == RESYNC)
        .map(|r| r.data)
}

/// Sends a batch and counts it. `false` when the client is gone.
async fn send_batch<S: Sink<Message> + Unpin>(
    sink: &mut S,
    endpoint: &Endpoint,
    batch: Vec<Message>,
) -> bool {
    let n = batch.len() as u64;
    if n == 0 {
        return true;
    }
    let ok = sink
        .send_all(&mut futures_util::stream::iter(batch.into_iter().map(Ok)))
        .await
        .is_ok();
    if ok {
        endpoint.count(|r| r.frames_sent += n);
    }
    ok
}

/// The most published frames a connection sends in one batch.
const BATCH: usize = 512;

/// A replay goes out in chunks of this many frames, [`REPLAY_PAUSE`] apart, so that a
/// browser receiving thousands of frames at once gets them in pieces it can dispatch between
/// two paints, rather than in one long task (see docs/PROTOCOL.md, "Resume").
const REPLAY_CHUNK: usize = 256;
/// See [`REPLAY_CHUNK`].
const REPLAY_PAUSE: Duration = Duration::from_millis(4);

/// Sends an answer (a `sync` and any replayed frames) in paced chunks. `false` when the
/// client is gone.
async fn send_answer<S: Sink<Message> + Unpin>(
    sink: &mut S,
    endpoint: &Endpoint,
    answer: Vec<Message>,
) -> bool {
    let mut rest = answer.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<Message> = rest.by_ref().take(REPLAY_CHUNK).collect();
        if !send_batch(sink, endpoint, chunk).await {
            return false;
        }
        if rest.peek().is_some() {
            tokio::time::sleep(REPLAY_PAUSE).await;
        }
    }
    true
}

/// What one connection has sent of the world.
struct Cursor {
    /// The client speaks the resume extension (and the server does).
    resume: bool,
    /// The client takes a snapshot in parts.
    parts: bool,
    /// The last position sent; frames at or before it are not sent again.
    sent: u64,
    /// When anything was last sent, for the heartbeat.
    last_send: tokio::time::Instant,
}

impl Cursor {
    /// The world's answer to a client at `from`, as messages; moves the cursor to the head.
    fn answer(&mut self, endpoint: &Endpoint, from: Option<&ResumeFrom>) -> Vec<Message> {
        let (texts, head) = endpoint.world().answer(from, now());
        self.sent = head;
        texts.iter().map(|t| Message::text(t.as_ref())).collect()
    }

    /// The messages for one published item (none when it was sent already).
    fn take(&mut self, endpoint: &Endpoint, item: Published, out: &mut Vec<Message>) {
        match item {
            Published::Frame(seq, text) => {
                if seq > self.sent || !self.resume {
                    self.sent = self.sent.max(seq);
                    out.push(Message::text(text.as_ref()));
                }
            }
            Published::Raw(text) => out.push(Message::text(text.as_ref())),
            Published::NewEpoch => {
                if self.resume {
                    let cold = ResumeFrom {
                        parts: self.parts,
                        ..ResumeFrom::default()
                    };
                    out.extend(self.answer(endpoint, Some(&cold)));
                } else {
                    self.sent = 0;
                }
            }
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
    use std::sync::atomic::Ordering::Relaxed;
    let module = endpoint.module.name();
    // Subscribe before auth, so a fault sent right after the client authenticates is not lost.
    let mut faults = endpoint.faults.subscribe();
    let request = match authenticate(&mut stream, &endpoint, &settings).await {
        Ok(request) => request,
        Err(e) => {
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
    };
    endpoint.count(|r| r.auth_ok += 1);
    let resume = settings.world.resume && request.is_some();
    tracing::info!(module, number, resume, "authenticated");

    let per_minute = NonZeroU32::new(settings.rate_per_minute).unwrap_or(NonZeroU32::MIN);
    let limiter = RateLimiter::direct(Quota::per_minute(per_minute));
    // Subscribe before answering: a frame published in between is in both the answer and the
    // broadcast, and the cursor sends it once.
    let mut cursor = Cursor {
        resume,
        parts: request.as_ref().is_some_and(|r| r.parts),
        sent: 0,
        last_send: tokio::time::Instant::now(),
    };
    let (mut published, intro) = {
        let world = endpoint.world();
        let rx = world.subscribe();
        cursor.sent = world.head();
        drop(world);
        let intro = if resume {
            cursor.answer(&endpoint, request.as_ref())
        } else {
            Vec::new()
        };
        (rx, intro)
    };
    if !send_answer(&mut sink, &endpoint, intro).await {
        return;
    }
    let beat = settings.world.heartbeat.max(Duration::from_millis(10));
    let mut beat_tick = tokio::time::interval(beat / 2);

    let reason = loop {
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    endpoint.count(|r| r.frames_received += 1);
                    if limiter.check().is_err() {
                        endpoint.count(|r| r.rate_limited += 1);
                        let _ = sink.send(close(1008, "rate limit exceeded")).await;
                        break "inbound rate limit";
                    }
                    let from = match &message {
                        Message::Text(text) if resume => resync_request(text),
                        _ => None,
                    };
                    if let Some(from) = from {
                        endpoint.count(|r| r.resyncs += 1);
                        let answer = cursor.answer(&endpoint, Some(&from));
                        if !send_answer(&mut sink, &endpoint, answer).await {
                            break "send failed";
                        }
                        cursor.last_send = tokio::time::Instant::now();
                    }
                }
                Some(Ok(Message::Close(_))) | None => break "client closed",
                Some(Err(e)) => {
                    // The socket layer refuses a frame over `--max-frame-bytes` ("Message too
                    // long"); say so with 1009, and anything else with 1002.
                    let too_big = e.to_string().contains("too long");
                    let (code, why) = if too_big {
                        (1009, "frame too large")
                    } else {
                        (1002, "protocol error")
                    };
                    let _ = sink.send(close(code, why)).await;
                    break why;
                }
                Some(Ok(_)) => {}
            },
            item = published.recv() => {
                let mut items = match item {
                    Ok(item) => vec![item],
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // The frames are lost to this socket; a resuming client sees the gap
                        // at the next frame or heartbeat and asks for them.
                        tracing::warn!(module, number, lost = n, "connection fell behind");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break "endpoint gone",
                };
                while items.len() < BATCH {
                    match published.try_recv() {
                        Ok(item) => items.push(item),
                        Err(_) => break,
                    }
                }
                if endpoint.silent.load(Relaxed) {
                    continue;
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    cursor.take(&endpoint, item, &mut out);
                }
                if !out.is_empty() {
                    if !send_batch(&mut sink, &endpoint, out).await {
                        break "send failed";
                    }
                    cursor.last_send = tokio::time::Instant::now();
                }
            }
            _ = beat_tick.tick(), if resume => {
                if endpoint.silent.load(Relaxed) || cursor.last_send.elapsed() < beat {
                    continue;
                }
                let Some(text) = heartbeat(cursor.sent, now()) else { continue };
                if sink.send(Message::text(text)).await.is_err() {
                    break "send failed";
                }
                endpoint.count(|r| r.heartbeats += 1);
                cursor.last_send = tokio::time::Instant::now();
            }
            fault = faults.recv() => match fault {
                Ok(Fault::Drop) => break "dropped by fault injection",
                Ok(Fault::Malformed) => {
                    if !send_batch(&mut sink, &endpoint, malformed_frames(endpoint.module.main_channel())).await {
                        break "send failed";
                    }
                }
                Ok(Fault::Repeat { frames }) => {
                    let again = endpoint.world().sent_before(cursor.sent, frames);
                    let again = again.iter().map(|t| Message::text(t.as_ref())).collect();
                    if !send_batch(&mut sink, &endpoint, again).await {
                        break "send failed";
                    }
                }
                // The world's faults: their frames arrive through the broadcast.
                Ok(Fault::Flood { .. } | Fault::Script(_) | Fault::NewEpoch) => {}
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
