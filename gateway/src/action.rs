//! Actions, the server's side (docs/PROTOCOL.md, "Actions"). A frame whose `type` is one of
//! the module's actions is:
//!
//! 1. read for its `request_id` (a frame without a usable one cannot be answered: it is
//!    counted and logged, and nothing else happens);
//! 2. looked up by (token subject, request id): a request seen before gets the first one's
//!    answer, and nothing is carried out again;
//! 3. checked: its payload against the module's type, and the token's `actions` claim for
//!    `<module>.<action>` (the client hiding a button is not the check);
//! 4. carried out by the endpoint's [`Carrier`] (the development backend's world; the
//!    gateway binary has none, and refuses every action, saying so);
//! 5. answered with one `action_result`, and written to the audit log: who, what, which
//!    entity, when, the outcome and why.
//!
//! A query (a search: its `ActionSpec::query`) takes the same path but needs no grant
//! (anyone who may see the module may ask) and is not audited: it changes nothing.
//!
//! A carrier that never answers leaves the request pending: the client says "no answer"
//! after its own timeout, and a resend of the same id waits on the same answer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde::Serialize;
use switchboard_core::action::{ActionResult, Grants, Outcome, check_request_id};

use crate::auth::Claims;
use crate::endpoint::{Endpoint, Module};

/// Request ids an endpoint remembers, per token subject and in all, for idempotency: a
/// resend within this window gets the first answer.
pub const REMEMBER_FOR: Duration = Duration::from_secs(600);
/// The most request ids an endpoint remembers; the oldest are forgotten first.
pub const REMEMBER_MAX: usize = 10_000;
/// The most audit entries an endpoint keeps in memory (the log has every one).
pub const AUDIT_KEEP: usize = 10_000;
/// The most actions one connection may have waiting for their answers.
pub const MAX_IN_FLIGHT: usize = 16;

/// One action to carry out, checked and authorised.
#[derive(Clone, Debug)]
pub struct Call {
    /// The module.
    pub module: Module,
    /// The action's name.
    pub action: &'static str,
    /// The client's request id.
    pub request_id: String,
    /// The entity acted on (a session id, a ticket id).
    pub entity: String,
    /// The frame's `data`, JSON text.
    pub data: String,
    /// The operator, as actions are attributed: the token's `name`, or its subject.
    pub operator: String,
    /// The token's subject.
    pub subject: String,
}

/// What a carrier made of an action.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Carried out, with a query's result.
    Done(Option<serde_json::Value>),
    /// Not carried out, and why, in words.
    Refused(String),
}

/// Carries out a module's actions. The development backend's world is one; a production
/// deployment would forward to the system that owns the entity (RADIUS, the helpdesk).
pub trait Carrier: Send + Sync + std::fmt::Debug {
    /// Carries out `call`. The future may take its time, or never finish.
    fn carry_out(&self, call: Call) -> BoxFuture<'static, Verdict>;
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// When the outcome was known, RFC 3339.
    pub at: String,
    /// The module.
    pub module: &'static str,
    /// The action (as the client named it, when it is not one of the module's).
    pub action: String,
    /// The token's subject.
    pub subject: String,
    /// The operator's name.
    pub operator: String,
    /// The entity acted on; empty when the payload did not say.
    pub entity: String,
    /// The client's request id.
    pub request_id: String,
    /// Done or refused.
    pub outcome: Outcome,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

type Answer = Shared<BoxFuture<'static, ActionResult>>;

/// An endpoint's actions: its carrier, the request ids it has seen, and its audit log.
#[derive(Debug, Default)]
pub struct Actions {
    carrier: Mutex<Option<Arc<dyn Carrier>>>,
    seen: Mutex<Seen>,
    audit: Arc<Mutex<VecDeque<AuditEntry>>>,
}

#[derive(Debug, Default)]
struct Seen {
    answers: HashMap<(String, String), Answer>,
    order: VecDeque<((String, String), tokio::time::Instant)>,
}

impl Seen {
    fn forget_old(&mut self, now: tokio::time::Instant) {
        while let Some((key, at)) = self.order.front() {
            if self.order.len() <= REMEMBER_MAX && now.duration_since(*at) < REMEMBER_FOR {
                break;
            }
            self.answers.remove(key);
            self.order.pop_front();
        }
    }
}

/// What an inbound frame is, as far as actions go.
#[allow(missing_debug_implementations)] // it holds a future
pub enum Inbound {
    /// Not one of the module's actions: the reference server ignores such frames, and so do
    /// we.
    NotAnAction,
    /// An action with no usable `request_id`: it cannot be answered (why, in words).
    Unanswerable(String),
    /// An action: its answer, when it comes. `repeat` when the request id was seen before.
    Answer {
        /// The answer.
        answer: BoxFuture<'static, ActionResult>,
        /// A request id seen before: answered again, not carried out again.
        repeat: bool,
    },
}

impl Actions {
    /// Lets `carrier` carry out the module's actions.
    pub fn set_carrier(&self, carrier: Arc<dyn Carrier>) {
        *self.carrier.lock().unwrap_or_else(|e| e.into_inner()) = Some(carrier);
    }

    fn carrier(&self) -> Option<Arc<dyn Carrier>> {
        self.carrier
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The audit log kept in memory, oldest first.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.audit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// What `claims` may do on `module`: nothing when no carrier carries actions out here.
    pub fn grants(&self, module: Module, claims: &Claims) -> Grants {
        let carried = self.carrier().is_some();
        Grants {
            operator: claims.operator().to_owned(),
            actions: module
                .actions()
                .iter()
                .filter(|a| carried && (a.query || claims.may_act(module.name(), a.name)))
                .map(|a| a.name.to_owned())
                .collect(),
        }
    }
}

impl Endpoint {
    /// Takes an inbound frame (`kind` and `data` from its envelope) from a client holding
    /// `claims`. See the module docs.
    pub fn act(&self, claims: &Claims, kind: &str, data: &str) -> Inbound {
        let module = self.module;
        let Some(spec) = module.action(kind) else {
            return Inbound::NotAnAction;
        };
        #[derive(serde::Deserialize)]
        struct Id {
            request_id: String,
        }
        let request_id = match serde_json::from_str::<Id>(data) {
            Ok(id) => match check_request_id(&id.request_id) {
                Ok(()) => id.request_id,
                Err(why) => return Inbound::Unanswerable(why),
            },
            Err(_) => return Inbound::Unanswerable("no request_id".to_owned()),
        };
        let key = (claims.sub.clone(), request_id.clone());
        let now = tokio::time::Instant::now();
        let mut seen = self.actions.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.forget_old(now);
        if let Some(answer) = seen.answers.get(&key) {
            return Inbound::Answer {
                answer: answer.clone().boxed(),
                repeat: true,
            };
        }
        let (entity, verdict) = match (spec.check)(data) {
            Err(why) => (String::new(), Err(format!("malformed request: {why}"))),
            Ok((_, entity)) if !spec.query && !claims.may_act(module.name(), spec.name) => {
                (entity, Err("not permitted".to_owned()))
            }
            Ok((_, entity)) => match self.actions.carrier() {
                None => (
                    entity,
                    Err("this gateway does not carry out actions".to_owned()),
                ),
                Some(carrier) => (entity, Ok(carrier)),
            },
        };
        let call = Call {
            module,
            action: spec.name,
            request_id,
            entity,
            data: data.to_owned(),
            operator: claims.operator().to_owned(),
            subject: claims.sub.clone(),
        };
        let audit = (!spec.query).then(|| self.actions.audit.clone());
        let work = async move {
            let outcome = match verdict {
                Ok(carrier) => carrier.carry_out(call.clone()).await,
                Err(why) => Verdict::Refused(why),
            };
            if let Some(audit) = audit {
                record(&audit, &call, &outcome);
            }
            match outcome {
                Verdict::Done(result) => ActionResult::done(&call.request_id, call.action, result),
                Verdict::Refused(why) => ActionResult::refused(&call.request_id, call.action, why),
            }
        };
        // Carried out on its own task: it finishes even if the client goes away.
        let task = tokio::spawn(work);
        let (id, name) = (key.1.clone(), spec.name);
        let answer: Answer = async move {
            task.await.unwrap_or_else(|_| {
                ActionResult::refused(&id, name, "the action failed on the server")
            })
        }
        .boxed()
        .shared();
        seen.answers.insert(key.clone(), answer.clone());
        seen.order.push_back((key, now));
        Inbound::Answer {
            answer: answer.boxed(),
            repeat: false,
        }
    }
}

/// Writes one audit entry: to the log (target `switchboard::audit`) and to memory.
fn record(audit: &Mutex<VecDeque<AuditEntry>>, call: &Call, verdict: &Verdict) {
    let (outcome, reason) = match verdict {
        Verdict::Done(_) => (Outcome::Done, None),
        Verdict::Refused(why) => (Outcome::Refused, Some(why.clone())),
    };
    let entry = AuditEntry {
        at: crate::now().to_rfc3339(),
        module: call.module.name(),
        action: call.action.to_owned(),
        subject: call.subject.clone(),
        operator: call.operator.clone(),
        entity: call.entity.clone(),
        request_id: call.request_id.clone(),
        outcome,
        reason,
    };
    tracing::info!(
        target: "switchboard::audit",
        module = entry.module,
        action = entry.action,
        subject = entry.subject,
        operator = entry.operator,
        entity = entry.entity,
        request_id = entry.request_id,
        outcome = ?entry.outcome,
        reason = entry.reason.as_deref().unwrap_or(""),
        "action"
    );
    let mut log = audit.lock().unwrap_or_else(|e| e.into_inner());
    if log.len() >= AUDIT_KEEP {
        log.pop_front();
    }
    log.push_back(entry);
}

#[cfg(test)]
mod tests;
