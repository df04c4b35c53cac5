//! The support module: the live ticket queue.
//!
//! - [`data`]: the channel and payload (browser-free).
//! - [`sim`]: the simulator, shared with the development backend (browser-free).
//! - `ui` (feature `ui`, on by default): the queue, the open-tickets chart, the SLA
//!   indicator, and the [`WsModule`](switchboard_kit::module::WsModule) declaration.

pub mod data;
pub mod queue;
pub mod sim;
#[cfg(feature = "ui")]
pub mod ui;

use switchboard_core::simulator::{ActionSpec, Keep, check, check_action, keep_until_settled};

/// What the development backend serves for this module (see
/// [`Backend`](switchboard_core::simulator::Backend)).
pub const BACKEND: switchboard_core::simulator::Backend = switchboard_core::simulator::Backend {
    id: "support",
    channels: data::CHANNELS,
    main_channel: data::TICKET_UPDATE.name(),
    check: |f| check(data::TICKET_UPDATE, f),
    simulator: || Box::new(sim::SupportSimulator::default()),
    // Resolved and closed tickets are finished business.
    keep: |f| {
        keep_until_settled(data::TICKET_UPDATE, f, |t| {
            let settled = matches!(
                t.status,
                data::TicketStatus::Resolved | data::TicketStatus::Closed
            );
            (t.ticket_id.clone(), settled)
        })
        .unwrap_or(Keep::Skip)
    },
    actions: &[
        ActionSpec {
            name: data::TAKE_TICKET.name(),
            query: false,
            check: |d| check_action(data::TAKE_TICKET, d),
        },
        ActionSpec {
            name: data::SET_TICKET_STATUS.name(),
            query: false,
            check: |d| check_action(data::SET_TICKET_STATUS, d),
        },
    ],
};
