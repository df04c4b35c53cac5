//! The simulator contract: plain Rust that makes believable frames while a module's live feed
//! is offline. The browser runs it on a timer and labels its output; the development backend
//! runs the same generators to serve live traffic.

use std::time::Duration;

use crate::action::{ActionPayload, TypedAction};
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

/// A simulator as the development backend runs it: one that also carries out the module's
/// actions in its world. A separate trait, so the browser's offline simulators (plain
/// [`Simulator`]s) carry no action code into the wasm.
pub trait Actor: Simulator {
    /// Carries out an action in the simulated world. The change reaches every client as the
    /// frames returned, like any other. Default: refused.
    fn act(&mut self, now: Instant, call: &Call<'_>) -> Acted {
        let _ = now;
        Acted::Refused(format!("`{}` is not carried out here", call.action))
    }
}

/// An action to carry out: checked against the module's [`ActionSpec`] and authorised
/// already.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The action's name.
    pub action: &'a str,
    /// The frame's `data`, JSON text (the payload and its `request_id`).
    pub data: &'a str,
    /// Who asked, as actions are attributed (the token's `name`, or its subject).
    pub operator: &'a str,
    /// The module's state as the backend serves it (the frames a snapshot carries): what a
    /// query searches, and the truth an action is checked against.
    pub state: &'a [&'a Frame],
}

impl Call<'_> {
    /// The payload, when this is `action`'s call.
    pub fn payload<T: ActionPayload>(&self, action: TypedAction<T>) -> Option<T> {
        (self.action == action.name())
            .then(|| action.decode(self.data).ok())
            .flatten()
            .map(|(request, _)| request.payload)
    }
}

/// What became of an action.
#[derive(Debug)]
pub enum Acted {
    /// Carried out: these frames say what changed, and a query's result goes back with the
    /// answer.
    Done {
        /// The change, as frames of the module's channels.
        frames: Vec<Frame>,
        /// A query's result.
        result: Option<serde_json::Value>,
    },
    /// Not carried out, with the reason in words ("session already ended").
    Refused(String),
}

/// An action a module's backend carries out (see [`crate::action`]).
#[derive(Debug)]
pub struct ActionSpec {
    /// The frame's `type`; the grant is `<module>.<name>`.
    pub name: &'static str,
    /// A query (a search): it changes nothing, so anyone who may see the module may ask,
    /// with no grant, and it is not written to the audit log.
    pub query: bool,
    /// Decodes the frame's `data`: its request id and the entity acted on, or why not, in
    /// words. Build it from [`check_action`].
    pub check: fn(&str) -> Result<(String, String), String>,
}

/// The piece each [`ActionSpec::check`] is made of.
pub fn check_action<T: ActionPayload>(
    action: TypedAction<T>,
    data: &str,
) -> Result<(String, String), String> {
    action
        .decode(data)
        .map(|(request, entity)| (request.request_id, entity))
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
    /// A fresh generator: the same one the browser runs while offline, and the actions it
    /// carries out in its world.
    pub simulator: fn() -> Box<dyn Actor + Send>,
    /// How a frame changes the state a snapshot carries (resume extension): the backend
    /// folds every frame it sends through this, and a snapshot is the frames it kept.
    pub keep: fn(&Frame) -> Keep,
    /// The actions the module's backend carries out (its simulator's [`Actor::act`] in the
    /// development backend).
    pub actions: &'static [ActionSpec],
}

impl Backend {
    /// The action named `name`, if the module has it.
    pub fn action(&self, name: &str) -> Option<&'static ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }
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
