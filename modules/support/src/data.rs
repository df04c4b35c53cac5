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
}
