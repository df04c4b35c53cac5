//! The sessions module's views and its [`WsModule`] declaration.

mod backend_search;
mod monitor;
mod subscriber;

use switchboard_core::Config;
use switchboard_core::simulator::Simulator;
use switchboard_kit::WsHandle;
use switchboard_kit::module::WsModule;
use yew::prelude::*;

pub use monitor::{ActiveSessionsSummary, LiveSessionMonitor, MAX_ROWS, Monitor, store};
pub use subscriber::SubscriberSessions;

use crate::STALE_AFTER;
use crate::data::CHANNELS;
use crate::sim::SessionSimulator;

/// The sessions module.
#[derive(Debug)]
pub struct Sessions;

/// The registry entry.
pub static MODULE: Sessions = Sessions;

impl WsModule for Sessions {
    fn id(&self) -> &'static str {
        "sessions"
    }
    fn title(&self) -> &'static str {
        "Sessions"
    }
    fn icon(&self) -> &'static str {
        "M4 6h16M4 12h16M4 18h10"
    }
    fn default_url(&self) -> &'static str {
        "/ws/sessions"
    }
    fn channels(&self) -> &'static [&'static str] {
        CHANNELS
    }
    /// A RADIUS feed is steady: interim updates flow all the time on a real network, so a
    /// minute of silence means a dead (half-open) socket, even on a server that sends no
    /// heartbeats. A server with heartbeats gets the tighter limit they imply. An ISP with
    /// no sessions at all on such a server reconnects once a minute, harmlessly.
    fn connection(&self) -> Config {
        Config {
            stale_after: Some(STALE_AFTER),
            ..Config::default()
        }
    }
    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        Some(Box::new(SessionSimulator::default()))
    }
    fn keep(&self) -> Option<fn(&switchboard_core::Frame) -> switchboard_core::simulator::Keep> {
        Some(crate::BACKEND.keep)
    }
    fn attach(&self, handle: &WsHandle) {
        handle.store(store);
    }
    fn searches(&self) -> bool {
        true
    }

    fn subscriber(&self, id: &str) -> Option<Html> {
        Some(html! { <SubscriberSessions id={id.to_owned()} /> })
    }

    fn page(&self) -> Html {
        html! { <LiveSessionMonitor /> }
    }
    fn card(&self) -> Html {
        html! { <ActiveSessionsSummary /> }
    }
}
