//! The Yew side every Switchboard module uses: the theme today; the `WsModule` contract, the
//! isolated provider, hooks, browser transport and chart widgets as they land.
//!
//! The kit holds no protocol logic. It adapts browser events to `switchboard-core` and carries
//! out the commands the core returns.

pub mod theme;
