//! The support module's channel and payload, defined by Switchboard and documented in
//! `docs/PROTOCOL.md`.

use serde::{Deserialize, Serialize};
use switchboard_core::TypedChannel;

/// `ticket_update`: a support ticket was opened or changed.
pub const TICKET_UPDATE: TypedChannel<TicketUpdate> = TypedChannel::new("ticket_update");

/// Every channel this module receives.
pub const CHANNELS: &[&str] = &[TICKET_UPDATE.name()];

/// How urgent a ticket is. Ordered most urgent first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Service down for a customer.
    Urgent,
    /// Service degraded.
    High,
    /// The usual.
    Normal,
    /// Questions and requests.
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 4] = [Self::Urgent, Self::High, Self::Normal, Self::Low];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }
}

/// Where a ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    /// Waiting for the support team.
    Open,
    /// Waiting for the customer or a third party.
    Pending,
    /// Fixed; the customer may still reopen it.
    Resolved,
    /// Done.
    Closed,
}

impl TicketStatus {
    /// Whether the ticket still needs work (open or pending).
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Open | Self::Pending)
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
}

/// `ticket_update` payload: the ticket after the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUpdate {
    /// Ticket id, e.g. `TCK-10234`.
    pub ticket_id: String,
    /// One-line summary.
    pub subject: String,
    /// How urgent.
    pub priority: Priority,
    /// Where it is.
    pub status: TicketStatus,
    /// The agent working on it, if any.
    pub assignee: Option<String>,
    /// When it was opened (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// The subscriber (account) the ticket is about, as billing names it (`sub_1003`).
    /// Optional: a backend that sends none leaves the ticket unattributed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
}

use switchboard_core::action::{ActionPayload, TypedAction};

/// `take_ticket`: assign a ticket to the operator named in the token. The grant is
/// `support.take_ticket`. Refused when the ticket is resolved or closed, or taken by someone
/// else already.
pub const TAKE_TICKET: TypedAction<TakeTicket> = TypedAction::new("take_ticket");

/// `set_ticket_status`: park a ticket as pending or resolve it. The grant is
/// `support.set_ticket_status`.
pub const SET_TICKET_STATUS: TypedAction<SetTicketStatus> = TypedAction::new("set_ticket_status");

/// `take_ticket`'s payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeTicket {
    /// The ticket.
    pub ticket_id: String,
}

impl ActionPayload for TakeTicket {
    fn entity(&self) -> String {
        self.ticket_id.clone()
    }
}

/// The statuses an operator may set: the others (open, closed) belong to the helpdesk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettableStatus {
    /// Waiting for the customer or a third party.
    Pending,
    /// Fixed.
    Resolved,
}

impl SettableStatus {
    /// The ticket status it sets.
    pub const fn status(self) -> TicketStatus {
        match self {
            Self::Pending => TicketStatus::Pending,
            Self::Resolved => TicketStatus::Resolved,
        }
    }
}

/// `set_ticket_status`'s payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTicketStatus {
    /// The ticket.
    pub ticket_id: String,
    /// Pending or resolved.
    pub status: SettableStatus,
}

impl ActionPayload for SetTicketStatus {
    fn entity(&self) -> String {
        self.ticket_id.clone()
    }
}
