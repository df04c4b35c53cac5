//! One WebSocket endpoint per module: its feed, its counters, and the levers the
//! development backend pulls (the gateway exposes none of them).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Message;
use serde::Serialize;
use switchboard_core::Frame;
use switchboard_core::simulator::{ActionSpec, Actor, Backend, Keep};
use switchboard_registry::BACKENDS;
use tokio::sync::broadcast;

use crate::action::Actions;
use crate::feed::{Feed, FeedSettings};

/// A module served at `/ws/<name>`: one of the registry's [`BACKENDS`], so every module in
/// the registry is served with no edit here.
#[derive(Clone, Copy, Debug)]
pub struct Module(&'static Backend);

impl PartialEq for Module {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Module {}

impl std::hash::Hash for Module {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl Module {
    /// Every module, in the registry's order.
    pub fn all() -> impl Iterator<Item = Module> {
        BACKENDS.iter().map(|b| Module(b))
    }

    /// The module served at `/ws/<name>`.
    pub fn named(name: &str) -> Option<Module> {
        Self::all().find(|m| m.name() == name)
    }

    /// The path segment: `/ws/<name>`.
    pub fn name(self) -> &'static str {
        self.0.id
    }

    /// A fresh generator: the same one the browser runs while offline.
    pub fn simulator(self) -> Box<dyn Actor + Send> {
        (self.0.simulator)()
    }

    /// The module's main channel: what floods and wrong-shape frames use.
    pub fn main_channel(self) -> &'static str {
        self.0.main_channel
    }

    /// Every channel the module receives.
    pub fn channels(self) -> &'static [&'static str] {
        self.0.channels
    }

    /// Checks a frame on one of the module's channels against its payload type: `None` when
    /// the channel is not the module's (see [`Backend::check`]).
    pub fn check(self, frame: &Frame) -> Option<Result<(), String>> {
        (self.0.check)(frame)
    }

    /// A frame of this module from its JSON text (`{"type","data","timestamp"}`), checked:
    /// the type is one of the module's channels and the data decodes as its payload type.
    /// The error says why not, in words.
    pub fn frame_from(self, text: &str) -> Result<Frame, String> {
        let envelope = switchboard_core::frame::decode_envelope(text, usize::MAX)
            .map_err(|e| format!("not a frame: {e:?}"))?;
        let frame = Frame::new(
            envelope.kind.into_owned(),
            envelope.data,
            envelope.timestamp,
            switchboard_core::Provenance::Live,
        )
        .map_err(|e| format!("not a frame: {e}"))?;
        match self.check(&frame) {
            Some(Ok(())) => Ok(frame),
            Some(Err(why)) => Err(format!("{}: {why}", frame.channel())),
            None => Err(format!(
                "`{}` is not a channel of {} (its channels: {})",
                frame.channel(),
                self.name(),
                self.channels().join(", ")
            )),
        }
    }

    /// The module's actions.
    pub fn actions(self) -> &'static [ActionSpec] {
        self.0.actions
    }

    /// The action named `name`, if the module has it.
    pub fn action(self, name: &str) -> Option<&'static ActionSpec> {
        self.0.action(name)
    }

    /// How a frame changes the module's state (see [`Backend::keep`]).
    pub fn keep(self) -> fn(&Frame) -> Keep {
        self.0.keep
    }
}

/// A one-shot instruction to every open connection of an endpoint. The gateway itself
/// never sends one; the development backend's fault injection does.
#[derive(Clone, Debug)]
pub enum Interrupt {
    /// Drop the TCP connection without a close frame (the client sees 1006).
    Drop,
    /// Send these messages as they are (malformed frames, for instance).
    Send(Arc<[Message]>),
    /// Send the last `frames` frames sent once more, as a flaky link or a server racing its
    /// own replay would: a client must apply none of them twice.
    Repeat { frames: usize },
}

/// What an endpoint has seen, for the control endpoint and the tests.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Upgrades accepted.
    pub connections: u64,
    /// Connections open now.
    pub open: u64,
    /// Auth frames accepted.
    pub auth_ok: u64,
    /// Auth refused (bad, expired, late, missing or injected).
    pub auth_rejected: u64,
    /// Auth refusals by reason (the [`AuthError::label`]s), including 4003 for a module the
    /// token does not name.
    ///
    /// [`AuthError::label`]: crate::auth::AuthError::label
    pub auth_failures: std::collections::BTreeMap<&'static str, u64>,
    /// Upgrades refused (refuse window, connection cap, Origin).
    pub refused: u64,
    /// Frames sent, every kind.
    pub frames_sent: u64,
    /// Frames received after auth.
    pub frames_received: u64,
    /// Connections closed for the inbound rate limit.
    pub rate_limited: u64,
    /// `resync` requests answered (resume extension).
    pub resyncs: u64,
    /// Answers that replayed the history (resume extension).
    pub replays: u64,
    /// Answers that sent a snapshot (resume extension).
    pub snapshots: u64,
    /// Connections closed with 4008 for falling too far behind the feed.
    pub slow_closed: u64,
    /// Connections closed with 4001 when their token expired while they were open.
    pub expired_while_open: u64,
    /// Heartbeats sent (resume extension); not in `frames_sent`.
    pub heartbeats: u64,
    /// Action frames received, repeats included.
    pub actions_received: u64,
    /// Actions whose request id was seen before: answered again, not carried out again.
    pub actions_repeated: u64,
    /// Action frames with no usable `request_id`: not answerable, ignored.
    pub actions_unanswerable: u64,
    /// Answers sent (`action_result`), repeats included.
    pub actions_answered: u64,
    /// Accept times, in ms since the Unix epoch (for backoff measurements): the latest
    /// [`Report::KEEP`].
    pub accepted_at: Vec<u64>,
    /// The first frame of each connection, with the token replaced by its length and cut to
    /// [`Report::FRAME_CHARS`]: the latest [`Report::KEEP`].
    pub first_frames: Vec<String>,
}

impl Report {
    /// How many accept times and first frames a report keeps: the counters grow, the lists
    /// do not, however long a shared demo runs.
    pub const KEEP: usize = 256;
    /// The longest first frame a report keeps, in characters.
    pub const FRAME_CHARS: usize = 512;

    /// Records a connection's accept time, forgetting the oldest past [`Report::KEEP`].
    pub fn accepted(&mut self, at_ms: u64) {
        keep_latest(&mut self.accepted_at, at_ms);
    }

    /// Records a connection's (redacted) first frame, cut to [`Report::FRAME_CHARS`].
    pub fn first_frame(&mut self, frame: &str) {
        let cut: String = frame.chars().take(Self::FRAME_CHARS).collect();
        keep_latest(&mut self.first_frames, cut);
    }
}

fn keep_latest<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= Report::KEEP {
        list.drain(..=list.len() - Report::KEEP);
    }
    list.push(item);
}

/// One endpoint's live state.
#[derive(Debug)]
pub struct Endpoint {
    /// Which module.
    pub module: Module,
    /// Interrupts go to every open connection.
    pub interrupts: broadcast::Sender<Interrupt>,
    /// Keep sockets open but send nothing, heartbeats included: a half-open connection.
    pub silent: AtomicBool,
    /// The module's feed, shared by every connection.
    feed: Mutex<Feed>,
    /// Reject every auth frame.
    pub reject_auth: AtomicBool,
    /// Sockets are accepted: the feed is complete. A broker that rebuilds the feed from a
    /// stream at start clears it until it has read the stream to its end, so that no client
    /// gets a snapshot of half of it (the upgrade answers 503 meanwhile).
    pub serving: AtomicBool,
    /// Refuse upgrades until this time (ms since the epoch).
    pub refuse_until: AtomicU64,
    /// Counters.
    pub report: Mutex<Report>,
    /// The module's actions: who carries them out, the request ids seen, the audit log.
    pub actions: Actions,
}

impl Endpoint {
    /// An endpoint whose feed starts empty, in a new epoch.
    pub fn new(module: Module, settings: &FeedSettings) -> Self {
        Self {
            module,
            interrupts: broadcast::channel(64).0,
            silent: AtomicBool::new(false),
            feed: Mutex::new(Feed::new(module, settings.clone(), crate::now())),
            reject_auth: AtomicBool::new(false),
            serving: AtomicBool::new(true),
            refuse_until: AtomicU64::new(0),
            report: Mutex::new(Report::default()),
            actions: Actions::default(),
        }
    }

    /// Updates the counters. A poisoned lock only means a test thread panicked; the counters
    /// are still usable.
    pub fn count(&self, f: impl FnOnce(&mut Report)) {
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut report);
    }

    /// A copy of the counters.
    pub fn report(&self) -> Report {
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether new connections are refused right now.
    pub fn refusing(&self, now_ms: u64) -> bool {
        self.refuse_until.load(Ordering::Relaxed) > now_ms
    }

    /// The feed. A poisoned lock only means a test thread panicked; the feed is still
    /// consistent, since no step of it can panic half-way.
    pub fn feed(&self) -> MutexGuard<'_, Feed> {
        self.feed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `interrupt` to every open connection; a connection that is not open yet is not
    /// reached, which is not an error.
    pub fn interrupt(&self, interrupt: Interrupt) {
        let _ = self.interrupts.send(interrupt);
    }
}

#[cfg(test)]
mod tests {
    use super::Report;

    #[test]
    fn a_report_keeps_the_latest_entries_only() {
        let mut r = Report::default();
        for i in 0..1000 {
            r.accepted(i);
            r.first_frame(&"x".repeat(2000));
        }
        assert_eq!(r.accepted_at.len(), Report::KEEP);
        assert_eq!(r.accepted_at.first(), Some(&(1000 - Report::KEEP as u64)));
        assert_eq!(r.accepted_at.last(), Some(&999));
        assert_eq!(r.first_frames.len(), Report::KEEP);
        assert!(
            r.first_frames
                .iter()
                .all(|f| f.len() == Report::FRAME_CHARS)
        );
    }
}
