//! The sessions module: active RADIUS sessions, live.
//!
//! - [`data`]: the channel and payload (browser-free).
//! - [`sim`]: the simulator, shared with the development backend (browser-free).
//! - [`table`]: the session table's model: rates, bounds, animations (browser-free).
//! - `ui` (feature `ui`, on by default): `LiveSessionMonitor`, the page, the overview card and
//!   the [`WsModule`](switchboard_kit::module::WsModule) declaration.

pub mod data;
pub mod sim;
pub mod table;
#[cfg(feature = "ui")]
pub mod ui;

use switchboard_core::simulator::check;

/// What the development backend serves for this module (see
/// [`Backend`](switchboard_core::simulator::Backend)).
pub const BACKEND: switchboard_core::simulator::Backend = switchboard_core::simulator::Backend {
    id: "sessions",
    channels: data::CHANNELS,
    main_channel: data::SESSION_UPDATE.name(),
    check: |f| check(data::SESSION_UPDATE, f),
    simulator: || Box::new(sim::SessionSimulator::default()),
};
