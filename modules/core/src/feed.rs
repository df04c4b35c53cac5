//! One module's feed as the server side of the resume extension keeps it: positions, a
//! bounded history, and the state (docs/PROTOCOL.md, "Resume").
//!
//! Frames are appended once: each gets its position (`seq`) in the current epoch, goes into
//! a history bounded by count and by age, and is folded into the module's state through
//! [`Backend::keep`], encoded once for every reader. A client that resumes gets a replay from
//! the history when it can, and a snapshot of the state otherwise ([`Feed::answer`]). A new
//! epoch (a restart, a recreated stream) forgets the history, not the state.
//!
//! Two servers keep one: the gateway, for every connection to a module, and a browser tab
//! that leads a module's connection ([`crate::share`]), for the tabs that follow it.
//!
//! [`Backend::keep`]: crate::simulator::Backend::keep

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::frame::encode_sequenced;
use crate::resume::{HEARTBEAT, SNAPSHOT_PART, SYNC, SyncMode};
use crate::simulator::Keep;
use crate::{Frame, Instant};

/// How a feed keeps its history and speaks to clients.
#[derive(Clone, Debug)]
pub struct FeedSettings {
    /// Speak the resume extension: positions on frames, `sync` after auth, heartbeats. Off,
    /// the server behaves like the reference's: changes only, no positions.
    pub resume: bool,
    /// The most frames the history keeps.
    pub history_len: usize,
    /// The oldest frame the history keeps (and the span of recent samples a snapshot carries).
    pub history_age: Duration,
    /// A quiet socket gets a heartbeat this often.
    pub heartbeat: Duration,
    /// A finished entry of the state (a paid or void invoice, a resolved or closed ticket,
    /// see [`Keep::Settled`]) is forgotten this long after it finished.
    ///
    /// [`Keep::Settled`]: crate::simulator::Keep::Settled
    pub settled_age: Duration,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            resume: true,
            history_len: 10_000,
            history_age: Duration::from_secs(300),
            heartbeat: Duration::from_secs(5),
            settled_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// The most entries a state keeps; the oldest entry goes first past it. An ISP's live
/// sessions fit: a snapshot of this many goes out in parts.
pub const MAX_STATE_ENTRIES: usize = 100_000;

/// A snapshot's state goes out in parts of about this many bytes to a client that takes
/// parts (docs/PROTOCOL.md, "Snapshots in parts"): a quarter of the client's frame limit.
pub const PART_BYTES: usize = 256 << 10;

/// The most recent samples a state keeps (within the history's age).
pub const MAX_RECENT: usize = 1_000;

/// Where a client says it stands, from its auth or `resync` frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ResumeFrom {
    /// The client's epoch, if it has a position.
    #[serde(default)]
    pub epoch: Option<String>,
    /// The client's last applied position.
    #[serde(default)]
    pub seq: Option<u64>,
    /// The client takes a snapshot in parts.
    #[serde(default)]
    pub parts: bool,
}

/// One entry of the state.
#[derive(Debug)]
struct Kept {
    /// When the entry first appeared, in publication order.
    order: u64,
    /// The frame that rebuilds it.
    frame: Frame,
    /// When it finished, for a settled entry.
    settled: Option<Instant>,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    at: Instant,
    text: Arc<str>,
}

/// One module's feed. See the module docs.
pub struct Feed {
    name: String,
    keep: fn(&Frame) -> Keep,
    settings: FeedSettings,
    epoch: String,
    epochs: u64,
    head: u64,
    history: VecDeque<Entry>,
    state: HashMap<String, Kept>,
    /// The state's keys in the order they first appeared: a snapshot's order, and eviction.
    by_order: BTreeMap<u64, String>,
    /// Settled entries, oldest first, to forget after [`FeedSettings::settled_age`].
    settled: VecDeque<(Instant, String)>,
    order: u64,
    recent: VecDeque<(Instant, Frame)>,
    /// The heartbeat interval announced in a `sync`, if heartbeats are sent.
    heartbeat: Option<Duration>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("module", &self.name)
            .field("epoch", &self.epoch)
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct SyncData<'a> {
    mode: SyncMode,
    epoch: &'a str,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_ms: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    state: Vec<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parts: Option<u32>,
}

#[derive(Serialize)]
struct PartData<'a> {
    epoch: &'a str,
    seq: u64,
    part: u32,
    state: Vec<Box<RawValue>>,
}

/// Splits a snapshot's state into parts of about `max` bytes (at least one frame each).
fn split(state: Vec<Box<RawValue>>, max: usize) -> Vec<Vec<Box<RawValue>>> {
    let mut parts = vec![Vec::new()];
    let mut size = 0;
    for frame in state {
        let len = frame.get().len() + 1;
        if size + len > max && parts.last().is_some_and(|p| !p.is_empty()) {
            parts.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(part) = parts.last_mut() {
            part.push(frame);
        }
    }
    parts
}

impl Feed {
    /// An empty feed of the module `name` at `now`, in a new epoch; `keep` is the module's
    /// [`Backend::keep`](crate::simulator::Backend::keep).
    pub fn new(
        name: impl Into<String>,
        keep: fn(&Frame) -> Keep,
        settings: FeedSettings,
        now: Instant,
    ) -> Self {
        let mut feed = Self {
            name: name.into(),
            keep,
            epoch: String::new(),
            epochs: 0,
            head: 0,
            history: VecDeque::new(),
            state: HashMap::new(),
            by_order: BTreeMap::new(),
            settled: VecDeque::new(),
            order: 0,
            recent: VecDeque::new(),
            heartbeat: Some(settings.heartbeat),
            settings,
        };
        feed.epoch = feed.next_epoch_name(now);
        feed
    }

    fn next_epoch_name(&mut self, now: Instant) -> String {
        self.epochs += 1;
        format!("{}-{:x}-{}", self.name, now.as_millis(), self.epochs)
    }

    /// The settings.
    pub fn settings(&self) -> &FeedSettings {
        &self.settings
    }

    /// Announces heartbeats at `every` in the `sync`s from now on, or none: a tab that
    /// relays a server's feed announces what the server announced.
    pub fn set_heartbeat(&mut self, every: Option<Duration>) {
        self.heartbeat = every;
    }

    /// The stream continues after `seq` in `epoch` (a relayed server's `sync`) where this feed
    /// stood elsewhere: a history of other positions cannot replay into it, so it is dropped;
    /// the state stays.
    pub fn continue_at(&mut self, epoch: &str, seq: u64) {
        if self.epoch != epoch || self.head != seq {
            epoch.clone_into(&mut self.epoch);
            self.head = seq;
            self.history.clear();
        }
    }

    /// The current epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The latest position.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Publishes frames: each gets the next position and goes into the history and the
    /// state. Returns each one's position and text, encoded once for every reader.
    pub fn publish(&mut self, frames: Vec<Frame>, now: Instant) -> Vec<(u64, Arc<str>)> {
        let published = frames
            .into_iter()
            .filter_map(|frame| self.append(self.head + 1, frame, now))
            .collect();
        self.prune(now);
        published
    }

    /// Appends one frame at a position a broker gave it (a JetStream stream sequence). A
    /// position at or before the head was appended already and is ignored (`false`). A
    /// position past the next one is a hole in the stream (messages deleted from it): the
    /// history cannot replay across it, so it restarts at this frame, and a client from
    /// before the hole gets a snapshot rather than a replay that skips frames. Returns the
    /// frame's text when it was appended.
    pub fn append_at(&mut self, seq: u64, frame: Frame, now: Instant) -> Option<Arc<str>> {
        if seq <= self.head {
            return None;
        }
        if seq > self.head + 1 {
            self.history.clear();
        }
        let appended = self.append(seq, frame, now);
        self.prune(now);
        appended.map(|(_, text)| text)
    }

    /// Moves the head to `seq` with nothing appended: a broker whose stream begins after its
    /// first position (older messages aged out) starts the feed there.
    pub fn start_at(&mut self, seq: u64) {
        if self.head == 0 && self.history.is_empty() {
            self.head = seq;
        }
    }

    fn append(&mut self, seq: u64, frame: Frame, now: Instant) -> Option<(u64, Arc<str>)> {
        let stamp = frame.timestamp().unwrap_or(now);
        let position = self.settings.resume.then_some(seq);
        // Encoding a decoded frame cannot fail in practice; if it did, the frame is not sent
        // and its position stays free (a broker's next frame then makes a hole, see
        // `append_at`).
        let text: Arc<str> = encode_sequenced(frame.channel(), frame.data(), stamp, position)
            .ok()?
            .into();
        self.head = seq;
        self.history.push_back(Entry {
            seq,
            at: now,
            text: text.clone(),
        });
        self.fold(frame, now);
        Some((seq, text))
    }

    /// Folds a frame into the state without a position or a place in the history: a
    /// snapshot's state, as a tab that follows a server rebuilds the server's feed.
    pub fn keep_state(&mut self, frame: Frame, now: Instant) {
        self.fold(frame, now);
    }

    fn fold(&mut self, frame: Frame, now: Instant) {
        match (self.keep)(&frame) {
            Keep::Put(key, kept) => self.put(key, kept, None),
            Keep::Settled(key, kept) => {
                self.settled.push_back((now, key.clone()));
                self.put(key, kept, Some(now));
            }
            Keep::Remove(key) => self.remove(&key),
            Keep::Recent => {
                self.recent.push_back((now, frame));
                if self.recent.len() > MAX_RECENT {
                    self.recent.pop_front();
                }
            }
            Keep::Skip => {}
        }
    }

    /// Puts an entry, keeping its place if it is known; the oldest entry goes past the cap.
    fn put(&mut self, key: String, frame: Frame, settled: Option<Instant>) {
        let order = match self.state.get(&key) {
            Some(kept) => kept.order,
            None => {
                self.order += 1;
                self.by_order.insert(self.order, key.clone());
                self.order
            }
        };
        self.state.insert(
            key,
            Kept {
                order,
                frame,
                settled,
            },
        );
        while self.state.len() > MAX_STATE_ENTRIES {
            let Some((_, oldest)) = self.by_order.pop_first() else {
                break;
            };
            self.state.remove(&oldest);
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(kept) = self.state.remove(key) {
            self.by_order.remove(&kept.order);
        }
    }

    fn prune(&mut self, now: Instant) {
        let settled_age = self.settings.settled_age;
        while let Some((at, _)) = self.settled.front()
            && now.saturating_since(*at) > settled_age
        {
            let Some((at, key)) = self.settled.pop_front() else {
                break;
            };
            // Only if it is still the same settlement: not made current or settled again.
            if self.state.get(&key).is_some_and(|k| k.settled == Some(at)) {
                self.remove(&key);
            }
        }
        let age = self.settings.history_age;
        while self.history.len() > self.settings.history_len
            || self
                .history
                .front()
                .is_some_and(|e| now.saturating_since(e.at) > age)
        {
            self.history.pop_front();
        }
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.saturating_since(*at) > age)
        {
            self.recent.pop_front();
        }
    }

    /// Starts a new epoch, as a restart would: the history is gone, positions start again,
    /// and every resuming client gets a snapshot. The state stays.
    pub fn new_epoch(&mut self, now: Instant) {
        self.epoch = self.next_epoch_name(now);
        self.head = 0;
        self.history.clear();
    }

    /// Starts over in `epoch`, empty: a broker whose stream was recreated, or lost its
    /// storage, holds none of what this feed knew, so neither the history nor the state
    /// stays. Every resuming client gets a snapshot (of what the new stream holds).
    pub fn restart(&mut self, epoch: String) {
        self.epoch = epoch;
        self.head = 0;
        self.history.clear();
        self.state.clear();
        self.by_order.clear();
        self.settled.clear();
        self.recent.clear();
    }

    /// The state frames, in the order they rebuild it: recent samples oldest first, then
    /// each entry in the order it first appeared.
    pub fn state(&self) -> Vec<&Frame> {
        let keyed = self
            .by_order
            .values()
            .filter_map(|key| self.state.get(key).map(|k| &k.frame));
        self.recent.iter().map(|(_, f)| f).chain(keyed).collect()
    }

    /// The position a client at `from` can resume from: in this epoch, and no older than the
    /// position just before the history's oldest frame.
    fn resumable(&self, from: Option<&ResumeFrom>) -> Option<u64> {
        let oldest = self
            .history
            .front()
            .map_or(self.head, |e| e.seq.saturating_sub(1));
        from.and_then(|f| f.epoch.as_deref().zip(f.seq))
            .filter(|(epoch, seq)| *epoch == self.epoch && (oldest..=self.head).contains(seq))
            .map(|(_, seq)| seq)
    }

    /// How [`Feed::answer`] answers a client at `from`.
    pub fn mode_for(&self, from: Option<&ResumeFrom>) -> SyncMode {
        match self.resumable(from) {
            Some(seq) if seq == self.head => SyncMode::Live,
            Some(_) => SyncMode::Replay,
            None => SyncMode::Snapshot,
        }
    }

    /// What a resuming client at `from` gets now (`None`: a cold load): the `sync` frame,
    /// then any replayed frames; and the position the stream continues after.
    pub fn answer(&self, from: Option<&ResumeFrom>, now: Instant) -> (Vec<Arc<str>>, u64) {
        let (mode, seq, state) = match self.resumable(from) {
            Some(seq) if seq == self.head => (SyncMode::Live, seq, Vec::new()),
            Some(seq) => (SyncMode::Replay, seq, Vec::new()),
            None => (SyncMode::Snapshot, self.head, self.state_json(now)),
        };
        // A client that takes parts gets a large state in parts; any other gets it whole.
        let takes_parts = from.is_some_and(|f| f.parts);
        let mut parts = split(state, if takes_parts { PART_BYTES } else { usize::MAX });
        let rest = parts.split_off(1);
        let data = SyncData {
            mode,
            epoch: &self.epoch,
            seq,
            heartbeat_ms: self.heartbeat.map(|every| every.as_millis() as u64),
            state: parts.pop().unwrap_or_default(),
            parts: (!rest.is_empty()).then(|| rest.len() as u32 + 1),
        };
        let mut out: Vec<Arc<str>> = Vec::new();
        if let Ok(sync) = encode_sequenced(SYNC, &data, now, None) {
            out.push(sync.into());
        }
        for (i, state) in rest.into_iter().enumerate() {
            let part = PartData {
                epoch: &self.epoch,
                seq,
                part: i as u32 + 2,
                state,
            };
            if let Ok(text) = encode_sequenced(SNAPSHOT_PART, &part, now, None) {
                out.push(text.into());
            }
        }
        if mode == SyncMode::Replay {
            out.extend(
                self.history
                    .iter()
                    .filter(|e| e.seq > seq)
                    .map(|e| e.text.clone()),
            );
        }
        (out, self.head)
    }

    /// The last `n` frames of the history at or before position `up_to`, oldest first.
    pub fn sent_before(&self, up_to: u64, n: usize) -> Vec<Arc<str>> {
        let upto = self.history.partition_point(|e| e.seq <= up_to);
        self.history
            .range(upto.saturating_sub(n)..upto)
            .map(|e| e.text.clone())
            .collect()
    }

    fn state_json(&self, now: Instant) -> Vec<Box<RawValue>> {
        self.state()
            .into_iter()
            .filter_map(|f| {
                let text =
                    encode_sequenced(f.channel(), f.data(), f.timestamp().unwrap_or(now), None)
                        .ok()?;
                RawValue::from_string(text).ok()
            })
            .collect()
    }

    /// The feed as tests compare screens with it: epoch, positions, and the state frames.
    pub fn report(&self, now: Instant) -> serde_json::Value {
        let state: Vec<serde_json::Value> = self
            .state_json(now)
            .iter()
            .filter_map(|raw| serde_json::from_str(raw.get()).ok())
            .collect();
        serde_json::json!({
            "epoch": self.epoch,
            "head": self.head,
            "oldest": self.history.front().map(|e| e.seq),
            "history": self.history.len(),
            "state": state,
        })
    }
}

/// A heartbeat saying the connection has sent up to `seq`.
pub fn heartbeat(seq: u64, now: Instant) -> Option<String> {
    #[derive(Serialize)]
    struct Beat {
        seq: u64,
    }
    encode_sequenced(HEARTBEAT, &Beat { seq }, now, None).ok()
}
