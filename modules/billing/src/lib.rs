//! The billing module: invoices and subscriber account changes, live.
//!
//! - [`data`]: channels and payloads, with integer money (browser-free).
//! - [`sim`]: the simulator, shared with the development backend (browser-free).
//! - `ui` (feature `ui`, on by default): the invoice feed, totals by status, paid revenue,
//!   subscriber changes, and the [`WsModule`](switchboard_kit::module::WsModule) declaration.

pub mod data;
pub mod ledger;
pub mod sim;
#[cfg(feature = "ui")]
pub mod ui;

use switchboard_core::simulator::{Keep, check, keep_until_settled};

/// What the development backend serves for this module (see
/// [`Backend`](switchboard_core::simulator::Backend)).
pub const BACKEND: switchboard_core::simulator::Backend = switchboard_core::simulator::Backend {
    id: "billing",
    channels: data::CHANNELS,
    main_channel: data::INVOICE_UPDATE.name(),
    check: |f| check(data::INVOICE_UPDATE, f).or_else(|| check(data::SUBSCRIBER_UPDATE, f)),
    simulator: || Box::new(sim::BillingSimulator::default()),
    keep: |f| {
        // Paid and void invoices, and terminated subscribers, are finished business.
        keep_until_settled(data::INVOICE_UPDATE, f, |i| {
            let settled = matches!(
                i.status,
                data::InvoiceStatus::Paid | data::InvoiceStatus::Void
            );
            (format!("invoice:{}", i.invoice_id), settled)
        })
        .or_else(|| {
            keep_until_settled(data::SUBSCRIBER_UPDATE, f, |s| {
                let settled = s.status == data::SubscriberStatus::Terminated;
                (format!("subscriber:{}", s.subscriber_id), settled)
            })
        })
        .unwrap_or(Keep::Skip)
    },
    actions: &[],
};
