//! The sessions module: active RADIUS sessions, live.
//!
//! - [`data`]: the channel and payload (browser-free).
//! - [`sim`]: the simulator, shared with the development backend (browser-free).
//! - [`table`]: the session table's model: rates, bounds, animations (browser-free).
//! - `ui` (feature `ui`, on by default): `LiveSessionMonitor`, the page, the overview card and
//!   the [`WsModule`](switchboard_kit::module::WsModule) declaration.

/// Silence on the sessions socket longer than this closes it, with or without heartbeats
/// (see the module's `connection` settings and docs/PROTOCOL.md, "Heartbeats").
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

pub mod data;
pub mod sim;
pub mod table;
#[cfg(feature = "ui")]
pub mod ui;

use switchboard_core::payload::SessionAction;
use switchboard_core::simulator::{ActionSpec, Keep, check, check_action};
use switchboard_core::{Frame, Provenance};

/// What the development backend serves for this module (see
/// [`Backend`](switchboard_core::simulator::Backend)).
pub const BACKEND: switchboard_core::simulator::Backend = switchboard_core::simulator::Backend {
    id: "sessions",
    channels: data::CHANNELS,
    main_channel: data::SESSION_UPDATE.name(),
    check: |f| check(data::SESSION_UPDATE, f),
    simulator: || Box::new(sim::SessionSimulator::default()),
    keep,
    actions: &[
        ActionSpec {
            name: data::DISCONNECT.name(),
            query: false,
            check: |d| check_action(data::DISCONNECT, d),
        },
        ActionSpec {
            name: data::SEARCH_SESSIONS.name(),
            query: true,
            check: |d| check_action(data::SEARCH_SESSIONS, d),
        },
    ],
};

/// A session's entry in the backend's state is its latest figures as a `new`, so a snapshot
/// rebuilds the table from empty; a `terminate` removes it.
fn keep(frame: &Frame) -> Keep {
    if frame.channel() != data::SESSION_UPDATE.name() {
        return Keep::Skip;
    }
    let Ok(mut update) = data::SESSION_UPDATE.decode(frame) else {
        return Keep::Skip;
    };
    let id = update.session.session_id.clone();
    if update.action == SessionAction::Terminate {
        return Keep::Remove(id);
    }
    update.action = SessionAction::New;
    match Frame::new(
        frame.channel().to_owned(),
        &update,
        frame.timestamp(),
        Provenance::Live,
    ) {
        Ok(state) => Keep::Put(id, state),
        Err(_) => Keep::Skip,
    }
}
