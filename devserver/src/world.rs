//! One simulated world per module, shared by every connection, as a real backend would be:
//! two tabs see the same sessions and tickets, and a reload sees the same world.
//!
//! A [`World`] runs the module's generator on its cadence and publishes each frame once: it
//! gets the next position (`seq`) in the current epoch, goes into a bounded history (by count
//! and by age), is folded into the module's state through [`Backend::keep`], and is broadcast
//! to the connections. A connection that resumes gets a replay from the history when it can,
//! and a snapshot of the state otherwise (docs/PROTOCOL.md, "Resume"). A new epoch (a
//! restart, or the `new-epoch` fault) forgets the history, not the state.
//!
//! [`Backend::keep`]: switchboard_core::simulator::Backend::keep

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use switchboard_core::frame::{decode_envelope, encode_sequenced};
use switchboard_core::resume::{HEARTBEAT, SYNC, SyncMode};
use switchboard_core::simulator::{Keep, Simulator};
use switchboard_core::{Frame, Instant, Provenance};
use tokio::sync::broadcast;

use crate::endpoint::Module;

/// How a world keeps its history and speaks to clients.
#[derive(Clone, Debug)]
pub struct WorldSettings {
    /// Speak the resume extension: positions on frames, `sync` after auth, heartbeats. Off,
    /// the server behaves like the reference's: changes only, no positions.
    pub resume: bool,
    /// The most frames the history keeps.
    pub history_len: usize,
    /// The oldest frame the history keeps (and the span of recent samples a snapshot carries).
    pub history_age: Duration,
    /// A quiet socket gets a heartbeat this often.
    pub heartbeat: Duration,
    /// On start, simulate this much past, so the world has a history and a state at once.
    pub backfill: Duration,
    /// Start with the generator paused: nothing happens until a script or `resume`.
    pub paused: bool,
}

impl Default for WorldSettings {
    fn default() -> Self {
        Self {
            resume: true,
            history_len: 10_000,
            history_age: Duration::from_secs(300),
            heartbeat: Duration::from_secs(5),
            backfill: Duration::ZERO,
            paused: false,
        }
    }
}

/// The most entries a state keeps; the oldest entry goes first past it.
pub const MAX_STATE_ENTRIES: usize = 5_000;
/// How many empty generator ticks in a row a flood tolerates.
pub const MAX_IDLE_TICKS: usize = 100;

/// The most recent samples a state keeps (within the history's age).
pub const MAX_RECENT: usize = 1_000;

/// What a world broadcasts to its connections.
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
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    at: Instant,
    text: Arc<str>,
}

/// One module's world. See the module docs.
pub struct World {
    module: Module,
    settings: WorldSettings,
    epoch: String,
    epochs: u64,
    head: u64,
    history: VecDeque<Entry>,
    state: HashMap<String, (u64, Frame)>,
    order: u64,
    recent: VecDeque<(Instant, Frame)>,
    sim: Box<dyn Simulator + Send>,
    rng: fastrand::Rng,
    tx: broadcast::Sender<Published>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
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
}

impl World {
    /// A world at `now`, backfilled as the settings say.
    pub fn new(module: Module, settings: WorldSettings, seed: u64, now: Instant) -> Self {
        let mut world = Self {
            module,
            epoch: String::new(),
            epochs: 0,
            head: 0,
            history: VecDeque::new(),
            state: HashMap::new(),
            order: 0,
            recent: VecDeque::new(),
            sim: module.simulator(),
            rng: fastrand::Rng::with_seed(seed),
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
            settings,
        };
        world.epoch = world.next_epoch_name(now);
        let step = world.sim.interval().max(Duration::from_millis(10));
        let mut at = Instant::from_millis(
            now.as_millis()
                .saturating_sub(world.settings.backfill.as_millis() as u64),
        );
        while at < now {
            world.tick(at);
            at = at.plus(step);
        }
        world
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
    pub fn settings(&self) -> &WorldSettings {
        &self.settings
    }

    /// The generator's cadence.
    pub fn interval(&self) -> Duration {
        self.sim.interval()
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

    /// Advances the generator to `now` and publishes what it makes.
    pub fn tick(&mut self, now: Instant) {
        let frames = self.sim.tick(now, &mut self.rng);
        self.publish(frames, now);
    }

    /// `count` generated frames (a flood), published at `now`; returns how many. A generator
    /// may have nothing to say on some ticks (sessions report a third of their updates per
    /// tick); it gets up to [`MAX_IDLE_TICKS`] in a row before the flood takes what it has.
    pub fn generate(&mut self, count: usize, now: Instant) -> usize {
        let mut frames = Vec::with_capacity(count);
        let mut idle = 0;
        while frames.len() < count && idle < MAX_IDLE_TICKS {
            let more = self.sim.tick(now, &mut self.rng);
            idle = if more.is_empty() { idle + 1 } else { 0 };
            frames.extend(more);
        }
        frames.truncate(count);
        let n = frames.len();
        self.publish(frames, now);
        n
    }

    /// Publishes scripted texts: frames of this module's channels become part of the world
    /// (positioned, kept, in the state); anything else is sent as is.
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
            let seq = self.head + 1;
            let stamp = frame.timestamp().unwrap_or(now);
            let position = self.settings.resume.then_some(seq);
            let Ok(text) = encode_sequenced(frame.channel(), frame.data(), stamp, position) else {
                continue;
            };
            self.head = seq;
            let text: Arc<str> = text.into();
            self.history.push_back(Entry {
                seq,
                at: now,
                text: text.clone(),
            });
            self.fold(frame, now);
            let _ = self.tx.send(Published::Frame(seq, text));
        }
        self.prune(now);
    }

    fn fold(&mut self, frame: Frame, now: Instant) {
        match (self.module.keep())(&frame) {
            Keep::Put(key, kept) => {
                self.order += 1;
                let order = self.state.get(&key).map_or(self.order, |(o, _)| *o);
                self.state.insert(key, (order, kept));
                if self.state.len() > MAX_STATE_ENTRIES
                    && let Some(oldest) = self
                        .state
                        .iter()
                        .min_by_key(|(_, (o, _))| *o)
                        .map(|(k, _)| k.clone())
                {
                    self.state.remove(&oldest);
                }
            }
            Keep::Remove(key) => {
                self.state.remove(&key);
            }
            Keep::Recent => {
                self.recent.push_back((now, frame));
                if self.recent.len() > MAX_RECENT {
                    self.recent.pop_front();
                }
            }
            Keep::Skip => {}
        }
    }

    fn prune(&mut self, now: Instant) {
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

    /// The state frames, in the order they rebuild it: recent samples oldest first, then
    /// each entry in the order it first appeared.
    pub fn state(&self) -> Vec<&Frame> {
        let mut keyed: Vec<&(u64, Frame)> = self.state.values().collect();
        keyed.sort_by_key(|(order, _)| *order);
        self.recent
            .iter()
            .map(|(_, f)| f)
            .chain(keyed.into_iter().map(|(_, f)| f))
            .collect()
    }

    /// What a resuming client at `from` gets now (`None`: a cold load): the `sync` frame,
    /// then any replayed frames; and the position the stream continues after.
    pub fn answer(&self, from: Option<&ResumeFrom>, now: Instant) -> (Vec<Arc<str>>, u64) {
        // The history can replay from the position just before its oldest frame.
        let oldest = self
            .history
            .front()
            .map_or(self.head, |e| e.seq.saturating_sub(1));
        let resumable = from
            .and_then(|f| f.epoch.as_deref().zip(f.seq))
            .filter(|(epoch, seq)| *epoch == self.epoch && (oldest..=self.head).contains(seq));
        let (mode, seq, state) = match resumable {
            Some((_, seq)) if seq == self.head => (SyncMode::Live, seq, Vec::new()),
            Some((_, seq)) => (SyncMode::Replay, seq, Vec::new()),
            None => (SyncMode::Snapshot, self.head, self.state_json(now)),
        };
        let data = SyncData {
            mode,
            epoch: &self.epoch,
            seq,
            heartbeat_ms: Some(self.settings.heartbeat.as_millis() as u64),
            state,
        };
        let mut out: Vec<Arc<str>> = Vec::new();
        if let Ok(sync) = encode_sequenced(SYNC, &data, now, None) {
            out.push(sync.into());
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

    /// The world as tests compare screens with it: epoch, positions, and the state frames.
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

    fn sessions(settings: WorldSettings) -> World {
        let module = Module::named("sessions").expect("sessions is served");
        World::new(module, settings, 1, Instant::from_millis(1_760_616_000_000))
    }

    fn sync_of(text: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["type"], "sync");
        v["data"].clone()
    }

    #[test]
    fn positions_count_up_and_a_resume_replays_only_what_was_missed() {
        let mut w = sessions(WorldSettings::default());
        let t = Instant::from_millis(1_760_616_010_000);
        w.tick(t);
        w.tick(t.plus(Duration::from_secs(5)));
        let head = w.head();
        assert!(head >= 2, "the generator made frames: {head}");
        let from = ResumeFrom {
            epoch: Some(w.epoch().to_owned()),
            seq: Some(1),
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
        let mut w = sessions(WorldSettings {
            history_len: 2,
            ..WorldSettings::default()
        });
        let t = Instant::from_millis(1_760_616_010_000);
        for i in 0..5 {
            w.tick(t.plus(Duration::from_secs(5 * i)));
        }
        let epoch = Some(w.epoch().to_owned());
        for from in [
            None,
            Some(ResumeFrom::default()),
            Some(ResumeFrom {
                epoch: Some("elsewhere".into()),
                seq: Some(w.head()),
            }),
            Some(ResumeFrom {
                epoch: epoch.clone(),
                seq: Some(1),
            }),
            Some(ResumeFrom {
                epoch,
                seq: Some(w.head() + 1),
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
        let mut w = sessions(WorldSettings {
            paused: true,
            ..WorldSettings::default()
        });
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
        let mut w = sessions(WorldSettings {
            history_len: 50,
            history_age: Duration::from_secs(20),
            ..WorldSettings::default()
        });
        let t = Instant::from_millis(1_760_616_000_000);
        w.generate(200, t);
        assert_eq!(w.report(t)["history"], 50);
        let later = t.plus(Duration::from_secs(21));
        w.generate(1, later);
        assert_eq!(w.report(later)["history"], 1);
    }

    #[test]
    fn a_reference_style_world_sends_no_positions() {
        let mut w = sessions(WorldSettings {
            resume: false,
            ..WorldSettings::default()
        });
        let mut rx = w.subscribe();
        w.generate(1, Instant::from_millis(1_760_616_000_000));
        match rx.try_recv() {
            Ok(Published::Frame(_, text)) => assert!(!text.contains("\"seq\""), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}
