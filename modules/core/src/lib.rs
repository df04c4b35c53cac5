//! Switchboard's protocol and connection logic, with no browser and no I/O.
//!
//! - [`frame`]: the `{"type","data","timestamp"}` wire format and why a frame is dropped.
//! - [`channel`]: channel names, and typed channels that bind a name to its payload type.
//! - [`subscriptions`]: who receives which channel, in a fixed order.
//! - [`connection`]: the sans-IO state machine: events in, commands out.
//! - [`backoff`], [`rate`]: the reconnect delays and the outbound token bucket.
//! - [`simulator`]: the trait behind the labelled simulated data shown while offline.
//! - [`feed`]: the server side of the resume extension: positions, history and state.
//! - [`history`]: bounded rings for chart and counter history.
//! - [`payload`]: the reference's `BandwidthData` and `SessionUpdate`.
//! - [`action`]: actions an operator takes, their answers, and the client's ledger of them.
//! - [`share`]: one connection per module across a browser's tabs: election and relay.
//! - [`text`]: cutting wire strings to a size a store can keep.
//! - [`app_config`]: the deployment's `config.json`, parsed and checked, shared by the shell
//!   (at run time) and `cargo xtask dist --config` (before a build).
//!
//! Time ([`Instant`]) and randomness (a seeded `fastrand::Rng`) are always passed in, so
//! every behaviour here is tested natively and exactly.

pub mod action;
pub mod app_config;
pub mod backoff;
pub mod channel;
pub mod config;
pub mod connection;
pub mod feed;
pub mod frame;
pub mod history;
pub mod payload;
pub mod rate;
pub mod resume;
pub mod share;
pub mod simulator;
pub mod status;
pub mod subscriptions;
pub mod text;
pub mod time;

pub use channel::{PayloadError, TypedChannel};
pub use config::{Config, OutboxConfig};
pub use connection::{Command, Connection, Event, SendError, SendOutcome, SocketId};
pub use frame::{DropReason, Frame, Provenance};
pub use status::{ConnectionError, Stats, Status, StatusSnapshot};
pub use time::Instant;
