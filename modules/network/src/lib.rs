//! The network module: live bandwidth (upload, download, latency) and network health.
//!
//! - [`data`]: channels and payloads (browser-free).
//! - [`sim`]: the simulator, shared with the development backend (browser-free).
//! - `ui` (feature `ui`, on by default): `LiveBandwidthChart`, the health panel, the page,
//!   the overview card and the [`WsModule`](switchboard_kit::module::WsModule) declaration.

pub mod data;
pub mod sim;
#[cfg(feature = "ui")]
pub mod ui;

use switchboard_core::simulator::{ActionSpec, Keep, check, check_action, keep_as};

/// What the development backend serves for this module (see
/// [`Backend`](switchboard_core::simulator::Backend)).
pub const BACKEND: switchboard_core::simulator::Backend = switchboard_core::simulator::Backend {
    id: "network",
    channels: data::CHANNELS,
    main_channel: data::BANDWIDTH_UPDATE.name(),
    check: |f| check(data::BANDWIDTH_UPDATE, f).or_else(|| check(data::NETWORK_STATUS, f)),
    simulator: || Box::new(sim::NetworkSimulator::default()),
    keep: |f| keep_as(data::NETWORK_STATUS, f, |_| "status".to_owned()).unwrap_or(Keep::Recent),
    actions: &[ActionSpec {
        name: data::ACKNOWLEDGE_ALERT.name(),
        query: false,
        check: |d| check_action(data::ACKNOWLEDGE_ALERT, d),
    }],
};
