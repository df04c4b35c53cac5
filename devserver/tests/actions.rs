//! Actions against the development backend: the world carries them out, every client sees
//! the change as ordinary frames, each request id is carried out once, the faults, and the
//! audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use futures::SinkExt;
use serde_json::Value;
use switchboard_devserver::auth::{Claims, mint_claims};
use switchboard_devserver::endpoint::INJECTED_REFUSAL;
use tokio_tungstenite::tungstenite::Message;

const SEC: Duration = Duration::from_secs(1);

fn operator(sub: &str, actions: &[&str]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mint_claims(
        SECRET,
        &Claims {
            sub: sub.into(),
            name: Some(format!("Operator {sub}")),
            iat: now,
            exp: now + 600,
            actions: Some(actions.iter().map(|a| (*a).to_owned()).collect()),
            ..Claims::default()
        },
    )
    .unwrap()
}

/// A sessions client that asked for actions and resumes (so it gets the state); returns it
/// with its grants and the ids of the sessions in the snapshot.
async fn sessions_client(server: &Server, token: &str) -> (Client, Value, Vec<String>) {
    let mut client = connect(server, "sessions").await;
    let auth = format!(r#"{{"type":"auth","token":"{token}","resume":{{}},"actions":true}}"#);
    client.send(Message::text(auth)).await.unwrap();
    let mut grants = Value::Null;
    let mut sessions = Vec::new();
    while let Some(frame) = frame(&mut client, SEC).await {
        match frame["type"].as_str() {
            Some("grants") => grants = frame["data"].clone(),
            // A new client's answer is a snapshot: the state rides in the `sync` frame.
            Some("sync") => sessions.extend(
                frame["data"]["state"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["data"]["session"]["session_id"].as_str())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    (client, grants, sessions)
}

async fn frame(client: &mut Client, within: Duration) -> Option<Value> {
    match next(client, within).await? {
        Message::Text(text) => serde_json::from_str(&text).ok(),
        _ => Some(Value::Null),
    }
}

fn disconnect(session: &str, request_id: &str) -> Message {
    Message::text(format!(
        r#"{{"type":"disconnect","data":{{"session_id":"{session}","reason":"abuse","note":"test","request_id":"{request_id}"}}}}"#
    ))
}

/// Reads until the answer to `request_id`; returns it and the sessions terminated meanwhile.
async fn answer(
    client: &mut Client,
    request_id: &str,
    within: Duration,
) -> (Option<Value>, Vec<String>) {
    let deadline = tokio::time::Instant::now() + within;
    let mut ended = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, frame(client, within)).await {
        match frame["type"].as_str() {
            Some("action_result") if frame["data"]["request_id"] == request_id => {
                return (Some(frame["data"].clone()), ended);
            }
            Some("session_update") if frame["data"]["action"] == "terminate" => ended.push(
                frame["data"]["session"]["session_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            _ => {}
        }
    }
    (None, ended)
}

#[tokio::test]
async fn the_world_carries_out_actions_once_everyone_sees_them_and_the_audit_log_has_each() {
    let mut settings = settings();
    settings.world.backfill = Duration::from_secs(20);
    settings.world.paused = true;
    let server = start_with(settings, vec![], 64).await;
    let (mut ada, grants, sessions) =
        sessions_client(&server, &operator("ada", &["sessions.disconnect"])).await;
    assert_eq!(grants["operator"], "Operator ada");
    assert_eq!(
        grants["actions"],
        serde_json::json!(["disconnect", "search_sessions"])
    );
    assert!(sessions.len() >= 3, "{sessions:?}");
    let (mut ben, ben_grants, _) = sessions_client(&server, &operator("ben", &[])).await;
    // A search needs no grant; the disconnect does.
    assert_eq!(
        ben_grants["actions"],
        serde_json::json!(["search_sessions"])
    );

    // Carried out: the answer, and the session's terminate, to both operators.
    ada.send(disconnect(&sessions[0], "r1")).await.unwrap();
    let (result, ended) = answer(&mut ada, "r1", 5 * SEC).await;
    let result = result.expect("an answer");
    assert_eq!(result["outcome"], "done");
    let (_, ben_saw) = answer(&mut ben, "none", SEC).await;
    assert_eq!(ben_saw, [sessions[0].clone()]);
    // The same request again: the same answer, nothing carried out again.
    ada.send(disconnect(&sessions[0], "r1")).await.unwrap();
    let (again, more) = answer(&mut ada, "r1", 5 * SEC).await;
    assert_eq!(again, Some(result));
    assert_eq!([ended, more].concat(), [sessions[0].clone()]);
    // A new request for the ended session is refused, in words.
    ada.send(disconnect(&sessions[0], "r2")).await.unwrap();
    let (gone, _) = answer(&mut ada, "r2", 5 * SEC).await;
    assert_eq!(gone.unwrap()["reason"], "session already ended");
    // A crafted frame from a token without the grant is refused, and nothing ends.
    ben.send(disconnect(&sessions[1], "b1")).await.unwrap();
    let (refused, ended) = answer(&mut ben, "b1", 5 * SEC).await;
    assert_eq!(refused.unwrap()["reason"], "not permitted");
    assert!(ended.is_empty());

    // The faults: refused, never answered, late.
    control(&server, "/_control/sessions/action?fault=refuse").await;
    ada.send(disconnect(&sessions[1], "r3")).await.unwrap();
    let (injected, ended) = answer(&mut ada, "r3", 5 * SEC).await;
    assert_eq!(injected.unwrap()["reason"], INJECTED_REFUSAL);
    assert!(ended.is_empty());
    control(&server, "/_control/sessions/action?fault=never").await;
    ada.send(disconnect(&sessions[1], "r4")).await.unwrap();
    let (silence, ended) = answer(&mut ada, "r4", 3 * SEC).await;
    assert_eq!(silence, None);
    assert!(ended.is_empty(), "never answered, never carried out");
    control(&server, "/_control/sessions/action?fault=late&secs=2").await;
    let sent = tokio::time::Instant::now();
    ada.send(disconnect(&sessions[2], "r5")).await.unwrap();
    let (late, ended) = answer(&mut ada, "r5", 5 * SEC).await;
    assert_eq!(late.unwrap()["outcome"], "done");
    assert!(sent.elapsed() >= 2 * SEC);
    // The answer and the change travel separately: the terminate may come just after.
    let (_, after) = answer(&mut ada, "none", SEC).await;
    assert_eq!([ended, after].concat(), [sessions[2].clone()]);

    let audit = control_json(&server, "/_control/audit").await;
    let lines: Vec<(String, String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("subject"), s("entity"), s("outcome"), s("reason"))
        })
        .collect();
    let line = |sub: &str, entity: &String, outcome: &str, reason: &str| {
        (
            sub.to_owned(),
            entity.clone(),
            outcome.to_owned(),
            reason.to_owned(),
        )
    };
    assert_eq!(
        lines,
        [
            line("ada", &sessions[0], "done", ""),
            line("ada", &sessions[0], "refused", "session already ended"),
            line("ben", &sessions[1], "refused", "not permitted"),
            line("ada", &sessions[1], "refused", INJECTED_REFUSAL),
            line("ada", &sessions[2], "done", ""),
        ]
    );
    assert!(audit[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(audit[0]["operator"], "Operator ada");
    assert_eq!(audit[0]["action"], "disconnect");
    assert_eq!(audit[0]["request_id"], "r1");
    let report = report(&server).await;
    assert_eq!(report["sessions"]["actions_repeated"], 1);
}

#[tokio::test]
async fn a_search_looks_through_the_whole_state_and_needs_no_grant() {
    let mut settings = settings();
    settings.world.paused = true;
    let server = start_with(settings, vec![], 64).await;
    let frames: Vec<Value> = (0..600)
        .map(|i| {
            serde_json::json!({ "type": "session_update", "data": { "action": "new", "session": {
                "session_id": format!("s{i:05}"), "username": format!("user{i}@isp.example.net"),
                "ip_address": "100.64.0.1", "nas_ip_address": "10.1.1.1", "upload_bytes": 0,
                "download_bytes": 0, "session_time_seconds": 0,
                "last_update": "2025-10-16T12:00:00Z" } } })
        })
        .collect();
    control_body(
        &server,
        "/_control/sessions/script",
        &serde_json::to_string(&frames).unwrap(),
    )
    .await;
    let (mut eve, grants, _) = sessions_client(&server, &operator("eve", &[])).await;
    assert_eq!(grants["actions"], serde_json::json!(["search_sessions"]));
    eve.send(Message::text(
        r#"{"type":"search_sessions","data":{"query":"USER17@isp","request_id":"q1"}}"#,
    ))
    .await
    .unwrap();
    let (answer, _) = answer(&mut eve, "q1", 5 * SEC).await;
    let answer = answer.expect("an answer");
    assert_eq!(answer["outcome"], "done", "{answer}");
    assert_eq!(answer["result"]["total"], 1, "{answer}");
    assert_eq!(answer["result"]["sessions"][0]["session_id"], "s00017");
    let audit = control_json(&server, "/_control/audit").await;
    assert_eq!(audit, serde_json::json!([]), "a query is not audited");
}
