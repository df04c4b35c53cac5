//! One client connection: auth first, then the feed's frames until either side stops.
//!
//! The logic is generic over a `Sink` and a `Stream` of messages, so the unit tests drive it
//! through in-memory channels with no network at all. One task runs both directions with
//! `select!`: inbound frames, the feed's broadcast, the heartbeat, the token's expiry,
//! interrupts and shutdown, and whichever ends the connection ends all of it.
//!
//! A client whose auth frame carries `resume` (docs/PROTOCOL.md, "Resume") first gets the
//! feed's answer to its position (a replay, a snapshot, or "live"), then every frame after
//! it, a heartbeat whenever the socket has been quiet for the announced interval, a new
//! answer when it sends `resync`, and a snapshot when the feed starts a new epoch. Other
//! clients get the frames only, as from the reference server.
//!
//! Close codes (docs/PROTOCOL.md, "Close codes"): 4001 for a missing, bad or expired token
//! (also when it expires while the socket is open), 4003 for a module the token does not
//! name, 1008 for the inbound rate limit, 1009 for an oversized frame, 4008 for a client so
//! slow that the feed's broadcast ring passed it (it resumes from its position), and 1012
//! when the server shuts down (restarting: reconnect at once, to another node).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{Quota, RateLimiter};
use switchboard_core::resume::{RESYNC, SyncMode};
use tokio::sync::{broadcast, watch};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use switchboard_core::action::{ACTION_RESULT, ActionResult, GRANTS};
use switchboard_core::frame::encode_frame;

use crate::action::{Inbound, MAX_IN_FLIGHT};
use crate::auth::{AuthError, Claims, Verifier, check_auth_frame};
use crate::endpoint::{Endpoint, Interrupt};
use crate::feed::{FeedSettings, Published, ResumeFrom, heartbeat};
use crate::now;

/// The close code for a client that fell so far behind that frames meant for it were
/// overwritten: it reconnects and resumes from its position.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// The close code when the server shuts down: the client reconnects at once.
pub const CLOSE_RESTART: u16 = 1012;

/// Limits and keys every connection shares.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Checks operator tokens.
    pub auth: Arc<Verifier>,
    /// How long a client has to send its auth frame.
    pub auth_timeout: Duration,
    /// Inbound frames allowed per minute (the reference suggests 100).
    pub rate_per_minute: u32,
    /// Frames larger than this end the connection (1009); enforced by the upgrade.
    pub max_frame_bytes: usize,
    /// How each module's feed keeps its history and speaks to clients.
    pub feed: FeedSettings,
    /// Sockets one token may hold open at once, over every module.
    pub per_token: TokenSlots,
}

/// The close code for a token over its socket limit: try again later (with backoff).
pub const CLOSE_TRY_LATER: u16 = 1013;

/// How many sockets each token holds open, against a limit.
#[derive(Clone, Debug)]
pub struct TokenSlots {
    max: usize,
    open: Arc<std::sync::Mutex<std::collections::HashMap<u64, usize>>>,
}

impl TokenSlots {
    /// At most `max` sockets per token.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// Takes a slot for the token these claims came from (told apart by subject, issue and
    /// expiry, kept as a hash), or `None` at the limit.
    fn take(&self, claims: &Claims) -> Option<TokenSlot> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&claims.sub, claims.iat, claims.exp, &claims.iss).hash(&mut hasher);
        let key = hasher.finish();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(TokenSlot {
            key,
            open: self.open.clone(),
        })
    }
}

impl Default for TokenSlots {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

/// A socket's place under its token's limit, given back when it ends.
struct TokenSlot {
    key: u64,
    open: Arc<std::sync::Mutex<std::collections::HashMap<u64, usize>>>,
}

impl Drop for TokenSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// How long a close frame may take to go out: a client too slow to take it is simply
/// dropped.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);

/// Sends a close frame, waiting no longer than [`CLOSE_WITHIN`].
async fn close_with<S: Sink<Message> + Unpin>(sink: &mut S, code: u16, reason: &'static str) {
    let _ = tokio::time::timeout(CLOSE_WITHIN, sink.send(close(code, reason))).await;
}

/// Malformed frames, one of each kind a client must survive (the development backend's
/// `malformed` fault sends them).
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

/// Checks the auth frame; on success, returns the token's claims and the client's resume
/// request, if it made one.
async fn authenticate<R>(
    stream: &mut R,
    endpoint: &Endpoint,
    settings: &Settings,
) -> Result<Accepted, AuthError>
where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let first = tokio::time::timeout(settings.auth_timeout, stream.next()).await;
    let text = match first {
        Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
        _ => return Err(AuthError::Missing),
    };
    endpoint.count(|r| r.first_frame(&redact(&text)));
    let claims = check_auth_frame(&settings.auth, &text)?;
    if endpoint
        .reject_auth
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(AuthError::Rejected);
    }
    if !claims.may_see(endpoint.module.name()) {
        return Err(AuthError::Forbidden);
    }
    #[derive(serde::Deserialize)]
    struct Extensions {
        resume: Option<ResumeFrom>,
        #[serde(default)]
        actions: bool,
    }
    let (resume, actions) = serde_json::from_str::<Extensions>(&text)
        .map(|e| (e.resume, e.actions))
        .unwrap_or((None, false));
    Ok(Accepted {
        claims,
        resume,
        actions,
    })
}

/// A client that passed auth.
struct Accepted {
    claims: Claims,
    /// Its resume request, if it made one.
    resume: Option<ResumeFrom>,
    /// It asked for actions (`"actions": true`): it gets `grants` and its answers.
    actions: bool,
}

/// Takes a client's frame that is not `resync`: an action is checked and carried out (its
/// answer joins `answers`); anything else is ignored, as the reference server does.
fn client_frame(
    endpoint: &Endpoint,
    claims: &Claims,
    text: &str,
    answers: &mut FuturesUnordered<BoxFuture<'static, ActionResult>>,
) {
    let Ok(envelope) = switchboard_core::frame::decode_envelope(text, usize::MAX) else {
        return;
    };
    if endpoint.module.action(&envelope.kind).is_none() {
        return;
    }
    endpoint.count(|r| r.actions_received += 1);
    if answers.len() >= MAX_IN_FLIGHT {
        // Answered at once, and not remembered: a resend later is carried out.
        let id = serde_json::from_str::<serde_json::Value>(envelope.data.get())
            .ok()
            .and_then(|v| v.get("request_id")?.as_str().map(str::to_owned));
        if let Some(id) = id {
            let refused = ActionResult::refused(
                &id,
                &envelope.kind,
                "too many actions waiting for their answers; try again",
            );
            answers.push(futures_util::future::ready(refused).boxed());
        }
        return;
    }
    match endpoint.act(claims, &envelope.kind, envelope.data.get()) {
        Inbound::NotAnAction => {}
        Inbound::Unanswerable(why) => {
            endpoint.count(|r| r.actions_unanswerable += 1);
            tracing::warn!(module = endpoint.module.name(), action = %envelope.kind, why, "an action that cannot be answered");
        }
        Inbound::Answer { answer, repeat } => {
            if repeat {
                endpoint.count(|r| r.actions_repeated += 1);
            }
            answers.push(answer);
        }
    }
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
    let sent = tokio::time::timeout(
        SEND_WITHIN,
        sink.send_all(&mut futures_util::stream::iter(batch.into_iter().map(Ok))),
    )
    .await;
    match sent {
        Ok(Ok(())) => {
            endpoint.count(|r| r.frames_sent += n);
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            // A client that takes nothing for this long is not reading: it holds no queue
            // here (the ring is shared), but it would hold its task for ever.
            endpoint.count(|r| r.slow_closed += 1);
            close_with(sink, CLOSE_TOO_SLOW, "too slow: resume from your position").await;
            false
        }
    }
}

/// A batch that cannot be sent within this long closes the socket with 4008.
const SEND_WITHIN: Duration = Duration::from_secs(10);

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

/// What one connection has sent of the feed.
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
    /// The feed's answer to a client at `from`, as messages; moves the cursor to the head.
    fn answer(&mut self, endpoint: &Endpoint, from: Option<&ResumeFrom>) -> Vec<Message> {
        let feed = endpoint.feed();
        let mode = feed.mode_for(from);
        let (texts, head) = feed.answer(from, now());
        drop(feed);
        self.sent = head;
        endpoint.count(|r| match mode {
            SyncMode::Snapshot => r.snapshots += 1,
            SyncMode::Replay => r.replays += 1,
            SyncMode::Live => {}
        });
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
    let mut interrupts = endpoint.interrupts.subscribe();
    let Accepted {
        claims,
        resume: request,
        actions,
    } = match authenticate(&mut stream, &endpoint, &settings).await {
        Ok(accepted) => accepted,
        Err(e) => {
            endpoint.count(|r| {
                r.auth_rejected += 1;
                *r.auth_failures.entry(e.label()).or_default() += 1;
            });
            tracing::info!(
                module,
                number,
                reason = e.reason(),
                code = e.close_code(),
                "auth refused"
            );
            close_with(&mut sink, e.close_code(), e.reason()).await;
            return;
        }
    };
    let Some(_slot) = settings.per_token.take(&claims) else {
        endpoint.count(|r| r.refused += 1);
        tracing::info!(
            module,
            number,
            "too many sockets for this token; closing with 1013"
        );
        close_with(
            &mut sink,
            CLOSE_TRY_LATER,
            "too many connections for this token",
        )
        .await;
        return;
    };
    endpoint.count(|r| r.auth_ok += 1);
    let resume = settings.feed.resume && request.is_some();
    tracing::info!(module, number, resume, sub = claims.sub, "authenticated");
    // The socket lives no longer than its token.
    let expiry = tokio::time::sleep(claims.remaining());
    tokio::pin!(expiry);

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
        let feed = endpoint.feed();
        let rx = feed.subscribe();
        cursor.sent = feed.head();
        drop(feed);
        let intro = if resume {
            cursor.answer(&endpoint, request.as_ref())
        } else {
            Vec::new()
        };
        (rx, intro)
    };
    if actions {
        let grants = endpoint.actions.grants(endpoint.module, &claims);
        let Ok(text) = encode_frame(GRANTS, &grants, now()) else {
            return;
        };
        if sink.send(Message::text(text)).await.is_err() {
            return;
        }
    }
    if !send_answer(&mut sink, &endpoint, intro).await {
        return;
    }
    let mut answers = FuturesUnordered::new();
    let beat = settings.feed.heartbeat.max(Duration::from_millis(10));
    let mut beat_tick = tokio::time::interval(beat / 2);

    let reason = loop {
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    endpoint.count(|r| r.frames_received += 1);
                    if limiter.check().is_err() {
                        endpoint.count(|r| r.rate_limited += 1);
                        close_with(&mut sink, 1008, "rate limit exceeded").await;
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
                    } else if let Message::Text(text) = &message {
                        client_frame(&endpoint, &claims, text, &mut answers);
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
                    close_with(&mut sink, code, why).await;
                    break why;
                }
                Some(Ok(_)) => {}
            },
            item = published.recv() => {
                let mut items = match item {
                    Ok(item) => vec![item],
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // The ring passed this socket: the frames meant for it are gone, and
                        // a socket that slow would only fall further behind. Close it; the
                        // client resumes from its position, from the history.
                        tracing::warn!(module, number, lost = n, "connection fell behind; closing with 4008");
                        endpoint.count(|r| r.slow_closed += 1);
                        close_with(&mut sink, CLOSE_TOO_SLOW, "too slow: resume from your position").await;
                        break "too slow";
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
            Some(result) = answers.next(), if !answers.is_empty() => {
                let Ok(text) = encode_frame(ACTION_RESULT, &result, now()) else { continue };
                if sink.send(Message::text(text)).await.is_err() {
                    break "send failed";
                }
                endpoint.count(|r| r.actions_answered += 1);
            }
            () = &mut expiry => {
                endpoint.count(|r| r.expired_while_open += 1);
                close_with(&mut sink, 4001, AuthError::Expired.reason()).await;
                break "token expired";
            }
            interrupt = interrupts.recv() => match interrupt {
                Ok(Interrupt::Drop) => break "dropped by an interrupt",
                Ok(Interrupt::Send(messages)) => {
                    if !send_batch(&mut sink, &endpoint, messages.to_vec()).await {
                        break "send failed";
                    }
                }
                Ok(Interrupt::Repeat { frames }) => {
                    let again = endpoint.feed().sent_before(cursor.sent, frames);
                    let again = again.iter().map(|t| Message::text(t.as_ref())).collect();
                    if !send_batch(&mut sink, &endpoint, again).await {
                        break "send failed";
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break "endpoint gone",
            },
            _ = shutdown.changed() => {
                close_with(&mut sink, CLOSE_RESTART, "server restarting").await;
                break "server shutdown";
            }
        }
    };
    tracing::info!(module, number, reason, "connection ended");
}

#[cfg(test)]
mod tests;
