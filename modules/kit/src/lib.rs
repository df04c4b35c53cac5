//! The Yew side every Switchboard module uses.
//!
//! - [`module`]: the `WsModule` plugin contract and the registry check.
//! - [`provider`]: `WsProvider`, one isolated connection per module.
//! - [`hooks`]: `use_websocket`, `use_websocket_subscription`, typed and status hooks.
//! - [`store`]: a module's state beside its connection, live and simulated kept apart.
//! - [`action`]: the confirmation dialog and an action's state in words.
//! - [`handle`]: the connection handle behind the provider.
//! - [`theme`]: colours for light and dark mode.
//!
//! The kit holds no protocol logic. It adapts browser events to `switchboard-core` and carries
//! out the commands the core returns.

pub mod action;
pub mod bars;
pub mod chart;
pub mod early;
pub mod format;
pub mod handle;
pub mod hooks;
pub mod module;
pub mod nav;
pub mod probe;
pub mod provider;
pub mod redraw;
pub mod search;
mod share;
pub mod status;
pub mod store;
pub mod theme;
pub mod token;
mod transport;

pub use handle::WsHandle;
pub use provider::WsProvider;
