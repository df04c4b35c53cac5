//! Actions on one endpoint, with a fake carrier: authorisation, idempotency, the audit log.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::feed::FeedSettings;

/// Counts what it carries out; refuses entities named `gone`, never answers for `stuck`.
#[derive(Debug, Default)]
struct Fake {
    calls: AtomicUsize,
}

impl Carrier for Fake {
    fn carry_out(&self, call: Call) -> BoxFuture<'static, Verdict> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        async move {
            match call.entity.as_str() {
                "gone" => Verdict::Refused("session already ended".into()),
                "stuck" => std::future::pending().await,
                _ => Verdict::Done(None),
            }
        }
        .boxed()
    }
}

fn endpoint() -> (Endpoint, Arc<Fake>) {
    let module = Module::named("sessions").unwrap();
    let endpoint = Endpoint::new(module, &FeedSettings::default());
    let fake = Arc::new(Fake::default());
    endpoint.actions.set_carrier(fake.clone());
    (endpoint, fake)
}

fn claims(sub: &str, actions: &[&str]) -> Claims {
    Claims {
        sub: sub.into(),
        name: Some(format!("{sub} (name)")),
        actions: Some(actions.iter().map(|a| (*a).to_owned()).collect()),
        ..Claims::default()
    }
}

fn disconnect(session: &str, id: &str) -> String {
    format!(r#"{{"session_id":"{session}","reason":"abuse","request_id":"{id}"}}"#)
}

async fn answer(endpoint: &Endpoint, claims: &Claims, data: &str) -> (ActionResult, bool) {
    match endpoint.act(claims, "disconnect", data) {
        Inbound::Answer { answer, repeat } => (answer.await, repeat),
        _ => panic!("an answerable action"),
    }
}

#[tokio::test]
async fn a_granted_action_is_carried_out_once_per_request_id_and_answered_the_same_way() {
    let (endpoint, fake) = endpoint();
    let ada = claims("ada", &["sessions.disconnect"]);
    let (first, repeat) = answer(&endpoint, &ada, &disconnect("s1", "r1")).await;
    assert_eq!(first, ActionResult::done("r1", "disconnect", None));
    assert!(!repeat);
    let (again, repeat) = answer(&endpoint, &ada, &disconnect("s1", "r1")).await;
    assert_eq!(again, first);
    assert!(repeat);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "carried out once");
    // Another operator's request with the same id is another action.
    let ben = claims("ben", &["sessions.*"]);
    answer(&endpoint, &ben, &disconnect("s1", "r1")).await;
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    let audit = endpoint.actions.audit();
    assert_eq!(audit.len(), 2, "one line per action, not per frame");
    assert_eq!(audit[0].operator, "ada (name)");
    assert_eq!(audit[0].subject, "ada");
    assert_eq!(audit[0].entity, "s1");
    assert_eq!(audit[0].outcome, Outcome::Done);
}

#[tokio::test]
async fn an_action_the_token_lacks_is_refused_and_audited_and_never_carried_out() {
    let (endpoint, fake) = endpoint();
    for (i, grants) in [&[][..], &["support.*"], &["sessions.other"]]
        .into_iter()
        .enumerate()
    {
        let who = claims("eve", grants);
        let id = format!("r{i}");
        let (result, _) = answer(&endpoint, &who, &disconnect("s1", &id)).await;
        assert_eq!(result.outcome, Outcome::Refused);
        assert_eq!(result.reason.as_deref(), Some("not permitted"));
    }
    // No `actions` claim at all: nothing is granted.
    let bare = Claims {
        sub: "old".into(),
        ..Claims::default()
    };
    let (result, _) = answer(&endpoint, &bare, &disconnect("s1", "x")).await;
    assert_eq!(result.reason.as_deref(), Some("not permitted"));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
    let audit = endpoint.actions.audit();
    assert_eq!(audit.len(), 4);
    assert!(audit.iter().all(|e| e.outcome == Outcome::Refused
        && e.reason.as_deref() == Some("not permitted")
        && e.entity == "s1"));
}

#[tokio::test]
async fn a_refusal_carries_the_carriers_reason() {
    let (endpoint, _) = endpoint();
    let ada = claims("ada", &["*"]);
    let (result, _) = answer(&endpoint, &ada, &disconnect("gone", "r1")).await;
    assert_eq!(
        result,
        ActionResult::refused("r1", "disconnect", "session already ended")
    );
}

#[tokio::test]
async fn a_malformed_payload_is_refused_in_words_and_one_without_an_id_is_not_answered() {
    let (endpoint, fake) = endpoint();
    let ada = claims("ada", &["*"]);
    let (result, _) = answer(
        &endpoint,
        &ada,
        r#"{"session_id":"s1","reason":"boredom","request_id":"r1"}"#,
    )
    .await;
    assert_eq!(result.outcome, Outcome::Refused);
    assert!(
        result
            .reason
            .as_deref()
            .unwrap()
            .starts_with("malformed request"),
        "{result:?}"
    );
    for data in [r#"{"session_id":"s1"}"#, r#"{"request_id":"a b"}"#, "7"] {
        assert!(matches!(
            endpoint.act(&ada, "disconnect", data),
            Inbound::Unanswerable(_)
        ));
    }
    assert!(matches!(
        endpoint.act(&ada, "session_update", "{}"),
        Inbound::NotAnAction
    ));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_a_carrier_every_action_is_refused_and_nothing_is_granted() {
    let module = Module::named("sessions").unwrap();
    let endpoint = Endpoint::new(module, &FeedSettings::default());
    let ada = claims("ada", &["*"]);
    assert!(endpoint.actions.grants(module, &ada).actions.is_empty());
    let (result, _) = answer(&endpoint, &ada, &disconnect("s1", "r1")).await;
    assert_eq!(
        result.reason.as_deref(),
        Some("this gateway does not carry out actions")
    );
}

#[tokio::test]
async fn grants_list_the_modules_actions_the_token_may_take() {
    let (endpoint, _) = endpoint();
    let module = endpoint.module;
    let granted = endpoint
        .actions
        .grants(module, &claims("ada", &["sessions.disconnect"]));
    assert_eq!(granted.operator, "ada (name)");
    assert_eq!(granted.actions, ["disconnect", "search_sessions"]);
    // A query needs no grant: only the search.
    let none = endpoint
        .actions
        .grants(module, &claims("ben", &["support.*"]));
    assert_eq!(none.actions, ["search_sessions"]);
}

#[tokio::test(start_paused = true)]
async fn a_carrier_that_never_answers_leaves_the_request_pending_and_a_resend_waits_on_it() {
    let (endpoint, fake) = endpoint();
    let ada = claims("ada", &["*"]);
    let Inbound::Answer { answer, .. } =
        endpoint.act(&ada, "disconnect", &disconnect("stuck", "r1"))
    else {
        panic!("answerable");
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(60), answer)
            .await
            .is_err()
    );
    let Inbound::Answer { repeat, .. } =
        endpoint.act(&ada, "disconnect", &disconnect("stuck", "r1"))
    else {
        panic!("answerable");
    };
    assert!(repeat);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert!(
        endpoint.actions.audit().is_empty(),
        "no outcome, no line yet"
    );
}

#[tokio::test(start_paused = true)]
async fn request_ids_are_remembered_for_the_window_then_forgotten() {
    let (endpoint, fake) = endpoint();
    let ada = claims("ada", &["*"]);
    answer(&endpoint, &ada, &disconnect("s1", "r1")).await;
    tokio::time::advance(REMEMBER_FOR - Duration::from_secs(1)).await;
    assert!(answer(&endpoint, &ada, &disconnect("s1", "r1")).await.1);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(!answer(&endpoint, &ada, &disconnect("s1", "r1")).await.1);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_query_needs_no_grant_and_is_not_audited() {
    let (endpoint, fake) = endpoint();
    let nobody = claims("eve", &[]);
    let Inbound::Answer { answer, .. } = endpoint.act(
        &nobody,
        "search_sessions",
        r#"{"query":"anna","request_id":"q1"}"#,
    ) else {
        panic!("answerable");
    };
    assert_eq!(answer.await.outcome, Outcome::Done);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert!(endpoint.actions.audit().is_empty());
}
