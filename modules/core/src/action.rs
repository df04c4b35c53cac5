//! Actions (docs/PROTOCOL.md, "Actions"): an operator asks the backend to do something (end
//! a session, take a ticket, acknowledge an alert), and the backend answers exactly once.
//!
//! - A module declares each action as a [`TypedAction`], the way it declares a channel: the
//!   frame's `type` bound to its payload type once.
//! - The client sends `{"type": <action>, "data": {…payload, "request_id"}, "timestamp"}`.
//!   The server answers with one `action_result` carrying the same `request_id`: `done`, or
//!   `refused` with a reason in words. The same `request_id` twice is carried out once and
//!   answered the same way both times, so a resend after a reconnect is safe.
//! - A client that asks for actions in its auth frame (`"actions": true`) first gets a
//!   `grants` frame: who the token names, and which of the module's actions it may take. A
//!   server that sends none carries out no actions, and the client offers none.
//! - The [`Ledger`] is the client's side: what is pending, for which entity, until when. An
//!   action is never queued while offline (a disconnect carried out minutes after the click
//!   is worse than none); one unanswered within [`ANSWER_WITHIN`] is "no answer".
//!
//! Pure: time comes in as [`Instant`], request ids from the caller's random source.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// The server's answer to an action (server to client, never delivered to subscribers).
pub const ACTION_RESULT: &str = "action_result";
/// What the token may do on this module (server to client, after auth).
pub const GRANTS: &str = "grants";
/// How long the client waits for an answer before it says "no answer from the backend".
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// The longest `request_id` a server accepts.
pub const MAX_REQUEST_ID: usize = 64;
/// Results of actions that were answered late or twice, remembered so a late answer still
/// reaches its row: the most kept.
const REMEMBERED: usize = 256;

/// An action's name bound to its payload type. The name is the frame's `type` and, with the
/// module's id in front (`sessions.disconnect`), the grant a token must carry.
pub struct TypedAction<T> {
    name: &'static str,
    _payload: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedAction<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TypedAction<T> {}

impl<T> std::fmt::Debug for TypedAction<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedAction").field(&self.name).finish()
    }
}

impl<T> TypedAction<T> {
    /// An action named `name` (a valid channel name: lower-case letters, digits, `_`).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _payload: PhantomData,
        }
    }

    /// The frame's `type`.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: ActionPayload> TypedAction<T> {
    /// Decodes an action frame's `data` (JSON text): the payload, its request id and the
    /// entity it acts on. The error says why not, in words.
    pub fn decode(&self, data: &str) -> Result<(Request<T>, String), String> {
        let request: Request<T> = serde_json::from_str(data).map_err(|e| e.to_string())?;
        check_request_id(&request.request_id)?;
        let entity = request.payload.entity();
        Ok((request, entity))
    }
}

/// A payload of an action: it names the entity it acts on (the session, the ticket, the
/// alert), which keys the row's state in the dashboard and the audit log on the server.
pub trait ActionPayload: Serialize + DeserializeOwned {
    /// The id of the entity acted on.
    fn entity(&self) -> String;
}

/// An action frame's `data`: the payload's fields and the request id beside them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request<T> {
    /// Unique per action the operator means: the same id twice is one action.
    pub request_id: String,
    /// The action's own fields.
    #[serde(flatten)]
    pub payload: T,
}

/// An action frame's `data` from its payload's JSON object and the request id: the object
/// with `request_id` added. (What [`Request`] reads; written without serde's `flatten`, whose
/// code the browser's wasm would carry.) `None` when the payload is not a JSON object or the
/// id is not a valid request id.
pub fn with_request_id(payload: &str, request_id: &str) -> Option<String> {
    check_request_id(request_id).ok()?;
    let body = payload.trim().strip_suffix('}')?;
    if !body.starts_with('{') {
        return None;
    }
    let comma = if body.trim_end() == "{" { "" } else { "," };
    Some(format!(r#"{body}{comma}"request_id":"{request_id}"}}"#))
}

/// Whether a request id is one a server accepts: 1 to [`MAX_REQUEST_ID`] characters of
/// letters, digits, `-` and `_`.
pub fn check_request_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "request_id must be 1 to {MAX_REQUEST_ID} letters, digits, '-' or '_'"
        ))
    }
}

/// A fresh request id: 128 random bits, hex.
pub fn new_request_id(rng: &mut fastrand::Rng) -> String {
    format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

/// How the server answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Not carried out; `reason` says why.
    Refused,
}

/// `action_result`'s data: the one answer to one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    /// The request's id.
    pub request_id: String,
    /// The action's name.
    pub action: String,
    /// Done or refused.
    pub outcome: Outcome,
    /// Why it was refused, in words an operator reads ("session already ended").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What a query found (a search's matches), when the action has a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

impl ActionResult {
    /// A `done` answer.
    pub fn done(request_id: &str, action: &str, result: Option<serde_json::Value>) -> Self {
        Self {
            request_id: request_id.to_owned(),
            action: action.to_owned(),
            outcome: Outcome::Done,
            reason: None,
            result,
        }
    }

    /// Reads an answer from its frame's `data`, as the serde derive would, but through the
    /// `Value` decoder the client carries anyway (the derive would add its own code to the
    /// wasm). `None` for anything that is not an answer.
    pub fn from_json(data: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(data).ok()?;
        let text = |key: &str| v.get(key)?.as_str().map(str::to_owned);
        let outcome = match v.get("outcome")?.as_str()? {
            "done" => Outcome::Done,
            "refused" => Outcome::Refused,
            _ => return None,
        };
        let reason = match v.get("reason") {
            None | Some(serde_json::Value::Null) => None,
            Some(r) => Some(r.as_str()?.to_owned()),
        };
        Some(Self {
            request_id: text("request_id")?,
            action: text("action")?,
            outcome,
            reason,
            result: v.get("result").filter(|r| !r.is_null()).cloned(),
        })
    }

    /// A `refused` answer, with its reason.
    pub fn refused(request_id: &str, action: &str, reason: impl Into<String>) -> Self {
        Self {
            request_id: request_id.to_owned(),
            action: action.to_owned(),
            outcome: Outcome::Refused,
            reason: Some(reason.into()),
            result: None,
        }
    }
}

/// `grants`' data: who the token names and what it may do on this module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The operator's name, as actions are attributed to them.
    pub operator: String,
    /// The module's actions this token may take (their names, without the module).
    pub actions: Vec<String>,
}

impl Grants {
    /// Reads grants from their frame's `data` (see [`ActionResult::from_json`] for why not
    /// the derive). `None` for anything that is not grants.
    pub fn from_json(data: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(data).ok()?;
        let actions = v
            .get("actions")?
            .as_array()?
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            operator: v.get("operator")?.as_str()?.to_owned(),
            actions,
        })
    }

    /// Whether the token may take `action`.
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == action)
    }
}

/// Where an action stands, as the operator reads it on the row.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Sent; no answer yet.
    Pending,
    /// The backend carried it out (its frames follow as ordinary updates).
    Done {
        /// A query's result.
        result: Option<serde_json::Value>,
    },
    /// The backend refused it, for this reason.
    Refused(String),
    /// No answer within [`ANSWER_WITHIN`]: it may or may not have been carried out.
    NoAnswer,
}

impl Phase {
    /// The phase an answer puts an action in.
    fn of(result: ActionResult) -> Self {
        match result.outcome {
            Outcome::Done => Phase::Done {
                result: result.result,
            },
            Outcome::Refused => Phase::Refused(
                result
                    .reason
                    .unwrap_or_else(|| "refused by the backend".to_owned()),
            ),
        }
    }

    /// Still waiting for the answer.
    pub fn is_pending(&self) -> bool {
        matches!(self, Phase::Pending)
    }
}

/// One action the operator took, and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its request id.
    pub request_id: String,
    /// Its name.
    pub action: String,
    /// The entity it acts on.
    pub entity: String,
    /// When it was sent.
    pub sent_at: Instant,
    /// Where it stands.
    pub phase: Phase,
    /// When it reached that phase.
    pub at: Instant,
}

/// Why an action was not sent. Nothing is retried automatically.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActError {
    /// Not connected: actions never wait in the outbox.
    #[error("offline: actions are sent only while connected")]
    Offline,
    /// The backend carries out no actions (it sent no grants).
    #[error("the backend does not carry out actions")]
    Unsupported,
    /// The token does not grant this action.
    #[error("not permitted")]
    NotPermitted,
    /// The same action on the same entity is still waiting for its answer.
    #[error("already sent; waiting for the answer")]
    AlreadyPending,
    /// Over the outbound rate limit: try again in a moment.
    #[error("too many frames sent; try again in a moment")]
    RateLimited,
    /// The payload could not be encoded: a bug in the caller.
    #[error("could not encode the action: {0}")]
    Encode(String),
}

/// The client's actions: pending ones with their deadlines and frames (to resend on a new
/// socket), and the latest entry per entity, which the views show. Small by nature (an
/// operator's clicks, pruned after minutes), so plain vectors: no map code in the wasm.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Pending actions: request id, the frame's text, its deadline.
    pending: Vec<(String, String, Instant)>,
    /// The latest action per entity.
    entries: Vec<Entry>,
    /// Request ids no longer pending (answered or given up), oldest first, with their entity:
    /// a late or repeated answer still finds its row.
    settled: VecDeque<(String, String)>,
    /// Answers that matched no action this client took.
    unmatched: u64,
}

impl Ledger {
    /// Takes note of an action about to be sent, unless the same action on the same entity
    /// is pending (a double click): then it is not to be sent again.
    pub fn begin(
        &mut self,
        now: Instant,
        request_id: &str,
        action: &str,
        entity: &str,
        text: String,
    ) -> Result<(), ActError> {
        if self
            .entry(entity)
            .is_some_and(|e| e.phase.is_pending() && e.action == action)
        {
            return Err(ActError::AlreadyPending);
        }
        self.pending
            .push((request_id.to_owned(), text, now.plus(ANSWER_WITHIN)));
        self.entries.retain(|e| e.entity != entity);
        self.entries.push(Entry {
            request_id: request_id.to_owned(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            sent_at: now,
            phase: Phase::Pending,
            at: now,
        });
        Ok(())
    }

    /// Forgets an action that could not be sent after all.
    pub fn abandon(&mut self, request_id: &str, entity: &str) {
        self.pending.retain(|(id, ..)| id != request_id);
        self.entries
            .retain(|e| !(e.entity == entity && e.request_id == request_id));
    }

    /// Applies an answer; returns the entry it changed, or `None` for an answer to no action
    /// of this client (counted). A late answer (after "no answer") still updates the row:
    /// the backend's word beats the client's guess.
    pub fn answer(&mut self, now: Instant, result: ActionResult) -> Option<&Entry> {
        let id = result.request_id.as_str();
        let was_pending = self.pending.iter().any(|(p, ..)| p == id);
        let known = was_pending || self.settled.iter().any(|(s, _)| s == id);
        if !known {
            self.unmatched += 1;
            return None;
        }
        self.pending.retain(|(p, ..)| p != id);
        let entity = self
            .settled
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, e)| e.clone())
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.request_id == id)
                    .map(|e| e.entity.clone())
            })?;
        self.remember(id, &entity);
        let entry = self.entries.iter_mut().find(|e| e.request_id == id)?;
        entry.phase = Phase::of(result);
        entry.at = now;
        Some(entry)
    }

    fn remember(&mut self, request_id: &str, entity: &str) {
        if self.settled.iter().any(|(id, _)| id == request_id) {
            return;
        }
        if self.settled.len() == REMEMBERED {
            self.settled.pop_front();
        }
        self.settled
            .push_back((request_id.to_owned(), entity.to_owned()));
    }

    /// Gives up on actions past their deadline: each becomes "no answer". Returns their
    /// entities.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        self.give_up(now, |deadline| now < deadline)
    }

    /// Gives up on every pending action now: each becomes "no answer", and none is sent
    /// again. For a token that changed: an action is the operator's who asked, never
    /// carried out under another token (and its answer would not come on the new socket).
    pub fn give_up_all(&mut self, now: Instant) -> Vec<String> {
        self.give_up(now, |_| false)
    }

    fn give_up(&mut self, now: Instant, keep: impl Fn(Instant) -> bool) -> Vec<String> {
        let mut entities = Vec::new();
        let mut due = Vec::new();
        self.pending.retain(|(id, _, deadline)| {
            let keep = keep(*deadline);
            if !keep {
                due.push(id.clone());
            }
            keep
        });
        for id in due {
            let Some(entry) = self.entries.iter_mut().find(|e| e.request_id == id) else {
                continue;
            };
            entry.phase = Phase::NoAnswer;
            entry.at = now;
            let entity = entry.entity.clone();
            self.remember(&id, &entity);
            entities.push(entity);
        }
        entities
    }

    /// The earliest deadline of a pending action.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|(.., due)| *due).min()
    }

    /// The frames of every pending action, to send again on a new socket: the server
    /// carries out each request id once and answers it again.
    pub fn resend(&self) -> impl Iterator<Item = &str> {
        self.pending.iter().map(|(_, text, _)| text.as_str())
    }

    /// The latest action on `entity`.
    pub fn entry(&self, entity: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.entity == entity)
    }

    /// Every entity's latest action.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Forgets finished entries older than `age` (the row they described is long gone or
    /// changed), so the ledger stays small; pending ones stay.
    pub fn prune(&mut self, now: Instant, age: Duration) {
        self.entries
            .retain(|e| e.phase.is_pending() || now.saturating_since(e.at) < age);
    }

    /// Actions waiting for their answer.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Answers that matched no action of this client.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct End {
        session_id: String,
        reason: String,
    }

    impl ActionPayload for End {
        fn entity(&self) -> String {
            self.session_id.clone()
        }
    }

    const END: TypedAction<End> = TypedAction::new("disconnect");

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn a_request_decodes_with_its_id_and_entity() {
        let (request, entity) = END
            .decode(r#"{"session_id":"sess_1","reason":"abuse","request_id":"r-1"}"#)
            .unwrap();
        assert_eq!(entity, "sess_1");
        assert_eq!(request.request_id, "r-1");
        assert_eq!(request.payload.reason, "abuse");
        // Encoded again, the id sits beside the payload's fields.
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.contains(r#""request_id":"r-1""#), "{text}");
        assert!(text.contains(r#""session_id":"sess_1""#), "{text}");
    }

    #[test]
    fn a_request_without_a_good_id_or_of_the_wrong_shape_is_refused_in_words() {
        for data in [
            r#"{"session_id":"s","reason":"x"}"#,
            r#"{"session_id":"s","reason":"x","request_id":""}"#,
            r#"{"session_id":"s","reason":"x","request_id":"a b"}"#,
            r#"{"session_id":5,"reason":"x","request_id":"r"}"#,
            "[]",
        ] {
            let err = END.decode(data).unwrap_err();
            assert!(!err.is_empty(), "{data}");
        }
        let long = format!(
            r#"{{"session_id":"s","reason":"x","request_id":"{}"}}"#,
            "a".repeat(MAX_REQUEST_ID + 1)
        );
        assert!(END.decode(&long).is_err());
    }

    #[test]
    fn results_round_trip_in_the_documented_shape() {
        let done = ActionResult::done("r-1", "disconnect", None);
        assert_eq!(
            serde_json::to_string(&done).unwrap(),
            r#"{"request_id":"r-1","action":"disconnect","outcome":"done"}"#
        );
        let refused = ActionResult::refused("r-2", "disconnect", "session already ended");
        let text = serde_json::to_string(&refused).unwrap();
        assert_eq!(
            text,
            r#"{"request_id":"r-2","action":"disconnect","outcome":"refused","reason":"session already ended"}"#
        );
        assert_eq!(
            serde_json::from_str::<ActionResult>(&text).unwrap(),
            refused
        );
    }

    #[test]
    fn the_request_id_is_added_to_the_payloads_object_as_the_server_reads_it() {
        let payload = End {
            session_id: "s\"1".into(),
            reason: "abuse".into(),
        };
        let text = serde_json::to_string(&payload).unwrap();
        let data = with_request_id(&text, "r-1").unwrap();
        let (request, entity) = END.decode(&data).unwrap();
        assert_eq!(request.payload, payload);
        assert_eq!(request.request_id, "r-1");
        assert_eq!(entity, "s\"1");
        assert_eq!(
            with_request_id("{}", "r").as_deref(),
            Some(r#"{"request_id":"r"}"#)
        );
        assert_eq!(with_request_id("[1]", "r"), None);
        assert_eq!(with_request_id("7", "r"), None);
        assert_eq!(with_request_id("{}", "a\"b"), None);
    }

    #[test]
    fn the_clients_readers_agree_with_the_derive() {
        for text in [
            r#"{"request_id":"r","action":"a","outcome":"done"}"#,
            r#"{"request_id":"r","action":"a","outcome":"refused","reason":"no"}"#,
            r#"{"request_id":"r","action":"a","outcome":"done","result":[1,{"x":2}]}"#,
            r#"{"request_id":"r","action":"a","outcome":"done","reason":null}"#,
        ] {
            let derived: ActionResult = serde_json::from_str(text).unwrap();
            assert_eq!(ActionResult::from_json(text), Some(derived), "{text}");
        }
        for bad in [
            r#"{"request_id":7,"action":"a","outcome":"done"}"#,
            r#"{"request_id":"r","action":"a","outcome":"maybe"}"#,
            r#"{"request_id":"r","outcome":"done"}"#,
            r#"{"request_id":"r","action":"a","outcome":"refused","reason":5}"#,
            "[]",
            "not json",
        ] {
            assert!(serde_json::from_str::<ActionResult>(bad).is_err(), "{bad}");
            assert_eq!(ActionResult::from_json(bad), None, "{bad}");
        }
        let text = r#"{"operator":"Ada","actions":["a","b"]}"#;
        let derived: Grants = serde_json::from_str(text).unwrap();
        assert_eq!(Grants::from_json(text), Some(derived));
        for bad in [
            r#"{"operator":"Ada","actions":["a",1]}"#,
            r#"{"operator":"Ada"}"#,
            r#"{"actions":[]}"#,
        ] {
            assert!(serde_json::from_str::<Grants>(bad).is_err(), "{bad}");
            assert_eq!(Grants::from_json(bad), None, "{bad}");
        }
    }

    #[test]
    fn request_ids_are_fresh_and_valid() {
        let mut rng = fastrand::Rng::with_seed(7);
        let a = new_request_id(&mut rng);
        let b = new_request_id(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(check_request_id(&a), Ok(()));
    }

    #[test]
    fn a_double_click_is_one_action() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(0), "r-1", "disconnect", "sess_1", "frame".into())
            .unwrap();
        assert_eq!(
            ledger.begin(at(5), "r-2", "disconnect", "sess_1", "frame".into()),
            Err(ActError::AlreadyPending)
        );
        assert_eq!(ledger.pending(), 1);
        // Another entity, or another action on it, is its own.
        ledger
            .begin(at(5), "r-3", "disconnect", "sess_2", "frame".into())
            .unwrap();
        assert_eq!(ledger.pending(), 2);
    }

    #[test]
    fn an_answer_settles_its_entry_and_only_its_entry() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(0), "r-1", "disconnect", "sess_1", "f1".into())
            .unwrap();
        ledger
            .begin(at(0), "r-2", "disconnect", "sess_2", "f2".into())
            .unwrap();
        let entry = ledger
            .answer(
                at(40),
                ActionResult::refused("r-2", "disconnect", "session already ended"),
            )
            .unwrap();
        assert_eq!(entry.entity, "sess_2");
        assert_eq!(entry.phase, Phase::Refused("session already ended".into()));
        assert!(ledger.entry("sess_1").unwrap().phase.is_pending());
        assert_eq!(ledger.resend().collect::<Vec<_>>(), ["f1"]);
        // An answer to nothing this client sent is counted, not applied.
        assert!(
            ledger
                .answer(at(50), ActionResult::done("r-9", "disconnect", None))
                .is_none()
        );
        assert_eq!(ledger.unmatched(), 1);
        // Once settled, the entity may be acted on again.
        ledger
            .begin(at(60), "r-4", "disconnect", "sess_2", "f4".into())
            .unwrap();
    }

    #[test]
    fn no_answer_within_the_limit_is_no_answer_and_a_late_answer_still_counts() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(1_000), "r-1", "disconnect", "sess_1", "f1".into())
            .unwrap();
        let due = at(1_000).plus(ANSWER_WITHIN);
        assert_eq!(ledger.deadline(), Some(due));
        assert!(ledger.expire(at(due.as_millis() - 1)).is_empty());
        assert_eq!(ledger.expire(due), ["sess_1"]);
        assert_eq!(ledger.entry("sess_1").unwrap().phase, Phase::NoAnswer);
        assert_eq!(ledger.deadline(), None);
        assert_eq!(ledger.resend().count(), 0);
        // The backend's word, even late, replaces the guess.
        let entry = ledger
            .answer(at(12_000), ActionResult::done("r-1", "disconnect", None))
            .unwrap();
        assert_eq!(entry.phase, Phase::Done { result: None });
        // The same answer again changes nothing and is not counted as unmatched.
        assert!(
            ledger
                .answer(at(12_001), ActionResult::done("r-1", "disconnect", None))
                .is_some()
        );
        assert_eq!(ledger.unmatched(), 0);
    }

    #[test]
    fn a_newer_action_on_the_entity_is_not_overwritten_by_an_older_answer() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(0), "r-1", "take", "T-1", "f1".into())
            .unwrap();
        ledger.expire(at(0).plus(ANSWER_WITHIN));
        ledger
            .begin(at(20_000), "r-2", "take", "T-1", "f2".into())
            .unwrap();
        assert!(
            ledger
                .answer(at(20_001), ActionResult::done("r-1", "take", None))
                .is_none()
        );
        assert_eq!(ledger.entry("T-1").unwrap().request_id, "r-2");
        assert!(ledger.entry("T-1").unwrap().phase.is_pending());
    }

    #[test]
    fn prune_keeps_pending_and_recent_entries() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(0), "r-1", "a", "e1", String::new())
            .unwrap();
        ledger
            .begin(at(0), "r-2", "a", "e2", String::new())
            .unwrap();
        ledger.answer(at(1), ActionResult::done("r-2", "a", None));
        ledger.prune(at(60_000), Duration::from_secs(30));
        assert!(ledger.entry("e1").is_some(), "pending stays");
        assert!(ledger.entry("e2").is_none(), "old and settled goes");
    }

    #[test]
    fn abandon_forgets_an_unsent_action() {
        let mut ledger = Ledger::default();
        ledger
            .begin(at(0), "r-1", "a", "e1", String::new())
            .unwrap();
        ledger.abandon("r-1", "e1");
        assert_eq!(ledger.pending(), 0);
        assert!(ledger.entry("e1").is_none());
    }

    #[test]
    fn grants_name_the_allowed_actions() {
        let grants: Grants =
            serde_json::from_str(r#"{"operator":"Ada","actions":["disconnect"]}"#).unwrap();
        assert!(grants.allows("disconnect"));
        assert!(!grants.allows("take"));
    }
}
