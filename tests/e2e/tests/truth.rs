//! What the operator sees stays true: state that outlives its views, live figures that never
//! include simulated input, reducers no frame can break, and timestamps read in any offset.
//! Each test sends exact frames (the endpoints' own traffic silenced) and compares the screen
//! with what was sent.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, ensure};
use serde_json::json;
use switchboard_core::Instant;
use switchboard_devserver::endpoint::{Fault, Module};
use switchboard_e2e::{Harness, module};

const SEC: Duration = Duration::from_secs(1);

/// A harness whose worlds make nothing but what the test scripts, opened on `path`. The
/// heartbeats keep the quiet sockets judged alive.
async fn scripted(path: &str) -> Result<Harness> {
    let h = Harness::start_paused().await?;
    let token = h.token();
    h.open_with_token(path, &token).await?;
    Ok(h)
}

fn send(h: &Harness, module: Module, frames: &[serde_json::Value]) {
    h.fault(
        module,
        Fault::Script(frames.iter().map(ToString::to_string).collect()),
    );
}

fn frame(channel: &str, data: serde_json::Value) -> serde_json::Value {
    json!({ "type": channel, "data": data, "timestamp": "2025-10-16T12:00:00Z" })
}

fn session(id: &str, action: &str, secs: u64) -> serde_json::Value {
    frame(
        "session_update",
        json!({ "action": action, "session": {
            "session_id": id, "username": format!("{id}@example.net"), "ip_address": "100.64.0.9",
            "nas_ip_address": "10.0.0.1", "upload_bytes": 1000, "download_bytes": 5000,
            "session_time_seconds": secs, "last_update": "2025-10-16T12:00:00Z" } }),
    )
}

fn invoice(id: &str, minor: i64, status: &str) -> serde_json::Value {
    frame(
        "invoice_update",
        json!({ "invoice_id": id, "subscriber_id": "sub_1", "subscriber_name": "Ada",
                "amount": { "minor": minor, "currency": "EUR" }, "status": status,
                "updated_at": "2025-10-16T12:00:00Z" }),
    )
}

fn ticket(id: &str, priority: &str, created_at: &str) -> serde_json::Value {
    frame(
        "ticket_update",
        json!({ "ticket_id": id, "subject": format!("ticket {id}"), "priority": priority,
                "status": "open", "assignee": null, "created_at": created_at,
                "updated_at": created_at }),
    )
}

/// Three invoices of 10.00 EUR, paid: "Paid since opened" reads 30.00 EUR.
fn three_paid_invoices() -> [serde_json::Value; 3] {
    ["INV-1", "INV-2", "INV-3"].map(|id| invoice(id, 1000, "paid"))
}

async fn count(h: &Harness, css: &str) -> Result<u64> {
    let js = format!("return document.querySelectorAll({}).length", json!(css));
    Ok(h.eval(&js).await?.as_u64().unwrap_or(0))
}

/// The instant `hours_ago` hours before now, stamped four ways: `Z`, `+00:00`, `+05:30` (the
/// same instant in India's local time) and with no zone (read as UTC).
fn stamps(hours_ago: u64) -> [String; 4] {
    let at = Instant::from_millis(Harness::now_ms() - hours_ago * 3_600_000);
    let z = at.to_rfc3339();
    let ist = at
        .plus(Duration::from_secs(5 * 3600 + 1800))
        .to_rfc3339()
        .replace('Z', "+05:30");
    [
        z.clone(),
        z.replace('Z', "+00:00"),
        ist,
        z.trim_end_matches('Z').to_owned(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t1_navigating_keeps_every_session_ticket_and_total() -> Result<()> {
    let h = scripted("/").await?;
    for m in ["sessions", "support", "billing"] {
        h.wait_status(m, "connected", 5 * SEC).await?;
    }
    send(
        &h,
        module("sessions"),
        &[
            session("sess_a", "new", 10),
            session("sess_b", "new", 20),
            session("sess_c", "new", 30),
        ],
    );
    let [three_hours_ago, ..] = stamps(3);
    send(
        &h,
        module("support"),
        &[
            ticket("TCK-1", "urgent", &three_hours_ago),
            ticket("TCK-2", "low", &stamps(0)[0]),
        ],
    );
    send(&h, module("billing"), &three_paid_invoices());
    let card = "article[data-module=sessions] [data-testid=active-count]";
    h.wait(
        "three sessions on the card",
        5 * SEC,
        &format!("return document.querySelector('{card}')?.textContent === '3'"),
    )
    .await?;
    h.wait("30.00 EUR paid on the card", 5 * SEC, "return (document.querySelector('[data-testid=paid]')?.textContent || '').includes('30.00 EUR')").await?;

    for round in 0..2 {
        h.go("/sessions").await?;
        h.wait(
            "the sessions page",
            5 * SEC,
            "return !!document.querySelector('section[data-module=sessions]')",
        )
        .await?;
        let rows = count(&h, "section[data-module=sessions] tr[data-session]").await?;
        ensure!(
            rows == 3,
            "round {round}: the page shows the card's 3 sessions at once, not {rows}"
        );
        h.go("/").await?;
        h.wait(
            "the card again",
            5 * SEC,
            &format!("return document.querySelector('{card}')?.textContent === '3'"),
        )
        .await?;
        let paid = h.text("[data-testid=paid]").await?;
        ensure!(
            paid.contains("30.00 EUR"),
            "round {round}: paid restarted: {paid}"
        );
        h.go("/support").await?;
        h.wait(
            "the support page",
            5 * SEC,
            "return !!document.querySelector('[data-testid=support]')",
        )
        .await?;
        ensure!(
            count(&h, "[data-testid=support] tr[data-ticket]").await? == 2,
            "both tickets kept"
        );
        let sla = h.text("[data-testid=sla]").await?;
        ensure!(sla.starts_with("1 ticket"), "the SLA count is kept: {sla}");
    }
    ensure!(
        !h.text("section[data-module=sessions]")
            .await?
            .contains("unknown sessions"),
        "no updates for unknown sessions"
    );
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_an_outage_keeps_the_last_live_state_with_its_age_and_never_adds_simulated_input()
-> Result<()> {
    let h = scripted("/").await?;
    h.wait_status("billing", "connected", 5 * SEC).await?;
    send(&h, module("billing"), &three_paid_invoices());
    let paid_js = "return document.querySelector('[data-testid=paid]')?.textContent || ''";
    h.wait(
        "30.00 EUR paid",
        5 * SEC,
        "return (document.querySelector('[data-testid=paid]')?.textContent || '').includes('30.00 EUR')",
    )
    .await?;
    // Money in any currency: a USD payment is totalled in USD, beside the EUR total.
    send(
        &h,
        module("billing"),
        &[frame(
            "invoice_update",
            json!({ "invoice_id": "INV-US-1", "subscriber_id": "sub_2", "subscriber_name": "Bo",
                    "amount": { "minor": 1234, "currency": "USD" }, "status": "paid",
                    "updated_at": "2025-10-16T12:00:00Z" }),
        )],
    );
    h.wait(
        "12.34 USD beside 30.00 EUR",
        5 * SEC,
        "const t = document.querySelector('[data-testid=paid]')?.textContent || ''; return t.includes('12.34 USD') && t.includes('30.00 EUR')",
    )
    .await?;

    // The backend goes away for 10 s: the connection drops and reconnects are refused.
    let until = Harness::now_ms() + 10_000;
    h.endpoint(module("billing"))
        .refuse_until
        .store(until, Ordering::Relaxed);
    h.fault(module("billing"), Fault::Drop);
    h.wait(
        "the card to say its figures are live as of a time",
        10 * SEC,
        "return !!document.querySelector('[data-module=billing] [data-testid=live-as-of]')",
    )
    .await?;
    // The simulator runs now (the feed really failed), but the card has live data: it keeps
    // showing it, and the total never moves.
    for _ in 0..6 {
        let paid = h.eval(paid_js).await?;
        ensure!(
            paid.as_str().is_some_and(|p| p.contains("30.00 EUR")),
            "during the outage: {paid}"
        );
        let tag = h
            .text("[data-module=billing] [data-testid=live-as-of]")
            .await?;
        ensure!(
            tag.starts_with("Live · as of ") && tag.ends_with(" ago"),
            "{tag}"
        );
        ensure!(
            count(
                &h,
                "article[data-module=billing] [data-testid=simulated-panel]"
            )
            .await?
                == 0,
            "live figures are not labelled simulated"
        );
        tokio::time::sleep(SEC).await;
    }
    h.wait_status("billing", "connected", 20 * SEC).await?;
    h.wait(
        "the age tag to go",
        5 * SEC,
        "return !document.querySelector('[data-module=billing] [data-testid=live-as-of]')",
    )
    .await?;
    tokio::time::sleep(3 * SEC).await; // the assertion is that nothing is added
    let paid = h.eval(paid_js).await?;
    ensure!(
        paid.as_str().is_some_and(|p| p.contains("30.00 EUR")),
        "after the outage: {paid}"
    );
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t3_extreme_frames_break_nothing_and_the_page_keeps_updating() -> Result<()> {
    let h = scripted("/").await?;
    for m in Module::all().map(Module::name) {
        h.wait_status(m, "connected", 5 * SEC).await?;
    }
    let long = "x".repeat(60_000);
    send(
        &h,
        module("network"),
        &[frame(
            "bandwidth_update",
            json!({
        "timestamp": "9999-12-31T23:59:59Z", "upload_mbps": 1.7976931348623157e308,
        "download_mbps": -1.7976931348623157e308, "latency_ms": 5e-324 }),
        )],
    );
    send(
        &h,
        module("sessions"),
        &[
            frame(
                "session_update",
                json!({ "action": "new", "session": {
            "session_id": "huge", "username": long, "ip_address": "::", "nas_ip_address": "",
            "upload_bytes": u64::MAX, "download_bytes": u64::MAX,
            "session_time_seconds": u64::MAX, "last_update": "0001-01-01T00:00:00Z" } }),
            ),
            session("huge", "update", u64::MAX),
            session("ghost", "terminate", 0),
            session("ghost2", "update", 5),
        ],
    );
    send(
        &h,
        module("billing"),
        &[
            invoice("MAX-1", i64::MAX, "paid"),
            invoice("MAX-2", i64::MAX, "paid"),
            invoice("MIN-1", i64::MIN, "overdue"),
            frame(
                "invoice_update",
                json!({ "invoice_id": long, "subscriber_id": "s", "subscriber_name": long,
            "amount": { "minor": 1, "currency": long }, "status": "issued", "updated_at": "" }),
            ),
        ],
    );
    send(
        &h,
        module("support"),
        &[
            ticket("FUTURE", "urgent", "9999-12-31T23:59:59+14:00"),
            ticket("PAST", "high", "0001-01-01T00:00:00-12:00"),
            ticket("JUNK", "low", "not a time"),
            ticket(&long, "normal", &long),
        ],
    );
    for path in ["/sessions", "/billing", "/support", "/network", "/"] {
        h.go(path).await?;
        tokio::time::sleep(SEC).await;
    }
    // Still alive: a normal frame after all that is shown.
    send(&h, module("sessions"), &[session("after", "new", 1)]);
    h.go("/sessions").await?;
    h.wait(
        "a session after the extremes",
        5 * SEC,
        "return !!document.querySelector('tr[data-session=after]')",
    )
    .await?;
    let errors = h.console_errors().await?;
    ensure!(errors.is_empty(), "page errors: {errors:?}");
    h.go("/").await?;
    for m in Module::all().map(Module::name) {
        let status = h.status(m).await?;
        let detail = h
            .text(&format!("[data-module={m}] [data-testid=status]"))
            .await?;
        ensure!(
            status == "connected",
            "{m} is still connected: {status}: {detail}"
        );
    }
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t4_an_urgent_ticket_three_hours_old_is_past_sla_in_any_offset() -> Result<()> {
    let h = scripted("/support").await?;
    h.wait_status("support", "connected", 5 * SEC).await?;
    let frames: Vec<_> = stamps(3)
        .iter()
        .enumerate()
        .map(|(i, at)| ticket(&format!("TCK-{i}"), "urgent", at))
        .collect();
    send(&h, module("support"), &frames);
    h.wait(
        "four tickets",
        5 * SEC,
        "return document.querySelectorAll('tr[data-ticket]').length === 4",
    )
    .await?;
    for i in 0..4 {
        let row = h.text(&format!("tr[data-ticket=TCK-{i}]")).await?;
        ensure!(
            row.contains("⚠ SLA") && row.contains("3:00:"),
            "TCK-{i} ({}): {row}",
            stamps(3)[i]
        );
    }
    let sla = h.text("[data-testid=sla]").await?;
    ensure!(sla.starts_with("4 ticket"), "{sla}");
    h.finish().await
}

/// A 128-character user name, the most the model keeps, at 1,280 px: the User column is cut
/// with an ellipsis, every other column stays in view without scrolling sideways, and the
/// whole name shows on hover (`title`) and on keyboard focus. Saves a screenshot to
/// `target/screens/long-values.png` for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t5_a_long_user_name_is_cut_and_shown_whole_on_hover_and_focus() -> Result<()> {
    let h = scripted("/sessions").await?;
    h.client.set_window_size(1280, 900).await?;
    h.wait_status("sessions", "connected", 5 * SEC).await?;
    let name = format!("{}@isp.example.net", "x".repeat(128 - 16));
    let mut long = session("long", "new", 60);
    long["data"]["session"]["username"] = json!(name);
    send(&h, module("sessions"), &[long, session("short", "new", 30)]);
    h.wait(
        "both rows",
        5 * SEC,
        "return document.querySelectorAll('tr[data-session]').length === 2",
    )
    .await?;
    let layout = h
        .eval(
            "const s = document.querySelector('[data-testid=sessions-scroll]'); \
             const last = s.querySelector('thead th:last-child').getBoundingClientRect(); \
             const box = s.getBoundingClientRect(); \
             return [s.scrollWidth, s.clientWidth, last.right, box.right]",
        )
        .await?;
    let n = |i: usize| layout[i].as_f64().unwrap_or(f64::NAN);
    ensure!(
        n(0) <= n(1),
        "the table scrolls sideways: {} px of content in {} px",
        n(0),
        n(1)
    );
    ensure!(
        n(2) <= n(3) + 0.5,
        "the last column (Duration) is cut off: its right edge {} > {}",
        n(2),
        n(3)
    );
    let span = "tr[data-session=long] .cut";
    let title = h
        .eval(&format!("return document.querySelector('{span}').title"))
        .await?;
    ensure!(title.as_str() == Some(name.as_str()), "title: {title}");
    let shown = h
        .eval(&format!(
            "const e = document.querySelector('{span}'); e.focus(); \
             return getComputedStyle(e, '::after').content"
        ))
        .await?;
    ensure!(
        shown.as_str().is_some_and(|c| c.contains(&name)),
        "on focus the whole name shows: {shown}"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screens");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("long-values.png"), h.client.screenshot().await?)?;
    h.finish().await
}
