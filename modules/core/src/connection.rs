//! The connection state machine, sans-IO.
//!
//! [`Connection::handle`] takes an [`Event`] with the current time; [`Connection::poll`]
//! yields the [`Command`]s that follow. The machine never touches a socket, a timer, a
//! clock or a log: the browser transport in the kit carries values in and out, and tests
//! drive it with plain values.
//!
//! Sockets are numbered. An event about a socket other than the current one is ignored, so a
//! late `close` from a socket the machine already gave up on cannot disturb the new one.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::action::{
    ACTION_RESULT, ActError, ActionPayload, ActionResult, GRANTS, Grants, Ledger, TypedAction,
    new_request_id, with_request_id,
};
use crate::channel::AUTH_ERROR;
use crate::config::Config;
use crate::frame::{DropReason, Frame, Provenance, decode_envelope, encode_auth, encode_frame};
use crate::rate::TokenBucket;
use crate::resume::{self, SyncMode, Tracker, Verdict};
use crate::status::{CloseInfo, ConnectionError, Stats, Status, StatusSnapshot};
use crate::time::Instant;

mod machine;
mod outbound;
mod resuming;
#[cfg(test)]
mod tests;

/// Identifies one socket the machine asked the transport to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u64);

/// Close code the client uses for its own closes (normal closure).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code recorded when the browser reports no close frame.
pub const CLOSE_ABNORMAL: u16 = 1006;
/// Close code the client uses when the server stopped answering: the socket went stale, or an
/// answer it waited for (a `sync`, a resync, a snapshot's parts) is overdue.
pub const CLOSE_UNANSWERED: u16 = 4000;
/// The reason of the client's close when a socket did not open in time.
pub const CONNECT_TIMEOUT: &str = "connect timeout";
/// A settled action's entry is forgotten this long after its answer.
const ENTRY_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// Something that happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// The provider mounted. Connects when `auto_connect` is on.
    Start,
    /// The user asked to connect (a no-op when already connected or connecting).
    Connect,
    /// The user asked to reconnect now, closing any current socket.
    Reconnect,
    /// The user asked to disconnect. Nothing automatic undoes this.
    Disconnect,
    /// The socket opened. `token` is the token source's answer at this moment.
    Opened {
        /// Which socket.
        socket: SocketId,
        /// The access token, read now so a refreshed token is used.
        token: Option<String>,
    },
    /// The socket closed.
    Closed {
        /// Which socket.
        socket: SocketId,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A text frame arrived.
    Text {
        /// Which socket.
        socket: SocketId,
        /// The frame's text.
        text: &'a str,
    },
    /// A binary frame arrived (the protocol has none; it is counted and dropped).
    Binary {
        /// Which socket.
        socket: SocketId,
    },
    /// A frame larger than the limit arrived; the transport did not even read it.
    Oversized {
        /// Which socket.
        socket: SocketId,
    },
    /// The transport dropped this many frames of this socket unread (its inbox was full).
    Lost {
        /// Which socket.
        socket: SocketId,
        /// How many frames.
        frames: u64,
    },
    /// A timer fired, or the transport wants deadlines checked.
    Tick,
    /// The browser came back online.
    Online,
    /// The page became visible.
    Visible,
    /// The token source has a different token than the one last used.
    TokenChanged,
}

/// Something the transport must do.
#[derive(Clone, Debug)]
pub enum Command {
    /// Open a new socket with this id (the URL is the transport's).
    Open(SocketId),
    /// Send this text on this socket.
    Send(SocketId, String),
    /// Close this socket. Events from it are ignored from now on.
    Close {
        /// Which socket.
        socket: SocketId,
        /// The close code to send ([`CLOSE_NORMAL`], or [`CLOSE_UNANSWERED`]).
        code: u16,
        /// Why, for the server's log.
        reason: &'static str,
    },
    /// Call `handle(Event::Tick)` at this time (replacing any earlier timer), or never.
    Timer(Option<Instant>),
    /// Give this frame to the subscribers.
    Deliver(Frame),
    /// The status snapshot changed; re-read it with [`Connection::snapshot`].
    StatusChanged,
    /// Log this. Repeats of one kind are already rate-limited.
    Warn(String),
    /// The server answered with `sync` (resume extension). Comes before the frames it
    /// governs: for [`SyncMode::Snapshot`], the live state is to be replaced by the frames
    /// delivered next, up to [`Command::SnapshotEnd`]; for replay and live, nothing was lost
    /// since the last position.
    Resync(SyncMode),
    /// The last frame of a snapshot's state was delivered: the replacement state is whole. A
    /// transport that applies commands in slices shows it only now, never half of it.
    SnapshotEnd,
    /// An action was sent, answered or given up, or the grants changed: re-read
    /// [`Connection::actions`] and [`Connection::grants`].
    ActionsChanged,
    /// What a tab that shares this connection with other tabs passes on to them, beside the
    /// delivered frames (see [`Connection::set_relaying`] and [`crate::share`]).
    Relay(Relayed),
}

/// The server's control frames that a relaying connection reports (see [`Command::Relay`]):
/// they never reach subscribers, but the tabs that follow this one need them.
#[derive(Clone, Debug)]
pub enum Relayed {
    /// A complete `sync`. For a snapshot, its state is delivered next, up to
    /// [`Command::SnapshotEnd`].
    Sync {
        /// What follows.
        mode: SyncMode,
        /// The server's epoch.
        epoch: String,
        /// The position the stream continues after.
        seq: u64,
        /// The server's heartbeat interval, if it sends heartbeats.
        heartbeat_ms: Option<u64>,
    },
    /// A `heartbeat`: the server is there, and has sent everything up to what was applied.
    Heartbeat,
    /// The `data` of a `grants` frame.
    Grants(Box<serde_json::value::RawValue>),
    /// The `data` of an `action_result` that answers no action of this tab's own: another
    /// tab's, sent through this one.
    Answer(Box<serde_json::value::RawValue>),
}

/// What became of a successful send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Handed to the socket.
    Sent,
    /// Held in the outbox until the connection is up (or the rate limit allows).
    Queued,
}

/// Why a send failed. None of them is retried automatically: the caller decides.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Not connected and there is no outbox (the reference behaviour): the frame was dropped.
    #[error("WebSocket is not connected; the frame was dropped")]
    NotConnected,
    /// Over the outbound rate limit: wait and try again.
    #[error("outbound rate limit reached; the frame was dropped")]
    RateLimited,
    /// The outbox is full: too much was sent while disconnected.
    #[error("outbox full; the frame was dropped")]
    OutboxFull,
    /// The data could not be serialised to JSON: a bug in the caller.
    #[error("could not encode the frame: {0}")]
    Encode(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not started (auto_connect off).
    Idle,
    Opening {
        socket: SocketId,
        started: Instant,
    },
    Open {
        socket: SocketId,
        since: Instant,
    },
    /// Waiting for the next automatic attempt.
    Waiting {
        due: Instant,
    },
    /// Past the last automatic attempt; a slow probe is due.
    Probing {
        due: Instant,
    },
    /// Stopped by a fatal close; waits for a new token or a manual reconnect.
    Failed,
    /// Stopped by hand.
    Stopped,
}

/// One connection's state. See the module docs.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    rng: fastrand::Rng,
    phase: Phase,
    next_socket: u64,
    /// Consecutive failed attempts.
    attempt: u32,
    /// True while attempts come from the slow probe.
    probing: bool,
    /// A 1012 took the quick reconnect, and the connection has not been stable since.
    restarted: bool,
    last_close: Option<CloseInfo>,
    error: Option<ConnectionError>,
    /// See [`StatusSnapshot::down_since`].
    down_since: Option<Instant>,
    /// Staleness is judged from this instant: the last frame, the open, or a fresh window.
    quiet_since: Instant,
    /// When the shell's timer is set to fire ([`Command::Timer`]).
    armed: Option<Instant>,
    /// The armed timer has fired (a tick came): the next deadline needs a new one.
    timer_spent: bool,
    outbox: VecDeque<(Instant, String)>,
    bucket: TokenBucket,
    stats: Stats,
    warned: BTreeMap<Cow<'static, str>, Instant>,
    snapshot: StatusSnapshot,
    commands: VecDeque<Command>,
    /// Resume extension: the last position and where the socket stands.
    tracker: Tracker,
    /// Resume extension: stamped frames that came before this socket's `sync`, and when the
    /// first of them came (see [`Verdict::Early`]).
    early: VecDeque<(Frame, u64)>,
    early_since: Option<Instant>,
    /// Resume extension: a snapshot whose parts are still arriving.
    pending: Option<resuming::PendingSnapshot>,
    /// Actions: what this token may do (from the server's `grants`), and what was asked.
    grants: Option<Grants>,
    actions: Ledger,
    /// Report what other tabs need ([`Command::Relay`]).
    relaying: bool,
}

impl Connection {
    /// A connection that has not started. `seed` feeds the reconnect jitter.
    pub fn new(config: Config, seed: u64) -> Self {
        let snapshot = StatusSnapshot {
            status: Status::Disconnected,
            attempt: 0,
            max_attempts: config.backoff.max_attempts,
            next_retry_at: None,
            gave_up: false,
            last_close: None,
            connected_since: None,
            error: None,
            down_since: None,
        };
        Self {
            bucket: TokenBucket::new(config.rate_limit.clone()),
            config,
            rng: fastrand::Rng::with_seed(seed),
            phase: Phase::Idle,
            next_socket: 0,
            attempt: 0,
            probing: false,
            restarted: false,
            last_close: None,
            error: None,
            down_since: None,
            quiet_since: Instant::default(),
            armed: None,
            timer_spent: false,
            outbox: VecDeque::new(),
            stats: Stats::default(),
            warned: BTreeMap::new(),
            snapshot,
            commands: VecDeque::new(),
            tracker: Tracker::new(),
            early: VecDeque::new(),
            early_since: None,
            pending: None,
            grants: None,
            actions: Ledger::default(),
            relaying: false,
        }
    }

    /// Reports, from now on, what a tab that shares this connection with others passes on
    /// ([`Command::Relay`]): the server's `sync`, heartbeats, grants, and the answers to
    /// actions that are not this tab's own.
    pub fn set_relaying(&mut self, on: bool) {
        self.relaying = on;
    }

    /// Sends a frame another tab made (see [`crate::share`]) on this connection, under its
    /// rate limit and outbox rules, as [`Connection::send`] does for this tab's own.
    pub fn forward(&mut self, now: Instant, text: String) -> Result<SendOutcome, SendError> {
        let result = self.send_text(now, text);
        self.after(now);
        result
    }

    /// A connection already open on socket 0 (authenticated with no token), for decoding
    /// recorded or generated frames outside a browser: tests, benches and tools feed it
    /// `Event::Text { socket: SocketId(0), .. }` and read the `Deliver` commands. It does
    /// not track positions (`resume` off): every data frame is delivered as it comes.
    pub fn decoder(config: Config) -> Self {
        let config = Config {
            resume: false,
            ..config
        };
        let mut conn = Self::new(config, 0);
        let now = Instant::default();
        conn.handle(now, Event::Start);
        conn.handle(now, Event::Connect);
        conn.handle(
            now,
            Event::Opened {
                socket: SocketId(0),
                token: None,
            },
        );
        conn.commands.clear();
        conn
    }

    /// The settings this connection runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current status with its details.
    pub fn snapshot(&self) -> &StatusSnapshot {
        &self.snapshot
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The last applied position (resume extension), if the server gives positions.
    pub fn position(&self) -> Option<&resume::Position> {
        self.tracker.position()
    }

    /// The next command for the transport, if any.
    pub fn poll(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The socket that is open or opening, if any.
    pub fn current_socket(&self) -> Option<SocketId> {
        match self.phase {
            Phase::Opening { socket, .. } | Phase::Open { socket, .. } => Some(socket),
            _ => None,
        }
    }

    /// The resume extension's state: the last applied position and the socket's sync.
    pub fn resume(&self) -> &Tracker {
        &self.tracker
    }

    /// What the token may do on this module: `None` until the server's `grants` (a server
    /// that sends none carries out no actions), and again while a new socket authenticates.
    pub fn grants(&self) -> Option<&Grants> {
        self.grants.as_ref()
    }

    /// The actions taken on this connection and where each stands.
    pub fn actions(&self) -> &Ledger {
        &self.actions
    }

    /// Sends an action (see [`crate::action`]) and returns its request id. It is refused at
    /// once, never queued, while offline; the same action on the same entity is not sent
    /// twice while the first waits for its answer; and with no answer within
    /// [`ANSWER_WITHIN`](crate::action::ANSWER_WITHIN) it becomes "no answer".
    pub fn act<T: ActionPayload>(
        &mut self,
        now: Instant,
        action: TypedAction<T>,
        payload: T,
    ) -> Result<String, ActError> {
        let result = self.try_act(now, action, payload);
        self.after(now);
        result
    }

    fn try_act<T: ActionPayload>(
        &mut self,
        now: Instant,
        action: TypedAction<T>,
        payload: T,
    ) -> Result<String, ActError> {
        let Phase::Open { socket, .. } = self.phase else {
            return Err(ActError::Offline);
        };
        let grants = self.grants.as_ref().ok_or(ActError::Unsupported)?;
        if !grants.allows(action.name()) {
            return Err(ActError::NotPermitted);
        }
        let entity = payload.entity();
        let request_id = new_request_id(&mut self.rng);
        let encode = |e: serde_json::Error| ActError::Encode(e.to_string());
        let payload = serde_json::to_string(&payload).map_err(encode)?;
        let data = with_request_id(&payload, &request_id)
            .ok_or_else(|| ActError::Encode("the payload is not a JSON object".to_owned()))?;
        let data = serde_json::value::RawValue::from_string(data).map_err(encode)?;
        let text = encode_frame(action.name(), &data, now).map_err(encode)?;
        self.actions.prune(now, ENTRY_AGE);
        self.actions
            .begin(now, &request_id, action.name(), &entity, text.clone())?;
        if !self.bucket.try_take(now) {
            self.actions.abandon(&request_id, &entity);
            self.stats.rate_limited += 1;
            return Err(ActError::RateLimited);
        }
        self.commands.push_back(Command::Send(socket, text));
        self.stats.frames_out += 1;
        self.commands.push_back(Command::ActionsChanged);
        Ok(request_id)
    }

    /// An `action_result` or `grants` frame.
    fn on_action_frame(
        &mut self,
        now: Instant,
        kind: &str,
        data: &serde_json::value::RawValue,
    ) -> Result<(), DropReason> {
        if kind == GRANTS {
            let grants = Grants::from_json(data.get()).ok_or(DropReason::BadAnswer)?;
            self.grants = Some(grants);
            if self.relaying {
                self.commands
                    .push_back(Command::Relay(Relayed::Grants(data.to_owned())));
            }
        } else {
            let result = ActionResult::from_json(data.get()).ok_or(DropReason::BadAnswer)?;
            let ours = self.actions.answer(now, result).is_some();
            if !ours && self.relaying {
                self.commands
                    .push_back(Command::Relay(Relayed::Answer(data.to_owned())));
            } else if !ours {
                self.warn(now, Cow::Borrowed("unmatched_answer"), || {
                    "an action_result answered no action of this client".to_owned()
                });
            }
        }
        self.commands.push_back(Command::ActionsChanged);
        Ok(())
    }

    /// Frames waiting in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Feeds one event in.
    pub fn handle(&mut self, now: Instant, event: Event<'_>) {
        self.dispatch(now, event);
        self.after(now);
    }

    /// Sends `data` on channel `kind` as `{"type","data","timestamp": now}`.
    pub fn send<T: Serialize + ?Sized>(
        &mut self,
        now: Instant,
        kind: &str,
        data: &T,
    ) -> Result<SendOutcome, SendError> {
        let text = encode_frame(kind, data, now).map_err(|e| SendError::Encode(e.to_string()))?;
        let result = self.send_text(now, text);
        self.after(now);
        result
    }

    /// Counts a payload on `channel` that did not fit its type. The kit calls this when a
    /// typed subscriber fails to decode, so the error shows up with the connection's counters.
    pub fn record_decode_error(&mut self, now: Instant, channel: &str, detail: &str) {
        if let Some(stats) = self.stats.channels.get_mut(channel) {
            stats.decode_errors += 1;
        }
        self.warn(now, Cow::Owned(format!("decode:{channel}")), || {
            format!("dropped a `{channel}` payload of the wrong shape: {detail}")
        });
    }

    /// Takes a frame that arrived on an open socket: control frames are handled here, data
    /// frames are checked and queued for delivery. `Err` is the reason it was dropped.
    fn accept_text(&mut self, now: Instant, text: &str) -> Result<(), DropReason> {
        let env = decode_envelope(text, self.config.max_frame_bytes)?;
        if env.kind == AUTH_ERROR {
            let reason = serde_json::from_str::<serde_json::Value>(env.data.get())
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "auth_error".to_owned());
            self.fail(now, ConnectionError::AuthRejected { code: None, reason });
            return Ok(());
        }
        if env.kind == ACTION_RESULT || env.kind == GRANTS {
            return self.on_action_frame(now, &env.kind, env.data);
        }
        if self.config.resume {
            if env.kind == resume::SYNC {
                return self.on_sync(now, env.data);
            }
            if env.kind == resume::SNAPSHOT_PART {
                return self.on_snapshot_part(now, env.data);
            }
            if env.kind == resume::HEARTBEAT {
                let seq = serde_json::from_str::<resume::Heartbeat>(env.data.get())
                    .map_err(|_| DropReason::BadPosition)?
                    .seq;
                self.stats.heartbeats += 1;
                if self.relaying {
                    self.commands.push_back(Command::Relay(Relayed::Heartbeat));
                }
                if self.tracker.is_current(seq) {
                    self.stats.in_sync_at = Some(now);
                } else if self.tracker.heartbeat_at(now, seq) {
                    self.on_gap(now);
                }
                return Ok(());
            }
        }
        let (frame, seq) = self.data_frame(env)?;
        let verdict = match seq {
            Some(seq) if self.config.resume => self.tracker.frame(now, seq),
            _ => Verdict::Apply,
        };
        match (verdict, seq) {
            (Verdict::Early, Some(seq)) => self.hold_early(now, frame, seq),
            _ => self.judged(now, frame, verdict),
        }
        Ok(())
    }

    /// Acts on the tracker's verdict on a stamped frame.
    fn judged(&mut self, now: Instant, frame: Frame, verdict: Verdict) {
        match verdict {
            Verdict::Apply => self.deliver(now, frame),
            Verdict::Duplicate => self.stats.duplicates += 1,
            // `Early` only comes before a `sync`, and early frames are judged after it.
            Verdict::Held | Verdict::Early => self.stats.held += 1,
            Verdict::Gap => self.on_gap(now),
        }
    }

    /// Counts a frame on its channel and queues it for the subscribers.
    fn deliver(&mut self, now: Instant, frame: Frame) {
        let channels = &mut self.stats.channels;
        // A lookup by `&str` first: the key is allocated once per channel, not per frame.
        if !channels.contains_key(frame.channel()) {
            channels.insert(frame.channel_name(), Default::default());
        }
        if let Some(stats) = channels.get_mut(frame.channel()) {
            stats.frames += 1;
            stats.last_at = Some(now);
        }
        self.commands.push_back(Command::Deliver(frame));
    }

    /// A data envelope as a frame on one of the declared channels, with its position.
    fn data_frame(
        &self,
        env: crate::frame::Envelope<'_>,
    ) -> Result<(Frame, Option<u64>), DropReason> {
        let channel: Cow<'static, str> = if self.config.channels.is_empty() {
            Cow::Owned(env.kind.into_owned())
        } else {
            match self.config.channels.iter().find(|c| **c == env.kind) {
                Some(c) => Cow::Borrowed(*c),
                None => return Err(DropReason::UnknownChannel),
            }
        };
        let frame = Frame::from_parts(
            channel,
            env.data.to_owned(),
            env.timestamp,
            Provenance::Live,
        )
        .at(env.seq);
        Ok((frame, env.seq))
    }

    /// Counts and logs a dropped frame.
    pub(super) fn dropped(&mut self, now: Instant, reason: DropReason) {
        self.stats.count_drop(reason);
        self.warn(now, Cow::Borrowed(reason.as_str()), || {
            format!("dropped an inbound frame: {reason}")
        });
    }
}
