//! The support module's views and its [`WsModule`] declaration.

mod views;

use switchboard_core::simulator::Simulator;
use switchboard_kit::WsHandle;
use switchboard_kit::module::WsModule;
use yew::prelude::*;

pub use views::{SubscriberTickets, SupportPage, SupportSummary};

use crate::data::CHANNELS;
use crate::sim::SupportSimulator;

/// The support module.
#[derive(Debug)]
pub struct Support;

/// The registry entry.
pub static MODULE: Support = Support;

impl WsModule for Support {
    fn id(&self) -> &'static str {
        "support"
    }
    fn title(&self) -> &'static str {
        "Support"
    }
    fn icon(&self) -> &'static str {
        "M4 5h16v11H8l-4 4z"
    }
    fn default_url(&self) -> &'static str {
        "/ws/support"
    }
    fn channels(&self) -> &'static [&'static str] {
        CHANNELS
    }
    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        Some(Box::new(SupportSimulator::default()))
    }
    fn keep(&self) -> Option<fn(&switchboard_core::Frame) -> switchboard_core::simulator::Keep> {
        Some(crate::BACKEND.keep)
    }
    fn attach(&self, handle: &WsHandle) {
        handle.store(views::store);
    }
    fn subscriber(&self, id: &str) -> Option<Html> {
        Some(html! { <SubscriberTickets id={id.to_owned()} /> })
    }

    fn page(&self) -> Html {
        html! { <SupportPage /> }
    }
    fn card(&self) -> Html {
        html! { <SupportSummary /> }
    }
}
