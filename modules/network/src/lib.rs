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
