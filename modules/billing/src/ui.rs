//! The billing module's views and its [`WsModule`] declaration.

mod views;

use switchboard_core::simulator::Simulator;
use switchboard_kit::WsHandle;
use switchboard_kit::module::WsModule;
use yew::prelude::*;

pub use views::{BillingPage, BillingSummary, SubscriberInvoices};

use crate::data::CHANNELS;
use crate::sim::BillingSimulator;

/// The billing module.
#[derive(Debug)]
pub struct Billing;

/// The registry entry.
pub static MODULE: Billing = Billing;

impl WsModule for Billing {
    fn id(&self) -> &'static str {
        "billing"
    }
    fn title(&self) -> &'static str {
        "Billing"
    }
    fn icon(&self) -> &'static str {
        "M5 4h14v16l-3-2-2 2-2-2-2 2-2-2-3 2z"
    }
    fn default_url(&self) -> &'static str {
        "/ws/billing"
    }
    fn channels(&self) -> &'static [&'static str] {
        CHANNELS
    }
    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        Some(Box::new(BillingSimulator::default()))
    }
    fn keep(&self) -> Option<fn(&switchboard_core::Frame) -> switchboard_core::simulator::Keep> {
        Some(crate::BACKEND.keep)
    }
    fn attach(&self, handle: &WsHandle) {
        handle.store(views::store);
    }
    fn subscriber(&self, id: &str) -> Option<Html> {
        Some(html! { <SubscriberInvoices id={id.to_owned()} /> })
    }

    fn page(&self) -> Html {
        html! { <BillingPage /> }
    }
    fn card(&self) -> Html {
        html! { <BillingSummary /> }
    }
}
