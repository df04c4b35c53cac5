//! Operators act: two browsers (two operators, each with their own token) on the sessions
//! page of the development backend. Every check compares the screens with the backend's
//! state and its audit log, not only with a label.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use fantoccini::Client;
use fantoccini::key::Key;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_devserver::auth::{Claims, mint_claims};
use switchboard_devserver::endpoint::{ActionFault, Fault, INJECTED_REFUSAL};
use switchboard_e2e::page::{
    backend_sessions, disconnect, eval, open_page, open_sessions, row, wait, wait_backend_ended,
    wait_screen_is_backend,
};
use switchboard_e2e::{Harness, SECRET, module, new_sessions};
use tokio_tungstenite::tungstenite::Message;

const SEC: Duration = Duration::from_secs(1);

fn token(sub: &str, name: &str, actions: &[&str]) -> String {
    let now = Harness::now_ms() / 1000;
    mint_claims(
        SECRET,
        &Claims {
            sub: sub.into(),
            name: Some(name.into()),
            iat: now,
            exp: now + 3600,
            actions: Some(actions.iter().map(|a| (*a).to_owned()).collect()),
            ..Claims::default()
        },
    )
    .unwrap_or_default()
}

/// Presses `key` where the focus is.
async fn press(client: &Client, key: Key) -> Result<()> {
    client
        .active_element()
        .await?
        .send_keys(&String::from(char::from(key)))
        .await?;
    Ok(())
}

/// Focuses the row's Disconnect button and presses Enter: the dialog opens.
async fn open_by_keyboard(client: &Client, session: &str) -> Result<()> {
    eval(
        client,
        &format!(
            "{}.querySelector('[data-testid=disconnect]').focus(); return true",
            row(session)
        ),
    )
    .await?;
    press(client, Key::Enter).await?;
    wait(
        client,
        "the dialog",
        2 * SEC,
        "return document.querySelector('dialog[open]') !== null",
    )
    .await
}

async fn row_phase(client: &Client, session: &str) -> Result<(String, String)> {
    let v = eval(
        client,
        &format!(
            "const n = {}?.querySelector('[data-testid=action-state]'); \
             return n ? [n.dataset.phase, n.textContent] : ['', '']",
            row(session)
        ),
    )
    .await?;
    Ok(serde_json::from_value(v)?)
}

async fn wait_phase(
    client: &Client,
    session: &str,
    phase: &str,
    within: Duration,
) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        let (now, words) = row_phase(client, session).await?;
        if now == phase {
            return Ok(words);
        }
        if started.elapsed() > within {
            bail!("the row of {session} says {now:?} ({words:?}), not {phase:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a1_two_operators_one_disconnects_both_see_it_and_the_backend_and_audit_agree() -> Result<()>
{
    let h = Harness::start().await?;
    // Sessions end only when an operator ends them: the screen can be compared exactly.
    h.endpoint(module("sessions"))
        .paused
        .store(true, Ordering::Relaxed);
    let ada = token("ada", "Ada Lovelace", &["sessions.disconnect"]);
    let ben = token("ben", "Ben Okri", &[]);
    h.open_with_token("/sessions", &ada).await?;
    h.wait(
        "live rows",
        10 * SEC,
        "return document.querySelectorAll('tr[data-session][data-provenance=live]').length > 3",
    )
    .await?;
    let b = h.another_browser("ben").await?;
    open_sessions(&h, &b, &ben).await?;
    let a = &h.client;
    wait_screen_is_backend(&h, a, "Ada").await?;
    wait_screen_is_backend(&h, &b, "Ben").await?;
    let sessions = backend_sessions(&h);

    // Ada has the button; Ben, whose token lacks the action, has none.
    wait(
        a,
        "Ada's buttons",
        5 * SEC,
        "return document.querySelectorAll('[data-testid=disconnect]').length > 3",
    )
    .await?;
    h.wait_status("sessions", "connected", 5 * SEC).await?;
    let ben_buttons = eval(
        &b,
        "return document.querySelectorAll('[data-testid=disconnect]').length",
    )
    .await?;
    ensure!(
        ben_buttons == json!(0),
        "Ben sees {ben_buttons} disconnect buttons"
    );

    // By keyboard: Enter on the button opens the dialog with focus on Cancel; Escape closes
    // it and nothing is sent.
    let target = sessions[0].clone();
    open_by_keyboard(a, &target).await?;
    let focused = eval(a, "return document.activeElement.dataset.testid || ''").await?;
    ensure!(
        focused == json!("dialog-cancel"),
        "focus starts on {focused}, not Cancel"
    );
    press(a, Key::Escape).await?;
    wait(
        a,
        "the dialog to close",
        2 * SEC,
        "return document.querySelector('dialog[open]') === null",
    )
    .await?;
    ensure!(
        h.report(module("sessions")).actions_received == 0,
        "Escape sent an action"
    );

    // By keyboard again: Shift+Tab reaches the note (typed), Shift+Tab the reasons, Space
    // picks one, Tab moves on and never leaves the dialog, Enter on Disconnect confirms.
    open_by_keyboard(a, &target).await?;
    let confirm_ready = eval(
        a,
        "return !document.querySelector('[data-testid=dialog-confirm]').disabled",
    )
    .await?;
    ensure!(
        confirm_ready == json!(false),
        "Disconnect is enabled before a reason is picked"
    );
    let shift_tab = format!("{}{}", char::from(Key::Shift), char::from(Key::Tab));
    a.active_element().await?.send_keys(&shift_tab).await?;
    a.active_element()
        .await?
        .send_keys("customer on the phone")
        .await?;
    a.active_element().await?.send_keys(&shift_tab).await?;
    a.active_element().await?.send_keys(" ").await?;
    let confirm_ready = eval(
        a,
        "return !document.querySelector('[data-testid=dialog-confirm]').disabled",
    )
    .await?;
    ensure!(
        confirm_ready == json!(true),
        "a reason picked by keyboard enables Disconnect"
    );
    for _ in 0..6 {
        a.active_element()
            .await?
            .send_keys(&String::from(char::from(Key::Tab)))
            .await?;
        let inside = eval(
            a,
            "const d = document.querySelector('dialog[open]'); const e = document.activeElement; \
                              return !e || e === document.body || d.contains(e)",
        )
        .await?;
        ensure!(inside == json!(true), "Tab left the dialog");
    }
    eval(
        a,
        "document.querySelector('[data-testid=dialog-confirm]').focus(); return true",
    )
    .await?;
    a.active_element()
        .await?
        .send_keys(&String::from(char::from(Key::Enter)))
        .await?;

    // The backend ends the session; it leaves both tables, and both match the backend.
    h.wait_report(module("sessions"), "the action", 5 * SEC, |r| {
        r.actions_answered >= 1
    })
    .await?;
    wait_backend_ended(&h, &target).await?;
    wait_screen_is_backend(&h, a, "Ada").await?;
    wait_screen_is_backend(&h, &b, "Ben").await?;

    // A double click on Disconnect sends once.
    let second = sessions[1].clone();
    eval(
        a,
        &format!(
            "{}.querySelector('[data-testid=disconnect]').click(); return true",
            row(&second)
        ),
    )
    .await?;
    wait(
        a,
        "the dialog",
        2 * SEC,
        "return document.querySelector('dialog[open]') !== null",
    )
    .await?;
    eval(
        a,
        "document.querySelector('dialog[open] input[type=radio]').click(); return true",
    )
    .await?;
    wait(
        a,
        "Disconnect enabled",
        2 * SEC,
        "return !document.querySelector('[data-testid=dialog-confirm]').disabled",
    )
    .await?;
    eval(a, "const c = document.querySelector('[data-testid=dialog-confirm]'); c.click(); c.click(); return true").await?;
    wait_screen_is_backend(&h, a, "Ada").await?;
    ensure!(!backend_sessions(&h).contains(&second));
    let report = h.report(module("sessions"));
    ensure!(
        report.actions_received == 2,
        "{} action frames for two actions",
        report.actions_received
    );

    // A crafted frame with Ben's token is refused by the backend, and nothing ends.
    let third = sessions[2].clone();
    let url = format!("ws://{}/ws/sessions", h.backend_addr);
    let (mut crafted, _) = tokio_tungstenite::connect_async(url).await?;
    crafted
        .send(Message::text(format!(
            r#"{{"type":"auth","token":"{ben}","actions":true}}"#
        )))
        .await?;
    crafted.send(Message::text(format!(
        r#"{{"type":"disconnect","data":{{"session_id":"{third}","reason":"abuse","request_id":"crafted-1"}}}}"#
    ))).await?;
    let answer = loop {
        match tokio::time::timeout(5 * SEC, crafted.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t)?;
                if v["type"] == "action_result" {
                    break v;
                }
            }
            other => bail!("no answer to the crafted frame: {other:?}"),
        }
    };
    ensure!(answer["data"]["reason"] == "not permitted", "{answer}");
    ensure!(backend_sessions(&h).contains(&third));

    // Refused by the backend: the row says why, and stays, as the backend's state does.
    h.endpoint(module("sessions"))
        .action_fault(ActionFault::Refuse);
    disconnect(a, &third).await?;
    let words = wait_phase(a, &third, "refused", 5 * SEC).await?;
    ensure!(words.contains(INJECTED_REFUSAL), "{words}");
    wait_screen_is_backend(&h, a, "Ada").await?;
    ensure!(backend_sessions(&h).contains(&third));
    // Away and back: the row still says why, and the table is still the backend's.
    h.go("/").await?;
    h.wait("the overview", 5 * SEC, "return location.pathname === '/'")
        .await?;
    h.go("/sessions").await?;
    let again = wait_phase(a, &third, "refused", 5 * SEC).await?;
    ensure!(again == words, "{again} after navigating, {words} before");
    wait_screen_is_backend(&h, a, "Ada").await?;

    // Never answered: pending, then "no answer" after the client's 10 s; the row stays.
    let fourth = sessions[3].clone();
    h.endpoint(module("sessions"))
        .action_fault(ActionFault::Never);
    disconnect(a, &fourth).await?;
    wait_phase(a, &fourth, "pending", 2 * SEC).await?;
    let words = wait_phase(a, &fourth, "no-answer", 13 * SEC).await?;
    ensure!(words.starts_with("No answer from the backend"), "{words}");
    wait_screen_is_backend(&h, a, "Ada").await?;
    ensure!(backend_sessions(&h).contains(&fourth));

    // The audit log has every action, with its outcome.
    let audit: Vec<(String, String, String, String)> = h
        .endpoint(module("sessions"))
        .actions
        .audit()
        .iter()
        .map(|e| {
            (
                e.operator.clone(),
                e.entity.clone(),
                format!("{:?}", e.outcome),
                e.reason.clone().unwrap_or_default(),
            )
        })
        .collect();
    let line = |who: &str, entity: &str, outcome: &str, reason: &str| {
        (
            who.to_owned(),
            entity.to_owned(),
            outcome.to_owned(),
            reason.to_owned(),
        )
    };
    ensure!(
        audit
            == [
                line("Ada Lovelace", &target, "Done", ""),
                line("Ada Lovelace", &second, "Done", ""),
                line("Ben Okri", &third, "Refused", "not permitted"),
                line("Ada Lovelace", &third, "Refused", INJECTED_REFUSAL),
            ],
        "audit: {audit:#?}"
    );
    b.close().await?;
    h.finish().await
}

#[tokio::test]
async fn a2_offline_actions_are_disabled_and_the_panel_says_why() -> Result<()> {
    let h = Harness::start().await?;
    let ada = token("ada", "Ada Lovelace", &["sessions.*"]);
    h.open_with_token("/sessions", &ada).await?;
    h.wait(
        "buttons",
        10 * SEC,
        "return document.querySelectorAll('[data-testid=disconnect]').length > 3",
    )
    .await?;
    // Down for a while: the live rows stay (marked as an outage), the buttons are disabled,
    // and the panel says why; nothing is queued.
    h.endpoint(module("sessions"))
        .refuse_until
        .store(Harness::now_ms() + 8_000, Ordering::Relaxed);
    h.fault(module("sessions"), Fault::Drop);
    h.wait(
        "the buttons disabled and the reason",
        5 * SEC,
        "const b = [...document.querySelectorAll('[data-testid=disconnect]')]; \
         const why = document.querySelector('[data-testid=actions-unavailable]'); \
         return b.length > 0 && b.every(x => x.disabled) && !!why && why.textContent.includes('offline')",
    )
    .await?;
    let simulated = h.eval("return document.querySelectorAll('[data-testid=disconnect]').length > 0 && \
        document.querySelector('tr[data-session][data-provenance=simulated] [data-testid=disconnect]') === null").await?;
    ensure!(
        simulated == json!(true),
        "an action offered on a simulated row"
    );
    // Back: enabled again, the note gone.
    h.wait(
        "the buttons enabled again",
        15 * SEC,
        "const b = [...document.querySelectorAll('[data-testid=disconnect]')]; \
         return b.length > 0 && b.every(x => !x.disabled) && !document.querySelector('[data-testid=actions-unavailable]')",
    )
    .await?;
    ensure!(h.report(module("sessions")).actions_received == 0);
    h.finish().await
}

/// The latest `network_status` in the backend's state.
fn backend_status(h: &Harness) -> Value {
    let endpoint = h.endpoint(module("network"));
    let feed = endpoint.world();
    feed.state()
        .iter()
        .filter(|f| f.channel() == "network_status")
        .filter_map(|f| serde_json::from_str::<Value>(f.data().get()).ok())
        .next_back()
        .unwrap_or(Value::Null)
}

/// A ticket in the backend's state.
fn backend_ticket(h: &Harness, id: &str) -> Value {
    let endpoint = h.endpoint(module("support"));
    let feed = endpoint.world();
    feed.state()
        .iter()
        .filter_map(|f| serde_json::from_str::<Value>(f.data().get()).ok())
        .find(|t| t["ticket_id"] == id)
        .unwrap_or(Value::Null)
}

/// Opens `path` in `client` with `token` in its `sessionStorage`.
#[tokio::test]
async fn a3_a_taken_ticket_and_an_acknowledged_alert_show_who_on_both_screens() -> Result<()> {
    let h = Harness::start().await?;
    for m in ["support", "network"] {
        h.endpoint(module(m)).paused.store(true, Ordering::Relaxed);
    }
    // The network world runs until it has an alert (its own generator, so the backend knows
    // the alert it is asked to acknowledge).
    let network = h.endpoint(module("network"));
    let mut at = switchboard_core::Instant::from_millis(Harness::now_ms());
    for _ in 0..2_000 {
        if backend_status(&h)["alerts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break;
        }
        at = at.plus(Duration::from_secs(2));
        network.tick(at);
    }
    let alert = backend_status(&h)["alerts"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(!alert.is_empty(), "the network world raised no alert");
    let ada = token(
        "ada",
        "Ada Lovelace",
        &["support.*", "network.acknowledge_alert"],
    );
    let ben = token("ben", "Ben Okri", &[]);
    let b = h.another_browser("ben").await?;
    let a = &h.client;
    open_page(&h, a, &ada, "/support").await?;
    open_page(&h, &b, &ben, "/support").await?;
    wait(
        a,
        "a ticket Ada may take",
        10 * SEC,
        "return !!document.querySelector('[data-testid=take]:not([disabled])')",
    )
    .await?;
    let ticket: String = serde_json::from_value(
        eval(
            a,
            "return document.querySelector('[data-testid=take]').closest('tr').dataset.ticket",
        )
        .await?,
    )?;
    let row = format!("document.querySelector('tr[data-ticket=\"{ticket}\"]')");
    eval(
        a,
        &format!("{row}.querySelector('[data-testid=take]').click(); return true"),
    )
    .await?;
    for (client, who) in [(a, "Ada"), (&b, "Ben")] {
        wait(
            client,
            &format!("{who} to see Ada's name on {ticket}"),
            5 * SEC,
            &format!("const r = {row}; return !!r && r.children[3].textContent === 'Ada Lovelace'"),
        )
        .await?;
    }
    ensure!(
        backend_ticket(&h, &ticket)["assignee"] == "Ada Lovelace",
        "{}",
        backend_ticket(&h, &ticket)
    );
    let ben_buttons = eval(
        &b,
        "return document.querySelectorAll('td.act button').length",
    )
    .await?;
    ensure!(
        ben_buttons == json!(0),
        "Ben has {ben_buttons} ticket buttons"
    );
    // Resolve it: the status changes on both screens and in the backend.
    eval(
        a,
        &format!("{row}.querySelector('[data-testid=resolve]').click(); return true"),
    )
    .await?;
    wait(
        &b,
        "Ben to see it resolved",
        5 * SEC,
        &format!("const r = {row}; return !r || r.children[2].textContent === 'resolved'"),
    )
    .await?;
    ensure!(backend_ticket(&h, &ticket)["status"] == "resolved");

    // The alert: acknowledged by Ada, shown with who and when on both screens.
    open_page(&h, a, &ada, "/network").await?;
    open_page(&h, &b, &ben, "/network").await?;
    let item = format!("document.querySelector('li[data-alert=\"{alert}\"]')");
    wait(a, "the alert with its button", 10 * SEC,
         &format!("const i = {item}; return !!i && !!i.querySelector('[data-testid=acknowledge]:not([disabled])')")).await?;
    eval(
        a,
        &format!("{item}.querySelector('[data-testid=acknowledge]').click(); return true"),
    )
    .await?;
    let acked = backend_status(&h);
    let mut said = Vec::new();
    for (client, who) in [(a, "Ada"), (&b, "Ben")] {
        wait(
            client,
            &format!("{who} to see the acknowledgement"),
            5 * SEC,
            &format!(
                "const i = {item}; return !!i && !!i.querySelector('[data-testid=acknowledged]')"
            ),
        )
        .await?;
        let text: String = serde_json::from_value(
            eval(
                client,
                &format!("return {item}.querySelector('[data-testid=acknowledged]').textContent"),
            )
            .await?,
        )?;
        said.push(text);
    }
    let backend_alert = backend_status(&h)["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == alert.as_str()).cloned())
        .unwrap_or(Value::Null);
    ensure!(
        backend_alert["acknowledged_by"] == "Ada Lovelace",
        "{backend_alert} (before: {acked})"
    );
    let when = backend_alert["acknowledged_at"]
        .as_str()
        .unwrap_or_default();
    let when = switchboard_core::Instant::parse_rfc3339(when)
        .map(|i| i.as_millis())
        .unwrap_or(0);
    let clock: String = serde_json::from_value(
        eval(
            a,
            &format!(
                "const d = new Date({when}); const p = n => String(n).padStart(2, '0'); \
         return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds())"
            ),
        )
        .await?,
    )?;
    for text in &said {
        ensure!(
            text == &format!("Acknowledged by Ada Lovelace at {clock}"),
            "{text} (backend: {clock})"
        );
    }
    let ben_ack = eval(
        &b,
        "return document.querySelectorAll('[data-testid=acknowledge]').length",
    )
    .await?;
    ensure!(ben_ack == json!(0), "Ben may acknowledge");
    // The audit log has both actions on the ticket and the acknowledgement.
    let audit: Vec<(String, String)> = ["support", "network"]
        .iter()
        .flat_map(|m| h.endpoint(module(m)).actions.audit())
        .map(|e| (e.action.clone(), e.entity.clone()))
        .collect();
    ensure!(
        audit
            == [
                ("take_ticket".to_owned(), ticket.clone()),
                ("set_ticket_status".to_owned(), ticket.clone()),
                ("acknowledge_alert".to_owned(), alert.clone()),
            ],
        "{audit:?}"
    );
    b.close().await?;
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a4_slash_then_a_username_finds_a_session_beyond_the_rows_held_and_the_url_keeps_it()
-> Result<()> {
    let h = Harness::start_paused().await?;
    let now = switchboard_core::Instant::from_millis(Harness::now_ms());
    // First, one session with extreme but well-formed values: a 20,000-character name,
    // counters at u64::MAX, a +05:30 timestamp. The 20,000 newer ones push it out of the rows
    // held; only the backend's search can find it.
    let extreme = json!({ "type": "session_update", "data": { "action": "new", "session": {
        "session_id": "s-extreme", "username": format!("{}@isp.example.net", "z".repeat(20_000)),
        "ip_address": "198.51.100.77", "nas_ip_address": "10.1.1.1",
        "upload_bytes": u64::MAX, "download_bytes": u64::MAX,
        "session_time_seconds": u64::MAX, "last_update": "2025-10-16T17:30:00+05:30" } },
        "timestamp": "2025-10-16T17:30:00+05:30" });
    let mut frames = vec![extreme.to_string()];
    frames.extend(new_sessions(20_000));
    h.endpoint(module("sessions")).world().inject(frames, now);
    // An operator with no grants at all: a search is a query, not an action.
    let token = h.token();
    h.open_with_token("/", &token).await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    // `/` from the overview: the sessions page, its search box focused.
    // A real key press (one keyDown with its text, as a keyboard makes it): WebDriver's
    // send-keys sends the character as a separate event, which no page can cancel.
    for kind in ["keyDown", "keyUp"] {
        h.cdp(
            "Input.dispatchKeyEvent",
            json!({ "type": kind, "key": "/", "code": "Slash", "text": "/",
                    "windowsVirtualKeyCode": 191 }),
        )
        .await?;
    }
    h.wait(
        "the search box, focused, on the sessions page",
        5 * SEC,
        "return location.pathname === '/sessions' && \
         document.activeElement && document.activeElement.dataset.testid === 'session-search'",
    )
    .await?;
    h.wait(
        "the table of the newest 500",
        30 * SEC,
        "return document.querySelector('[data-testid=not-shown]') !== null",
    )
    .await?;
    let query = "user17@isp";
    h.client
        .active_element()
        .await?
        .send_keys(&format!("{query}{}", char::from(Key::Enter)))
        .await?;
    let answer_js = "const a = document.querySelector('[data-testid=search-answer]'); \
                     return a ? a.textContent : ''";
    h.wait(
        "the backend's answer",
        5 * SEC,
        &format!("return (() => {{ {answer_js} }})().startsWith('The backend has')"),
    )
    .await?;
    let answer = h.eval(answer_js).await?;
    ensure!(
        answer == json!("The backend has 1 matching session; 1 not among the rows held"),
        "{answer}"
    );
    // It is the backend's session, which the table does not hold.
    let found = h
        .eval(
            "return [...document.querySelectorAll('[data-testid=search-results] tr[data-session]')] \
             .map(r => [r.dataset.session, r.children[1].textContent])",
        )
        .await?;
    ensure!(found == json!([["s00017", "100.64.0.18"]]), "{found}");
    let backend = backend_sessions(&h);
    ensure!(backend.len() == 20_001 && backend.contains(&"s00017".to_owned()));
    let held = h
        .eval("return !!document.querySelector('[data-testid=sessions-scroll] tr[data-session=s00017]')")
        .await?;
    ensure!(held == json!(false), "s00017 is among the rows held");
    let local = h.text("[data-testid=search-held]").await?;
    ensure!(local == "0 of the rows held match", "{local}");
    // Its subscriber: the invoices and tickets the dashboard holds for the account (the
    // backend's, scripted), and the session itself, found by the backend beyond the rows held.
    let invoice = json!({ "type": "invoice_update", "data": {
        "invoice_id": "INV-2025-000777", "subscriber_id": "sub_100017", "subscriber_name": "Dara Okafor",
        "amount": { "minor": 4999, "currency": "EUR" }, "status": "issued",
        "updated_at": "2025-10-16T12:00:00Z" }, "timestamp": "2025-10-16T12:00:00Z" });
    let other = json!({ "type": "invoice_update", "data": {
        "invoice_id": "INV-2025-000778", "subscriber_id": "sub_1004", "subscriber_name": "Someone Else",
        "amount": { "minor": 100, "currency": "EUR" }, "status": "issued",
        "updated_at": "2025-10-16T12:00:00Z" }, "timestamp": "2025-10-16T12:00:00Z" });
    let ticket = json!({ "type": "ticket_update", "data": {
        "ticket_id": "TCK-20001", "subject": "Speed far below plan", "priority": "high",
        "status": "open", "assignee": null, "created_at": "2025-10-16T11:00:00Z",
        "updated_at": "2025-10-16T12:00:00Z", "subscriber_id": "sub_100017" },
        "timestamp": "2025-10-16T12:00:00Z" });
    h.fault(
        module("billing"),
        Fault::Script(vec![invoice.to_string(), other.to_string()]),
    );
    h.fault(module("support"), Fault::Script(vec![ticket.to_string()]));
    h.eval(
        "document.querySelector('[data-testid=search-results] [data-testid=subscriber-link]').click();          return true",
    )
    .await?;
    h.wait(
        "the subscriber's page with its invoice, ticket and session",
        10 * SEC,
        "return location.pathname === '/subscriber/sub_100017' &&          !!document.querySelector('[data-testid=subscriber-invoices] tr[data-invoice]') &&          !!document.querySelector('[data-testid=subscriber-tickets] tr[data-ticket]') &&          !!document.querySelector('[data-testid=subscriber-sessions] tr[data-session]')",
    )
    .await?;
    let shown = h
        .eval(
            "const ids = (sel, attr) => [...document.querySelectorAll(sel)].map(r => r.getAttribute(attr));              return [ids('[data-testid=subscriber-invoices] tr[data-invoice]', 'data-invoice'),                      ids('[data-testid=subscriber-tickets] tr[data-ticket]', 'data-ticket'),                      ids('[data-testid=subscriber-sessions] tr[data-session]', 'data-session'),                      document.querySelector('[data-testid=subscriber-name]').textContent]",
        )
        .await?;
    ensure!(
        shown
            == json!([
                ["INV-2025-000777"],
                ["TCK-20001"],
                ["s00017"],
                "Dara Okafor"
            ]),
        "{shown}"
    );
    // Back to the search: the URL kept it.
    h.client.back().await?;
    h.wait(
        "the sessions page again",
        5 * SEC,
        "return location.pathname === '/sessions'",
    )
    .await?;
    // The URL keeps the search: a reload asks again and shows the same answer.
    let search = h.eval("return location.search").await?;
    ensure!(search == json!("?q=user17%40isp"), "{search}");
    h.open(&format!("/sessions?q={}", "user17%40isp")).await?;
    h.wait(
        "the answer after a reload",
        10 * SEC,
        &format!("return (() => {{ {answer_js} }})() === {}", answer),
    )
    .await?;
    let value = h
        .eval("return document.querySelector('[data-testid=session-search]').value")
        .await?;
    ensure!(value == json!(query), "{value}");

    // The extreme session, found by its address: whole (not cut or corrupted), and the page
    // goes on updating afterwards.
    h.open("/sessions?q=198.51.100.77").await?;
    h.wait(
        "the extreme session found",
        10 * SEC,
        "return !!document.querySelector('[data-testid=search-results] tr[data-session=s-extreme]')",
    )
    .await?;
    let name_len = h
        .eval(
            "return document.querySelector('[data-testid=search-results] tr[data-session=s-extreme] td').textContent.length",
        )
        .await?;
    ensure!(
        name_len == json!(20_000 + "@isp.example.net".len()),
        "{name_len}"
    );
    let before = h
        .text("section[data-testid=sessions] [data-testid=active-count]")
        .await?;
    ensure!(
        before == "20001",
        "{before} active sessions, the backend has 20,001"
    );
    let next = json!({ "type": "session_update", "data": { "action": "new", "session": {
        "session_id": "s-after", "username": "after@isp.example.net", "ip_address": "198.51.100.78",
        "nas_ip_address": "10.1.1.1", "upload_bytes": 0, "download_bytes": 0,
        "session_time_seconds": 0, "last_update": "2025-10-16T12:00:00Z" } },
        "timestamp": "2025-10-16T12:00:00Z" });
    h.fault(module("sessions"), Fault::Script(vec![next.to_string()]));
    h.wait(
        "the table to go on updating",
        5 * SEC,
        &format!(
            "const c = document.querySelector('section[data-testid=sessions] [data-testid=active-count]');              return !!c && c.textContent !== {} && c.textContent === '20002'",
            json!(before)
        ),
    )
    .await?;
    ensure!(h.console_errors().await?.is_empty(), "no error on the page");
    h.finish().await
}
