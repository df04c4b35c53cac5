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

/// What the development backend needs to serve a module, without a browser: each module
/// crate declares one as `pub const BACKEND`, and the module registry lists them beside the
/// modules' views, so a new module is served with no edit to the backend.
#[derive(Debug)]
pub struct Backend {
    /// The module's id: the same as its `WsModule::id`, and the path `/ws/{id}`.
    pub id: &'static str,
    /// Every channel the module receives (its `WsModule::channels`).
    pub channels: &'static [&'static str],
    /// The channel that floods and wrong-shape frames use: the module's busiest one.
    pub main_channel: &'static str,
    /// Decodes a frame on one of the module's channels with its payload type: `None` when the
    /// channel is not the module's. Build it from [`check`].
    pub check: fn(&Frame) -> Option<Result<(), String>>,
    /// A fresh generator: the same one the browser runs while offline.
    pub simulator: fn() -> Box<dyn Simulator + Send>,
    /// How a frame changes the state a snapshot carries (resume extension): the backend
    /// folds every frame it sends through this, and a snapshot is the frames it kept.
    pub keep: fn(&Frame) -> Keep,
}

/// What a frame means for a module's state (see [`Backend::keep`]).
#[derive(Debug)]
pub enum Keep {
    /// State under `key`: this frame, which applied to an empty state rebuilds that entry,
    /// replaces any earlier one (for a session: its latest figures, as a `new`).
    Put(String, Frame),
    /// State under `key`, as [`Keep::Put`], but finished: a paid or void invoice, a
    /// resolved or closed ticket. A backend keeps it for a while, so a new client sees what
    /// just happened, then forgets it as a real one would (the development backend: after
    /// `--settled-age`). A later `Put` of the same key makes it current again.
    Settled(String, Frame),
    /// The entry under `key` is gone (a session ended).
    Remove(String),
    /// Recent history rather than state (a bandwidth sample): a snapshot carries the latest
    /// ones, so a chart opens with them drawn.
    Recent,
    /// Not state: a payload that does not decode, say.
    Skip,
}

/// [`Keep::Put`] of `frame` itself under `key`, when it decodes as `T`: the usual case.
pub fn keep_as<T: serde::de::DeserializeOwned>(
    channel: crate::TypedChannel<T>,
    frame: &Frame,
    key: impl FnOnce(&T) -> String,
) -> Option<Keep> {
    (frame.channel() == channel.name()).then(|| match channel.decode(frame) {
        Ok(value) => Keep::Put(key(&value), frame.clone()),
        Err(_) => Keep::Skip,
    })
}

/// As [`keep_as`], for entries that finish: `key` also says whether this frame settles the
/// entry ([`Keep::Settled`]).
pub fn keep_until_settled<T: serde::de::DeserializeOwned>(
    channel: crate::TypedChannel<T>,
    frame: &Frame,
    key: impl FnOnce(&T) -> (String, bool),
) -> Option<Keep> {
    (frame.channel() == channel.name()).then(|| match channel.decode(frame) {
        Ok(value) => match key(&value) {
            (key, true) => Keep::Settled(key, frame.clone()),
            (key, false) => Keep::Put(key, frame.clone()),
        },
        Err(_) => Keep::Skip,
    })
}

/// Whether `frame` is on `channel` and, if so, whether its payload decodes as `T`: the piece
/// each module's [`Backend::check`] is made of.
pub fn check<T: serde::de::DeserializeOwned>(
    channel: crate::TypedChannel<T>,
    frame: &Frame,
) -> Option<Result<(), String>> {
    (frame.channel() == channel.name())
        .then(|| channel.decode(frame).map(drop).map_err(|e| e.to_string()))
}
