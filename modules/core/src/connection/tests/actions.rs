//! Actions on the connection: grants, sending once, answers, "no answer", resends.

use serde::{Deserialize, Serialize};

use super::*;
use crate::action::{ANSWER_WITHIN, ActError, ActionPayload, Phase as ActionPhase, TypedAction};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct End {
    session_id: String,
}

impl ActionPayload for End {
    fn entity(&self) -> String {
        self.session_id.clone()
    }
}

const END: TypedAction<End> = TypedAction::new("disconnect");

fn end(id: &str) -> End {
    End {
        session_id: id.to_owned(),
    }
}

const GRANTS: &str = r#"{"type":"grants","data":{"operator":"Ada","actions":["disconnect"]}}"#;

/// Connected, with the grants frame in.
fn granted() -> Rig {
    let mut rig = Rig::started();
    rig.open();
    let cmds = rig.text(GRANTS);
    assert!(cmds.iter().any(|c| matches!(c, Command::ActionsChanged)));
    rig
}

fn act(rig: &mut Rig, id: &str) -> (Result<String, ActError>, Vec<Command>) {
    let result = rig.conn.act(rig.now, END, end(id));
    let cmds = std::iter::from_fn(|| rig.conn.poll()).collect();
    (result, cmds)
}

fn answer(request_id: &str, outcome: &str, reason: Option<&str>) -> String {
    let reason = reason.map_or(String::new(), |r| format!(r#","reason":"{r}""#));
    format!(
        r#"{{"type":"action_result","data":{{"request_id":"{request_id}","action":"disconnect","outcome":"{outcome}"{reason}}}}}"#
    )
}

#[test]
fn actions_are_refused_at_once_offline_without_grants_or_without_the_grant() {
    let mut rig = Rig::started();
    assert_eq!(act(&mut rig, "s1").0, Err(ActError::Offline));
    rig.open();
    assert_eq!(act(&mut rig, "s1").0, Err(ActError::Unsupported));
    rig.text(r#"{"type":"grants","data":{"operator":"Ada","actions":["take"]}}"#);
    let (result, cmds) = act(&mut rig, "s1");
    assert_eq!(result, Err(ActError::NotPermitted));
    assert!(sends(&cmds).is_empty());
    assert_eq!(rig.conn.actions().pending(), 0);
}

#[test]
fn an_action_is_one_frame_with_its_request_id_and_a_double_click_sends_nothing_more() {
    let mut rig = granted();
    let (result, cmds) = act(&mut rig, "s1");
    let id = result.unwrap();
    let sent = sends(&cmds);
    assert_eq!(sent.len(), 1);
    let frame: serde_json::Value = serde_json::from_str(sent[0]).unwrap();
    assert_eq!(frame["type"], "disconnect");
    assert_eq!(frame["data"]["session_id"], "s1");
    assert_eq!(frame["data"]["request_id"], id.as_str());
    assert!(frame["timestamp"].is_string());
    assert!(cmds.iter().any(|c| matches!(c, Command::ActionsChanged)));
    let (again, cmds) = act(&mut rig, "s1");
    assert_eq!(again, Err(ActError::AlreadyPending));
    assert!(sends(&cmds).is_empty());
}

#[test]
fn the_answer_settles_the_row_and_never_reaches_subscribers() {
    let mut rig = granted();
    let id = act(&mut rig, "s1").0.unwrap();
    let cmds = rig.text(&answer(&id, "refused", Some("session already ended")));
    assert!(delivered(&cmds).is_empty());
    assert!(cmds.iter().any(|c| matches!(c, Command::ActionsChanged)));
    let entry = rig.conn.actions().entry("s1").unwrap();
    assert_eq!(
        entry.phase,
        ActionPhase::Refused("session already ended".into())
    );
    assert_eq!(rig.conn.actions().deadline(), None);
}

#[test]
fn no_answer_in_time_is_no_answer_even_offline() {
    let mut rig = granted();
    act(&mut rig, "s1").0.unwrap();
    let due = rig.now.plus(ANSWER_WITHIN);
    // The socket dies; the answer's deadline still holds the timer.
    rig.close(1006);
    assert_eq!(rig.conn.actions().deadline(), Some(due));
    rig.now = due;
    let cmds = rig.on(Event::Tick);
    assert!(cmds.iter().any(|c| matches!(c, Command::ActionsChanged)));
    assert_eq!(
        rig.conn.actions().entry("s1").unwrap().phase,
        ActionPhase::NoAnswer
    );
}

#[test]
fn the_timer_is_armed_for_the_answer() {
    let mut rig = granted();
    // With no staleness limit and a stable connection, nothing else is due.
    let (_, cmds) = act(&mut rig, "s1");
    let due = rig.now.plus(ANSWER_WITHIN);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Timer(Some(at)) if *at <= due)),
        "{cmds:?}"
    );
}

#[test]
fn a_pending_action_is_sent_again_on_the_next_socket_with_the_same_id() {
    let mut rig = granted();
    let (result, cmds) = act(&mut rig, "s1");
    let id = result.unwrap();
    let first = sends(&cmds)[0].to_owned();
    rig.close(1006);
    rig.advance(rig.retry_delay());
    let cmds = rig.open();
    let sent = sends(&cmds);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].contains(r#""type":"auth""#));
    assert_eq!(sent[1], first);
    assert!(sent[1].contains(&id));
    // The new socket's grants have not come yet: nothing new may be sent meanwhile.
    assert_eq!(act(&mut rig, "s2").0, Err(ActError::Unsupported));
    // An answered one is not sent again.
    rig.text(GRANTS);
    rig.text(&answer(&id, "done", None));
    rig.close(1006);
    rig.advance(rig.retry_delay());
    assert_eq!(sends(&rig.open()).len(), 1);
}

#[test]
fn a_pending_action_is_given_up_not_sent_again_when_the_token_changes() {
    let mut rig = granted();
    let (result, _) = act(&mut rig, "s1");
    result.unwrap();
    rig.close(1006);
    // Another operator's token now: the action was the first one's, never this one's.
    let cmds = rig.on(Event::TokenChanged);
    assert!(cmds.iter().any(|c| matches!(c, Command::ActionsChanged)));
    let entry = rig.conn.actions().entry("s1").unwrap();
    assert_eq!(entry.phase, ActionPhase::NoAnswer);
    let cmds = rig.open();
    let sent = sends(&cmds);
    assert_eq!(sent.len(), 1, "only the auth frame: {sent:?}");
}

#[test]
fn a_bad_answer_is_dropped_and_counted_and_the_socket_stays() {
    let mut rig = granted();
    act(&mut rig, "s1").0.unwrap();
    rig.text(r#"{"type":"action_result","data":{"request_id":7}}"#);
    rig.text(r#"{"type":"grants","data":"everything"}"#);
    assert_eq!(rig.conn.stats().drops(DropReason::BadAnswer), 2);
    assert_eq!(rig.status(), Status::Connected);
    assert!(rig.conn.actions().entry("s1").unwrap().phase.is_pending());
    // The good grants stay.
    assert!(rig.conn.grants().is_some_and(|g| g.allows("disconnect")));
}

#[test]
fn over_the_rate_limit_an_action_is_refused_not_queued() {
    let mut rig = Rig::new(Config {
        rate_limit: RateLimit {
            burst: 1,
            per_second: 0.001,
        },
        outbox: Some(OutboxConfig {
            max_len: 10,
            max_age: Duration::from_secs(60),
        }),
        ..Config::default()
    });
    rig.on(Event::Start);
    rig.open();
    rig.text(GRANTS);
    act(&mut rig, "s1").0.unwrap();
    let (result, cmds) = act(&mut rig, "s2");
    assert_eq!(result, Err(ActError::RateLimited));
    assert!(sends(&cmds).is_empty());
    assert_eq!(rig.conn.outbox_len(), 0);
    assert!(rig.conn.actions().entry("s2").is_none());
}
