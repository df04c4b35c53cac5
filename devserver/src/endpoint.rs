//! One WebSocket endpoint per module, as the gateway library serves it, plus what makes it a
//! development backend: the module's simulated world and the faults `/_control` injects.

use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use switchboard_gateway::action::{Call, Carrier, Verdict};
use switchboard_gateway::conn::malformed_frames;
use switchboard_gateway::endpoint::Interrupt;
use switchboard_gateway::feed::Feed;
use switchboard_gateway::now;
use tokio::sync::{broadcast, watch};
use tokio::time::MissedTickBehavior;

pub use switchboard_gateway::endpoint::{Module, Report};

use crate::world::{World, WorldSettings};

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

/// What the next action meets (`POST /_control/{module}/action?fault=…`): the world
/// carries out every action it is given, unless one of these is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionFault {
    /// Refused, with the reason "refused by the backend (injected fault)".
    Refuse,
    /// Carried out after this delay.
    Late(Duration),
    /// Never answered (and never carried out).
    Never,
}

/// The reason an injected refusal gives.
pub const INJECTED_REFUSAL: &str = "refused by the backend (injected fault)";

/// Carries out a module's actions in its world, one at a time, after any queued fault.
#[derive(Debug)]
struct WorldCarrier {
    world: Arc<Mutex<World>>,
    /// Weak: the endpoint holds this carrier.
    served: Weak<switchboard_gateway::Endpoint>,
    faults: Arc<Mutex<VecDeque<ActionFault>>>,
}

impl Carrier for WorldCarrier {
    fn carry_out(&self, call: Call) -> BoxFuture<'static, Verdict> {
        let fault = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        let (world, served) = (self.world.clone(), self.served.clone());
        async move {
            match fault {
                Some(ActionFault::Refuse) => return Verdict::Refused(INJECTED_REFUSAL.to_owned()),
                Some(ActionFault::Never) => std::future::pending::<()>().await,
                Some(ActionFault::Late(delay)) => tokio::time::sleep(delay).await,
                None => {}
            }
            let Some(served) = served.upgrade() else {
                return Verdict::Refused("the backend is shutting down".to_owned());
            };
            let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
            world.act(&mut served.feed(), now(), &call)
        }
        .boxed()
    }
}

/// One endpoint: the gateway library's (its feed, counters and levers, reached through
/// `Deref`), its world, and its faults.
#[derive(Debug)]
pub struct Endpoint {
    /// What the gateway library serves.
    pub served: Arc<switchboard_gateway::Endpoint>,
    /// Faults: to every open connection (drop, malformed, repeat) or to the world.
    pub faults: broadcast::Sender<Fault>,
    /// The world's generator makes nothing (scripts still happen): a quiet backend.
    pub paused: AtomicBool,
    world: Arc<Mutex<World>>,
    /// What the next actions meet, in order.
    action_faults: Arc<Mutex<VecDeque<ActionFault>>>,
}

impl Deref for Endpoint {
    type Target = switchboard_gateway::Endpoint;

    fn deref(&self) -> &Self::Target {
        &self.served
    }
}

impl Endpoint {
    /// The world of `served`'s module, seeded with `seed` and backfilled as `settings` say.
    pub fn new(
        served: Arc<switchboard_gateway::Endpoint>,
        settings: &WorldSettings,
        seed: u64,
    ) -> Self {
        let mut world = World::new(served.module, seed);
        world.backfill(&mut served.feed(), settings.backfill, now());
        let world = Arc::new(Mutex::new(world));
        let action_faults = Arc::default();
        served.actions.set_carrier(Arc::new(WorldCarrier {
            world: world.clone(),
            served: Arc::downgrade(&served),
            faults: Arc::clone(&action_faults),
        }));
        Self {
            faults: broadcast::channel(64).0,
            paused: AtomicBool::new(settings.paused),
            world,
            action_faults,
            served,
        }
    }

    /// Queues what the next action meets.
    pub fn action_fault(&self, fault: ActionFault) {
        self.action_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(fault);
    }

    /// The module's feed (positions, history, state), shared with the connections.
    pub fn world(&self) -> MutexGuard<'_, Feed> {
        self.served.feed()
    }

    fn generator(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generator's cadence.
    pub fn interval(&self) -> Duration {
        self.generator().interval()
    }

    /// Advances the generator to `now` and publishes what it makes.
    pub fn tick(&self, now: switchboard_core::Instant) {
        let mut world = self.generator();
        world.tick(&mut self.served.feed(), now);
    }

    /// `count` generated frames, published at `now`; returns how many.
    pub fn generate(&self, count: usize, now: switchboard_core::Instant) -> usize {
        let mut world = self.generator();
        world.generate(&mut self.served.feed(), count, now)
    }

    /// Runs the world until `shutdown`: the generator on its cadence (unless paused),
    /// floods, scripts and new epochs. The first tick comes one interval after the start,
    /// so a test can pause the world before it makes anything.
    pub async fn run_world(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut faults = self.faults.subscribe();
        let interval = self.interval().max(Duration::from_millis(10));
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
                        self.tick(now());
                    }
                }
                _ = flood_tick.tick(), if flood.is_some() => {
                    let Some(f) = flood.as_mut() else { continue };
                    let now = tokio::time::Instant::now();
                    let owed = f.owed(now);
                    if owed > 0 {
                        f.published += self.generate(owed, switchboard_gateway::now()) as u64;
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
                    Ok(Fault::Script(texts)) => self.world().inject(texts, now()),
                    Ok(Fault::NewEpoch) => self.world().new_epoch(now()),
                    // The connections' faults: the gateway library's interrupts.
                    Ok(Fault::Drop) => self.served.interrupt(Interrupt::Drop),
                    Ok(Fault::Malformed) => {
                        let frames = malformed_frames(self.module.main_channel());
                        self.served.interrupt(Interrupt::Send(frames.into()));
                    }
                    Ok(Fault::Repeat { frames }) => self.served.interrupt(Interrupt::Repeat { frames }),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
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
