//! One WebSocket endpoint per module: its traffic generator, its faults and its counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use switchboard_core::Frame;
use switchboard_core::simulator::{Backend, Keep, Simulator};
use switchboard_registry::BACKENDS;
use tokio::sync::{broadcast, watch};
use tokio::time::MissedTickBehavior;

use crate::world::{World, WorldSettings};

/// A module the devserver serves: one of the registry's [`BACKENDS`], so every module in the
/// registry is served with no edit here.
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
    pub fn simulator(self) -> Box<dyn Simulator + Send> {
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

    /// How a frame changes the module's state (see [`Backend::keep`]).
    pub fn keep(self) -> fn(&Frame) -> Keep {
        self.0.keep
    }
}

/// A one-shot instruction to an endpoint: to every open connection (drop, malformed) or to
/// its world (flood, script, new epoch), whose frames then reach every connection.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Drop the TCP connection without a close frame (the client sees 1006).
    Drop,
    /// Send one malformed frame of each kind.
    Malformed,
    /// The world makes `rate` frames a second for `duration`.
    Flood { rate: u32, duration: Duration },
    /// These exact frames happen in the world (for scripted scenarios, e.g. a session's life):
    /// frames of the module's channels get positions and change the state.
    Script(Vec<String>),
    /// The world starts a new epoch, as after a restart: its history is forgotten.
    NewEpoch,
    /// Every connection sends the last `frames` frames it sent once more, as a flaky link or
    /// a server racing its own replay would: a client must apply none of them twice.
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
    /// Heartbeats sent (resume extension); not in `frames_sent`.
    pub heartbeats: u64,
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
    /// Faults go to every open connection.
    pub faults: broadcast::Sender<Fault>,
    /// Keep sockets open but send nothing, heartbeats included: a half-open connection.
    pub silent: AtomicBool,
    /// The world's generator makes nothing (scripts still happen): a quiet backend.
    pub paused: AtomicBool,
    /// The module's world, shared by every connection.
    world: Mutex<World>,
    /// Reject every auth frame.
    pub reject_auth: AtomicBool,
    /// Refuse upgrades until this time (ms since the epoch).
    pub refuse_until: AtomicU64,
    /// Counters.
    pub report: Mutex<Report>,
}

impl Endpoint {
    /// An endpoint whose world starts as `settings` say, its generator seeded with `seed`.
    pub fn new(module: Module, settings: &WorldSettings, seed: u64) -> Self {
        Self {
            module,
            faults: broadcast::channel(64).0,
            silent: AtomicBool::new(false),
            paused: AtomicBool::new(settings.paused),
            world: Mutex::new(World::new(module, settings.clone(), seed, crate::now())),
            reject_auth: AtomicBool::new(false),
            refuse_until: AtomicU64::new(0),
            report: Mutex::new(Report::default()),
        }
    }

    /// Updates the counters. A poisoned lock only means a test thread panicked; the counters
    /// are still usable.
    pub fn count(&self, f: impl FnOnce(&mut Report)) {
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut report);
    }

    /// Whether new connections are refused right now.
    pub fn refusing(&self, now_ms: u64) -> bool {
        self.refuse_until.load(Ordering::Relaxed) > now_ms
    }

    /// The world. A poisoned lock only means a test thread panicked; the world is still
    /// consistent, since no step of it can panic half-way.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the world until `shutdown`: the generator on its cadence (unless paused),
    /// floods, scripts and new epochs. The first tick comes one interval after the start,
    /// so a test can pause the world before it makes anything.
    pub async fn run_world(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut faults = self.faults.subscribe();
        let interval = self.world().interval().max(Duration::from_millis(10));
        let mut traffic =
            tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        traffic.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut flood: Option<Flood> = None;
        let mut flood_tick = tokio::time::interval(FLOOD_TICK);
        // A late tick publishes what the missed ones owed (see `Flood::owed`).
        flood_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = traffic.tick() => {
                    if !self.paused.load(Ordering::Relaxed) {
                        self.world().tick(crate::now());
                    }
                }
                _ = flood_tick.tick(), if flood.is_some() => {
                    let Some(f) = flood.as_mut() else { continue };
                    let now = tokio::time::Instant::now();
                    let owed = f.owed(now);
                    if owed > 0 {
                        f.published += self.world().generate(owed, crate::now()) as u64;
                    }
                    if now >= f.until {
                        flood = None;
                    }
                }
                fault = faults.recv() => match fault {
                    Ok(Fault::Flood { rate, duration }) => {
                        let started = tokio::time::Instant::now();
                        flood = Some(Flood { rate, started, until: started + duration, published: 0 });
                        flood_tick.reset();
                    }
                    Ok(Fault::Script(texts)) => self.world().inject(texts, crate::now()),
                    Ok(Fault::NewEpoch) => self.world().new_epoch(crate::now()),
                    Ok(Fault::Drop | Fault::Malformed | Fault::Repeat { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// How often a flood publishes.
const FLOOD_TICK: Duration = Duration::from_millis(10);

/// A flood under way: it owes `rate` frames for every second since it started, up to
/// `until`, so a late tick publishes what the missed ones owed, and the flood delivers
/// `rate × duration` frames however busy the machine is.
#[derive(Debug)]
struct Flood {
    rate: u32,
    started: tokio::time::Instant,
    until: tokio::time::Instant,
    published: u64,
}

impl Flood {
    /// Frames owed at `now`.
    fn owed(&self, now: tokio::time::Instant) -> usize {
        let elapsed = now.min(self.until).saturating_duration_since(self.started);
        let due = (f64::from(self.rate) * elapsed.as_secs_f64()).floor() as u64;
        due.saturating_sub(self.published) as usize
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
