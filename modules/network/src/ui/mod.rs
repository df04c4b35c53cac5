//! The network module's views and its [`WsModule`] declaration.

mod bandwidth;
mod health;

use switchboard_core::Config;
use switchboard_core::simulator::Simulator;
use switchboard_kit::WsHandle;
use switchboard_kit::module::WsModule;
use yew::prelude::*;

pub use bandwidth::{LiveBandwidthChart, LiveBandwidthChartProps, NetworkState, POINTS, store};
pub use health::{NetworkHealthPanel, NetworkHealthSummary};

use crate::data::CHANNELS;
use crate::sim::{BANDWIDTH_INTERVAL, NetworkSimulator};

/// The network module.
#[derive(Debug)]
pub struct Network;

/// The registry entry.
pub static MODULE: Network = Network;

impl WsModule for Network {
    fn id(&self) -> &'static str {
        "network"
    }
    fn title(&self) -> &'static str {
        "Network"
    }
    fn icon(&self) -> &'static str {
        "M3 17l5-6 4 4 5-7 4 5"
    }
    fn default_url(&self) -> &'static str {
        "/ws/network"
    }
    fn channels(&self) -> &'static [&'static str] {
        CHANNELS
    }
    /// Bandwidth arrives every 2 s, so five missed updates mean the socket is dead.
    fn connection(&self) -> Config {
        Config {
            stale_after: Some(BANDWIDTH_INTERVAL * 5),
            ..Config::default()
        }
    }
    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        Some(Box::new(NetworkSimulator::default()))
    }
    fn keep(&self) -> Option<fn(&switchboard_core::Frame) -> switchboard_core::simulator::Keep> {
        Some(crate::BACKEND.keep)
    }
    fn attach(&self, handle: &WsHandle) {
        handle.store(store);
    }
    fn page(&self) -> Html {
        html! {
            <div style="display:grid; gap:24px; grid-template-columns:repeat(auto-fit, minmax(340px, 1fr));">
                <LiveBandwidthChart />
                <NetworkHealthPanel />
            </div>
        }
    }
    fn card(&self) -> Html {
        html! {
            <>
                <LiveBandwidthChart points={30} height={110} />
                <NetworkHealthSummary />
            </>
        }
    }
}
