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

/// `search_sessions`: a query, not an action. The backend answers with the sessions whose
/// username, IP address, NAS address or session id contains the query (case-insensitive),
/// at most [`MAX_RESULTS`], in its `result` ([`SearchResult`]). Anyone who may see the
/// module may ask; it is not audited.
pub const SEARCH_SESSIONS: TypedAction<SearchSessions> = TypedAction::new("search_sessions");

/// The most sessions a search answers with.
pub const MAX_RESULTS: usize = 50;
/// The longest query, in characters.
pub const MAX_QUERY: usize = 100;

/// `search_sessions`' payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchSessions {
    /// What to look for: part of a username, an IP or NAS address, or a session id.
    pub query: String,
}

impl ActionPayload for SearchSessions {
    fn entity(&self) -> String {
        format!("search:{}", self.query)
    }
}

/// A search's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The first [`MAX_RESULTS`] matches.
    pub sessions: Vec<Session>,
    /// How many sessions match in all.
    pub total: usize,
}

/// Whether `session` matches `query` (already trimmed and lower-cased, see [`normalize`]):
/// its username, IP address, NAS address, session id or subscriber id contains it, ignoring
/// the case of
/// ASCII letters. The table's filter and the backend's search use this one rule, so both find
/// the same sessions. (ASCII only: logins, addresses and ids are; full Unicode case folding
/// would put the Unicode case tables in the wasm, about 5 KB brotli.)
pub fn matches(session: &Session, query: &str) -> bool {
    query.is_empty()
        || [
            &session.username,
            &session.ip_address,
            &session.nas_ip_address,
            &session.session_id,
        ]
        .into_iter()
        .chain(&session.subscriber_id)
        .any(|field| contains_ignoring_ascii_case(field, query))
}

/// Whether `haystack` contains `needle` (lower-case), ignoring the case of ASCII letters.
fn contains_ignoring_ascii_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// A query as [`matches`] takes it, or `None` when it is longer than [`MAX_QUERY`].
pub fn normalize(query: &str) -> Option<String> {
    let q = query.trim();
    (q.chars().count() <= MAX_QUERY).then(|| q.to_ascii_lowercase())
}
