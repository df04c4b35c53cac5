//! One simulated world per module, shared by every connection, as a real backend would be:
//! two tabs see the same sessions and tickets, and a reload sees the same world.
//!
//! A [`World`] is the module's generator (the same simulator the browser runs while
//! offline) and its random source. It publishes what it makes into the module's feed (the
//! gateway library's [`Feed`]), which gives every frame its position, keeps the history and
//! the state, and answers resuming clients, exactly as the production gateway does.
//!
//! [`Feed`]: switchboard_gateway::feed::Feed

use std::time::Duration;

use switchboard_core::Instant;
use switchboard_core::simulator::{Acted, Actor};
use switchboard_gateway::Module;
use switchboard_gateway::action::{Call, Verdict};
use switchboard_gateway::feed::{Feed, FeedSettings};

/// How a world keeps its history and speaks to clients, and how it starts.
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
    /// A finished entry of the state (a paid or void invoice, a resolved or closed ticket)
    /// is forgotten this long after it finished.
    pub settled_age: Duration,
}

impl Default for WorldSettings {
    fn default() -> Self {
        let feed = FeedSettings::default();
        Self {
            resume: feed.resume,
            history_len: feed.history_len,
            history_age: feed.history_age,
            heartbeat: feed.heartbeat,
            backfill: Duration::ZERO,
            paused: false,
            settled_age: feed.settled_age,
        }
    }
}

impl WorldSettings {
    /// What the feed needs of these settings.
    pub fn feed(&self) -> FeedSettings {
        FeedSettings {
            resume: self.resume,
            history_len: self.history_len,
            history_age: self.history_age,
            heartbeat: self.heartbeat,
            settled_age: self.settled_age,
        }
    }
}

/// How many empty generator ticks in a row a flood tolerates.
pub const MAX_IDLE_TICKS: usize = 100;

/// One module's generator. See the module docs.
pub struct World {
    sim: Box<dyn Actor + Send>,
    rng: fastrand::Rng,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").finish_non_exhaustive()
    }
}

impl World {
    /// The generator of `module`, seeded with `seed`.
    pub fn new(module: Module, seed: u64) -> Self {
        Self {
            sim: module.simulator(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The generator's cadence.
    pub fn interval(&self) -> Duration {
        self.sim.interval()
    }

    /// Simulates `span` of past before `now` into `feed`, so it opens with a history.
    pub fn backfill(&mut self, feed: &mut Feed, span: Duration, now: Instant) {
        let step = self.interval().max(Duration::from_millis(10));
        let mut at = Instant::from_millis(now.as_millis().saturating_sub(span.as_millis() as u64));
        while at < now {
            self.tick(feed, at);
            at = at.plus(step);
        }
    }

    /// Advances the generator to `now` and publishes what it makes.
    pub fn tick(&mut self, feed: &mut Feed, now: Instant) {
        let frames = self.sim.tick(now, &mut self.rng);
        feed.publish(frames, now);
    }

    /// Carries out an action in the world (the module's simulator decides, see
    /// [`Actor::act`]) and publishes the change into `feed` like any other frames, so
    /// every client sees it.
    pub fn act(&mut self, feed: &mut Feed, now: Instant, call: &Call) -> Verdict {
        let state = feed.state();
        let call = switchboard_core::simulator::Call {
            action: call.action,
            data: &call.data,
            operator: &call.operator,
            state: &state,
        };
        let acted = self.sim.act(now, &call);
        drop(state);
        match acted {
            Acted::Done { frames, result } => {
                feed.publish(frames, now);
                Verdict::Done(result)
            }
            Acted::Refused(why) => Verdict::Refused(why),
        }
    }

    /// `count` generated frames (a flood), published at `now`; returns how many. A generator
    /// may have nothing to say on some ticks (sessions report a third of their updates per
    /// tick); it gets up to [`MAX_IDLE_TICKS`] in a row before the flood takes what it has.
    pub fn generate(&mut self, feed: &mut Feed, count: usize, now: Instant) -> usize {
        let mut frames = Vec::with_capacity(count);
        let mut idle = 0;
        while frames.len() < count && idle < MAX_IDLE_TICKS {
            let more = self.sim.tick(now, &mut self.rng);
            idle = if more.is_empty() { idle + 1 } else { 0 };
            frames.extend(more);
        }
        frames.truncate(count);
        let n = frames.len();
        feed.publish(frames, now);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backfilled_world_opens_with_a_history_and_a_state() {
        let module = Module::named("sessions").expect("sessions is served");
        let now = Instant::from_millis(1_760_616_000_000);
        let mut feed = Feed::new(module, WorldSettings::default().feed(), now);
        let mut world = World::new(module, 1);
        world.backfill(&mut feed, Duration::from_secs(300), now);
        assert!(feed.head() > 10, "{}", feed.head());
        assert!(!feed.state().is_empty());
        assert_eq!(world.generate(&mut feed, 50, now), 50);
    }
}
