//! The simulator contract: plain Rust that makes believable frames while a module's live feed
//! is offline. The browser runs it on a timer and labels its output; the development backend
//! runs the same generators to serve live traffic.

use std::time::Duration;

use crate::frame::Frame;
use crate::time::Instant;

/// Makes frames for a module's channels.
///
/// Rules: `tick` never blocks and never reads a clock or a global random source; everything
/// it needs comes in as arguments, so the same seed gives the same frames. Frames it returns
/// are marked [`Provenance::Simulated`](crate::Provenance::Simulated) by whoever shows them.
pub trait Simulator {
    /// How often `tick` should run: the real feed's cadence (2 s for bandwidth).
    fn interval(&self) -> Duration;

    /// Advances the simulation to `now` and returns the frames a backend would have sent.
    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame>;
}
