//! One module's feed, shared by every connection to it: positions, a bounded history, the
//! state, and the broadcast to the connections.
//!
//! Frames are appended once, whoever makes them (the in-memory broker's publishers, a
//! JetStream consumer, or the development backend's simulators): each gets its position
//! (`seq`) in the current epoch, goes into a history bounded by count and by age, is folded
//! into the module's state through [`Backend::keep`], and is broadcast to the connections,
//! encoded once for all of them. A connection that resumes gets a replay from the history
//! when it can, and a snapshot of the state otherwise (docs/PROTOCOL.md, "Resume"). A new
//! epoch (a restart, a recreated stream) forgets the history, not the state.
//!
//! [`Backend::keep`]: switchboard_core::simulator::Backend::keep

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use switchboard_core::frame::{decode_envelope, encode_sequenced};
use switchboard_core::resume::{HEARTBEAT, SNAPSHOT_PART, SYNC, SyncMode};
use switchboard_core::simulator::Keep;
use switchboard_core::{Frame, Instant, Provenance};
use tokio::sync::broadcast;

use crate::Module;

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
    /// [`Keep::Settled`]: switchboard_core::simulator::Keep::Settled
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

/// What a feed broadcasts to its connections.
#[derive(Clone, Debug)]
pub enum Published {
    /// A data frame at this position, encoded once for everyone.
    Frame(u64, Arc<str>),
    /// A scripted text that is not a frame of this module, sent as is, without a position.
    Raw(Arc<str>),
    /// The epoch changed: every resuming connection gets a snapshot.
    NewEpoch,
}

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
    module: Module,
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
    tx: broadcast::Sender<Published>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("module", &self.module.name())
            .field("epoch", &self.epoch)
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

/// How many published frames a slow connection may fall behind before it loses some (and its
/// client sees a gap and resyncs).
pub const BROADCAST_CAPACITY: usize = 16_384;

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
    /// An empty feed at `now`, in a new epoch.
    pub fn new(module: Module, settings: FeedSettings, now: Instant) -> Self {
        let mut feed = Self {
            module,
            epoch: String::new(),
            epochs: 0,
            head: 0,
            history: VecDeque::new(),
            state: HashMap::new(),
            by_order: BTreeMap::new(),
            settled: VecDeque::new(),
            order: 0,
            recent: VecDeque::new(),
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
            settings,
        };
        feed.epoch = feed.next_epoch_name(now);
        feed
    }

    fn next_epoch_name(&mut self, now: Instant) -> String {
        self.epochs += 1;
        format!(
            "{}-{:x}-{}",
            self.module.name(),
            now.as_millis(),
            self.epochs
        )
    }

    /// The settings.
    pub fn settings(&self) -> &FeedSettings {
        &self.settings
    }

    /// The current epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The latest position.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Frames published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.tx.subscribe()
    }

    /// Publishes texts as they are given: frames of this module's channels become part of the
    /// feed (positioned, kept, in the state); anything else is sent as is, without a position
    /// (the development backend's scripts use this to send what a broken server would).
    pub fn inject(&mut self, texts: Vec<String>, now: Instant) {
        for text in texts {
            let frame = decode_envelope(&text, usize::MAX)
                .ok()
                .filter(|env| self.module.channels().contains(&env.kind.as_ref()))
                .and_then(|env| {
                    Frame::new(
                        env.kind.into_owned(),
                        env.data,
                        env.timestamp,
                        Provenance::Live,
                    )
                    .ok()
                });
            match frame {
                Some(frame) => self.publish(vec![frame], now),
                None => {
                    let _ = self.tx.send(Published::Raw(text.into()));
                }
            }
        }
    }

    /// Publishes frames: each gets the next position, goes into the history and the state,
    /// and out to every connection.
    pub fn publish(&mut self, frames: Vec<Frame>, now: Instant) {
        for frame in frames {
            self.append(self.head + 1, frame, now);
        }
        self.prune(now);
    }

    /// Appends one frame at a position a broker gave it (a JetStream stream sequence). A
    /// position at or before the head was appended already and is ignored (`false`). A
    /// position past the next one is a hole in the stream (messages deleted from it): the
    /// history cannot replay across it, so it restarts at this frame, and a client from
    /// before the hole gets a snapshot rather than a replay that skips frames.
    pub fn append_at(&mut self, seq: u64, frame: Frame, now: Instant) -> bool {
        if seq <= self.head {
            return false;
        }
        if seq > self.head + 1 {
            self.history.clear();
        }
        self.append(seq, frame, now);
        self.prune(now);
        true
    }

    /// Moves the head to `seq` with nothing appended: a broker whose stream begins after its
    /// first position (older messages aged out) starts the feed there.
    pub fn start_at(&mut self, seq: u64) {
        if self.head == 0 && self.history.is_empty() {
            self.head = seq;
        }
    }

    fn append(&mut self, seq: u64, frame: Frame, now: Instant) {
        let stamp = frame.timestamp().unwrap_or(now);
        let position = self.settings.resume.then_some(seq);
        // Encoding a decoded frame cannot fail in practice; if it did, the frame is not sent
        // and its position stays free (a broker's next frame then makes a hole, see
        // `append_at`).
        let Ok(text) = encode_sequenced(frame.channel(), frame.data(), stamp, position) else {
            return;
        };
        let text: Arc<str> = text.into();
        self.head = seq;
        self.history.push_back(Entry {
            seq,
            at: now,
            text: text.clone(),
        });
        self.fold(frame, now);
        let _ = self.tx.send(Published::Frame(seq, text));
    }

    fn fold(&mut self, frame: Frame, now: Instant) {
        match (self.module.keep())(&frame) {
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
    /// and every resuming connection gets a snapshot. The state stays.
    pub fn new_epoch(&mut self, now: Instant) {
        self.epoch = self.next_epoch_name(now);
        self.head = 0;
        self.history.clear();
        let _ = self.tx.send(Published::NewEpoch);
    }

    /// Starts over in `epoch`, empty: a broker whose stream was recreated, or lost its
    /// storage, holds none of what this feed knew, so neither the history nor the state
    /// stays. Every resuming connection gets a snapshot (of what the new stream holds).
    pub fn restart(&mut self, epoch: String) {
        self.epoch = epoch;
        self.head = 0;
        self.history.clear();
        self.state.clear();
        self.by_order.clear();
        self.settled.clear();
        self.recent.clear();
        let _ = self.tx.send(Published::NewEpoch);
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
            heartbeat_ms: Some(self.settings.heartbeat.as_millis() as u64),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(settings: FeedSettings) -> Feed {
        let module = Module::named("sessions").expect("sessions is served");
        Feed::new(module, settings, Instant::from_millis(1_760_616_000_000))
    }

    /// What the module's generator makes at `now`, appended.
    fn tick(feed: &mut Feed, now: Instant) {
        let mut rng = fastrand::Rng::with_seed(now.as_millis());
        let frames = feed.module.simulator().tick(now, &mut rng);
        feed.publish(frames, now);
    }

    /// `n` generated frames, appended at `now`.
    fn generate(feed: &mut Feed, n: usize, now: Instant) {
        let mut sim = feed.module.simulator();
        let mut rng = fastrand::Rng::with_seed(1);
        let mut frames = Vec::new();
        while frames.len() < n {
            frames.extend(sim.tick(now, &mut rng));
        }
        frames.truncate(n);
        feed.publish(frames, now);
    }

    fn sync_of(text: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["type"], "sync");
        v["data"].clone()
    }

    #[test]
    fn positions_count_up_and_a_resume_replays_only_what_was_missed() {
        let mut w = sessions(FeedSettings::default());
        let t = Instant::from_millis(1_760_616_010_000);
        tick(&mut w, t);
        tick(&mut w, t.plus(Duration::from_secs(5)));
        let head = w.head();
        assert!(head >= 2, "the generator made frames: {head}");
        let from = ResumeFrom {
            epoch: Some(w.epoch().to_owned()),
            seq: Some(1),
            parts: true,
        };
        let (texts, after) = w.answer(Some(&from), t);
        assert_eq!(after, head);
        assert_eq!(sync_of(&texts[0])["mode"], "replay");
        let seqs: Vec<u64> = texts[1..]
            .iter()
            .map(|t| {
                serde_json::from_str::<serde_json::Value>(t).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, (2..=head).collect::<Vec<_>>());
        let at_head = ResumeFrom {
            seq: Some(head),
            ..from.clone()
        };
        assert_eq!(sync_of(&w.answer(Some(&at_head), t).0[0])["mode"], "live");
    }

    #[test]
    fn a_cold_load_another_epoch_or_a_position_past_the_history_gets_a_snapshot() {
        let mut w = sessions(FeedSettings {
            history_len: 2,
            ..FeedSettings::default()
        });
        let t = Instant::from_millis(1_760_616_010_000);
        for i in 0..5 {
            tick(&mut w, t.plus(Duration::from_secs(5 * i)));
        }
        let epoch = Some(w.epoch().to_owned());
        for from in [
            None,
            Some(ResumeFrom::default()),
            Some(ResumeFrom {
                epoch: Some("elsewhere".into()),
                seq: Some(w.head()),
                parts: false,
            }),
            Some(ResumeFrom {
                epoch: epoch.clone(),
                seq: Some(1),
                parts: false,
            }),
            Some(ResumeFrom {
                epoch,
                seq: Some(w.head() + 1),
                parts: false,
            }),
        ] {
            let (texts, _) = w.answer(from.as_ref(), t);
            let sync = sync_of(&texts[0]);
            assert_eq!(sync["mode"], "snapshot", "{from:?}");
            assert_eq!(sync["seq"], w.head());
            assert_eq!(texts.len(), 1);
        }
    }

    #[test]
    fn the_state_is_the_live_sessions_as_new_and_survives_a_new_epoch() {
        let mut w = sessions(FeedSettings::default());
        let session = |id: &str, action: &str| {
            format!(
                r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"{id}","username":"u","ip_address":"1","nas_ip_address":"2","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
            )
        };
        let t = Instant::from_millis(1_760_616_000_000);
        let before: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        w.inject(
            vec![
                session("sess_x", "new"),
                session("sess_y", "update"),
                session("sess_x", "terminate"),
                "not a frame".into(),
            ],
            t,
        );
        let after: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        assert_eq!(after.len(), before.len() + 1, "y added, x gone");
        let last = after.last().unwrap();
        assert!(
            last.contains(r#""action":"new""#) && last.contains("sess_y"),
            "{last}"
        );
        let epoch = w.epoch().to_owned();
        w.new_epoch(t);
        assert_ne!(w.epoch(), epoch);
        assert_eq!(w.head(), 0);
        assert_eq!(w.state().len(), after.len());
    }

    #[test]
    fn the_history_is_bounded_by_count_and_age() {
        let mut w = sessions(FeedSettings {
            history_len: 50,
            history_age: Duration::from_secs(20),
            ..FeedSettings::default()
        });
        let t = Instant::from_millis(1_760_616_000_000);
        generate(&mut w, 200, t);
        assert_eq!(w.report(t)["history"], 50);
        let later = t.plus(Duration::from_secs(21));
        generate(&mut w, 1, later);
        assert_eq!(w.report(later)["history"], 1);
    }

    #[test]
    fn a_reference_style_feed_sends_no_positions() {
        let mut w = sessions(FeedSettings {
            resume: false,
            ..FeedSettings::default()
        });
        let mut rx = w.subscribe();
        generate(&mut w, 1, Instant::from_millis(1_760_616_000_000));
        match rx.try_recv() {
            Ok(Published::Frame(_, text)) => assert!(!text.contains("\"seq\""), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    fn new_sessions(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"type":"session_update","data":{{"action":"new","session":{{"session_id":"s{i}","username":"user{i}@example.net","ip_address":"10.0.0.1","nas_ip_address":"10.1.1.1","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
                )
            })
            .collect()
    }

    #[test]
    fn a_large_snapshot_goes_in_parts_to_a_client_that_takes_them() {
        let mut w = sessions(FeedSettings::default());
        let t = Instant::from_millis(1_760_616_000_000);
        w.inject(new_sessions(20_000), t);
        let cold = ResumeFrom {
            parts: true,
            ..ResumeFrom::default()
        };
        let (texts, _) = w.answer(Some(&cold), t);
        let sync = sync_of(&texts[0]);
        let parts = sync["parts"].as_u64().unwrap() as usize;
        assert_eq!(texts.len(), parts);
        assert!(parts > 4, "{parts} parts");
        let mut frames = sync["state"].as_array().unwrap().len();
        for (i, text) in texts.iter().enumerate() {
            assert!(
                text.len() < 1 << 20,
                "every part fits the client's frame limit"
            );
            if i > 0 {
                let part: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(part["type"], "snapshot_part");
                assert_eq!(part["data"]["part"], i as u64 + 1);
                assert_eq!(part["data"]["seq"], sync["seq"]);
                assert_eq!(part["data"]["epoch"], sync["epoch"]);
                frames += part["data"]["state"].as_array().unwrap().len();
            }
        }
        assert_eq!(frames, w.state().len(), "every session, once");
        // A client that does not say it takes parts gets the state whole, as before.
        let (whole, _) = w.answer(None, t);
        assert_eq!(whole.len(), 1);
        assert_eq!(sync_of(&whole[0])["parts"], serde_json::Value::Null);
    }

    #[test]
    fn finished_tickets_are_forgotten_after_the_settled_age_and_open_ones_are_not() {
        let mut w = Feed::new(
            Module::named("support").expect("support is served"),
            FeedSettings {
                settled_age: Duration::from_secs(3600),
                ..FeedSettings::default()
            },
            Instant::from_millis(1_760_616_000_000),
        );
        let ticket = |id: &str, status: &str| {
            format!(
                r#"{{"type":"ticket_update","data":{{"ticket_id":"{id}","subject":"s","priority":"high","status":"{status}","assignee":null,"created_at":"2025-10-16T09:30:00Z","updated_at":"2025-10-16T12:00:00Z"}}}}"#
            )
        };
        let t = Instant::from_millis(1_760_616_000_000);
        let before = w.state().len();
        w.inject(
            vec![
                ticket("T-open", "open"),
                ticket("T-done", "closed"),
                ticket("T-back", "resolved"),
            ],
            t,
        );
        // Reopened before the age: current again, kept.
        w.inject(
            vec![ticket("T-back", "open")],
            t.plus(Duration::from_secs(60)),
        );
        assert_eq!(w.state().len(), before + 3);
        w.inject(
            vec![ticket("T-later", "open")],
            t.plus(Duration::from_secs(3601)),
        );
        let ids: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        assert_eq!(ids.len(), before + 3, "the closed ticket is forgotten");
        assert!(!ids.iter().any(|d| d.contains("T-done")));
        assert!(
            ids.iter().any(|d| d.contains("T-open")) && ids.iter().any(|d| d.contains("T-back"))
        );
    }
}
