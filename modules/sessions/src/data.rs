//! The sessions module's channel and payload: the reference's `SessionUpdate`.

pub use switchboard_core::payload::{SESSION_UPDATE, Session, SessionAction, SessionUpdate};

/// Every channel this module receives.
pub const CHANNELS: &[&str] = &[SESSION_UPDATE.name()];

use serde::{Deserialize, Serialize};
use switchboard_core::action::{ActionPayload, TypedAction};

/// `disconnect`: end a session (the backend sends the NAS a RADIUS Disconnect-Message). The
/// grant is `sessions.disconnect`. Done means the NAS ended it; the session's `terminate`
/// follows on `session_update` like any other.
pub const DISCONNECT: TypedAction<Disconnect> = TypedAction::new("disconnect");

/// Every action this module declares.
pub const ACTIONS: &[&str] = &[DISCONNECT.name()];

/// Why an operator ends a session: the short list the dialog offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectReason {
    /// Abusive traffic (spam, attacks, a compromised device).
    Abuse,
    /// Unpaid account.
    NonPayment,
    /// The subscriber asked for it (a stuck session, a new plan).
    SubscriberRequest,
    /// Maintenance on the NAS or the access network.
    Maintenance,
    /// Something else: the note says what.
    Other,
}

impl DisconnectReason {
    /// Every reason, in the order the dialog lists them.
    pub const ALL: [DisconnectReason; 5] = [
        DisconnectReason::Abuse,
        DisconnectReason::NonPayment,
        DisconnectReason::SubscriberRequest,
        DisconnectReason::Maintenance,
        DisconnectReason::Other,
    ];

    /// As the dialog and the audit log show it.
    pub const fn label(self) -> &'static str {
        match self {
            DisconnectReason::Abuse => "Abuse",
            DisconnectReason::NonPayment => "Non-payment",
            DisconnectReason::SubscriberRequest => "Subscriber request",
            DisconnectReason::Maintenance => "Maintenance",
            DisconnectReason::Other => "Other",
        }
    }
}

/// The most characters of free text a disconnect's note keeps.
pub const MAX_NOTE: usize = 500;

/// `disconnect`'s payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// The session to end.
    pub session_id: String,
    /// Why, from the short list.
    pub reason: DisconnectReason,
    /// Free text: required for `other`, optional otherwise; at most [`MAX_NOTE`] characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl ActionPayload for Disconnect {
    fn entity(&self) -> String {
        self.session_id.clone()
    }
}

impl Disconnect {
    /// Why the payload cannot be carried out as it is, in words; `None` when it can.
    pub fn problem(&self) -> Option<&'static str> {
        if self.reason == DisconnectReason::Other && self.note.trim().is_empty() {
            Some("a note is required when the reason is \"Other\"")
        } else if self.note.chars().count() > MAX_NOTE {
            Some("the note is longer than 500 characters")
        } else {
            None
        }
    }
}
