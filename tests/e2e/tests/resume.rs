//! Nothing missed, nothing doubled (the resume extension, docs/PROTOCOL.md): the release
//! build against a backend whose worlds are shared, positioned and bounded. Every test
//! compares the screen with the world's own state, read from the backend in process.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, ensure};
use serde_json::Value;
use switchboard_core::Instant;
use switchboard_devserver::endpoint::{Fault, Module};
use switchboard_devserver::world::WorldSettings;
use switchboard_e2e::{HEARTBEAT, Harness, Options, module, new_sessions};

const SEC: Duration = Duration::from_secs(1);

/// A backend that has been running for `backfill`, with its history bounded as given.
async fn running(backfill: Duration, history_len: usize) -> Result<Harness> {
    Harness::start_with(Options {
        world: WorldSettings {
            backfill,
            history_len,
            heartbeat: HEARTBEAT,
            ..WorldSettings::default()
        },
        ..Options::default()
    })
    .await
}

fn world(h: &Harness, name: &str) -> Value {
    h.endpoint(module(name))
        .world()
        .report(Instant::from_millis(Harness::now_ms()))
}

fn pause(h: &Harness, name: &str, on: bool) {
    h.endpoint(module(name)).paused.store(on, Ordering::Relaxed);
}

/// The backend's state frames on `channel`.
fn state<'a>(report: &'a Value, channel: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    report["state"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |f| f["type"] == channel)
        .map(|f| &f["data"])
}

/// The sessions the backend holds, by id.
fn backend_sessions(h: &Harness) -> BTreeSet<String> {
    let report = world(h, "sessions");
    state(&report, "session_update")
        .filter_map(|d| d["session"]["session_id"].as_str().map(str::to_owned))
        .collect()
}

/// The sessions on screen (rows leaving after a `terminate` are gone already).
async fn screen_sessions(h: &Harness) -> Result<BTreeSet<String>> {
    let js = "return Array.from(document.querySelectorAll('tr[data-session]:not(.leaving)')).map(r => r.dataset.session)";
    Ok(h.eval(js)
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// Waits until the sessions table equals the backend's session set; returns how long it took.
async fn table_matches(h: &Harness, within: Duration) -> Result<Duration> {
    let started = std::time::Instant::now();
    loop {
        let (screen, backend) = (screen_sessions(h).await?, backend_sessions(h));
        if screen == backend && !backend.is_empty() {
            return Ok(started.elapsed());
        }
        ensure!(
            started.elapsed() < within,
            "the sessions table never matched the backend within {within:?}:\n  screen:  {screen:?}\n  backend: {backend:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The bandwidth chart's `data-runs` and `data-samples` (see the kit's chart).
async fn chart(h: &Harness) -> Result<(u64, u64)> {
    let js = "const c = document.querySelector('[data-testid=bandwidth] canvas[role=img]'); return c ? [c.dataset.runs, c.dataset.samples] : ['-1','-1']";
    let v = h.eval(js).await?;
    let n = |i: usize| {
        v[i].as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX)
    };
    Ok((n(0), n(1)))
}

/// The bandwidth samples the backend has sent within the chart's window (50 points).
fn backend_samples(h: &Harness) -> u64 {
    let report = world(h, "network");
    (state(&report, "bandwidth_update").count() as u64).min(50)
}

/// The support page's SLA, as it says: "open longer than 2 h".
const SLA: Duration = Duration::from_secs(2 * 3600);

/// Open, active tickets and those past the SLA, computed from the backend's state.
fn backend_tickets(h: &Harness) -> (BTreeSet<String>, usize) {
    let report = world(h, "support");
    let now = Instant::from_millis(Harness::now_ms());
    let mut active = BTreeSet::new();
    let mut late = 0;
    for t in state(&report, "ticket_update") {
        if matches!(t["status"].as_str(), Some("open" | "pending")) {
            active.insert(t["ticket_id"].as_str().unwrap_or_default().to_owned());
            let opened = t["created_at"].as_str().and_then(Instant::parse_rfc3339);
            if opened.is_some_and(|o| now.saturating_since(o) > SLA) {
                late += 1;
            }
        }
    }
    (active, late)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_a_cold_load_shows_the_backend_state_and_history_and_two_tabs_agree() -> Result<()> {
    let h = running(60 * SEC, 10_000).await?;
    for m in Module::all() {
        pause(&h, m.name(), true); // a still world, so screen and backend compare exactly
    }
    let token = h.token();
    h.open_with_token("/sessions", &token).await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    // Times are figures, not assertions: this machine is shared.
    let took = table_matches(&h, 20 * SEC).await?;
    eprintln!("r1: the sessions table matched the backend {took:?} after connecting");
    // The counters redraw once a second.
    h.wait_counter("snapshots", 1, 2 * SEC).await?;

    h.open("/support").await?;
    h.wait_status("support", "connected", 10 * SEC).await?;
    let (active, late) = backend_tickets(&h);
    ensure!(!active.is_empty(), "the backfilled world has open tickets");
    let js = "return Array.from(document.querySelectorAll('tr[data-ticket]')).map(r => r.dataset.ticket)";
    let started = std::time::Instant::now();
    loop {
        let screen: BTreeSet<String> = h
            .eval(js)
            .await?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let sla = h.text("[data-testid=sla]").await?;
        let says = format!(
            "{late} ticket(s) open longer than {} h",
            SLA.as_secs() / 3600
        );
        if screen == active && sla.starts_with(&says) {
            eprintln!(
                "r1: support matched the backend after {:?}",
                started.elapsed()
            );
            break;
        }
        ensure!(
            started.elapsed() < 20 * SEC,
            "support never matched: {screen:?} vs backend {active:?}; '{sla}' vs {late} late"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    h.open("/network").await?;
    h.wait_status("network", "connected", 10 * SEC).await?;
    let want = backend_samples(&h);
    ensure!(want >= 25, "a minute of history at 2 s: {want}");
    let started = std::time::Instant::now();
    loop {
        let (runs, samples) = chart(&h).await?;
        if runs == 1 && samples == want {
            eprintln!(
                "r1: the chart drew the backend's history after {:?}",
                started.elapsed()
            );
            break;
        }
        ensure!(
            started.elapsed() < 20 * SEC,
            "the chart shows {samples} samples in {runs} line(s); the backend has {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A second tab, on its own connection, shows the same sessions.
    let first = h.client.window().await?;
    let second = h.client.new_window(true).await?;
    h.client.switch_to_window(second.handle).await?;
    h.open_with_token("/sessions", &token).await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    table_matches(&h, 2 * SEC).await?;
    let in_second = screen_sessions(&h).await?;
    h.client.close_window().await?;
    h.client.switch_to_window(first).await?;
    h.go("/sessions").await?;
    table_matches(&h, 5 * SEC).await?;
    ensure!(
        screen_sessions(&h).await? == in_second,
        "two tabs, one world"
    );
    h.finish().await
}

/// Drops `names` and refuses them for `secs` while the world goes on.
fn blip(h: &Harness, names: &[&str], secs: u64) {
    let until = Harness::now_ms() + secs * 1000;
    for name in names {
        h.endpoint(module(name))
            .refuse_until
            .store(until, Ordering::Relaxed);
        h.fault(module(name), Fault::Drop);
    }
}

/// Waits until `name`'s badge says anything but connected.
async fn wait_down(h: &Harness, name: &str, within: Duration) -> Result<()> {
    let started = std::time::Instant::now();
    while h.status(name).await? == "connected" {
        ensure!(started.elapsed() < within, "{name} never went down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A backend that has run for 30 s with a history of `history_len` frames; the app loads on
/// the network page and moves to sessions (both stores fill), then both feeds drop and are
/// refused for 10 s while the world goes on. Returns on the sessions page, connected again.
async fn through_a_blip(history_len: usize) -> Result<Harness> {
    let h = running(30 * SEC, history_len).await?;
    let token = h.token();
    h.open_with_token("/network", &token).await?;
    h.wait_status("network", "connected", 10 * SEC).await?;
    h.go("/sessions").await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    blip(&h, &["network", "sessions"], 10);
    wait_down(&h, "sessions", 5 * SEC).await?;
    h.wait_status("sessions", "connected", 30 * SEC).await?;
    Ok(h)
}

/// Goes to the network page and waits for its feed, which its own backoff may bring back
/// well after a refusal ends.
async fn network_page(h: &Harness) -> Result<()> {
    h.go("/network").await?;
    h.wait_status("network", "connected", 40 * SEC).await
}

/// Waits until the bandwidth chart draws `want_samples` samples (any number when `None`) in
/// `want_runs` lines.
async fn chart_settles(h: &Harness, want_runs: u64, want_samples: Option<u64>) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let (runs, samples) = chart(h).await?;
        if runs == want_runs && want_samples.is_none_or(|w| w == samples) {
            return Ok(());
        }
        ensure!(
            started.elapsed() < 5 * SEC,
            "the chart draws {samples} samples in {runs} line(s); want {want_samples:?} in {want_runs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_a_ten_second_blip_is_replayed_with_nothing_missing_or_doubled() -> Result<()> {
    let h = through_a_blip(10_000).await?;
    h.wait_counter("replays", 1, 5 * SEC).await?;
    pause(&h, "sessions", true);
    table_matches(&h, 3 * SEC).await?;
    ensure!(
        h.counter("snapshots").await? == 1,
        "only the cold load's snapshot"
    );
    // An oracle that sees doubling (the table's set of ids would not): the backend sends
    // its last 20 frames again, and the count of frames applied does not move.
    tokio::time::sleep(2 * SEC).await; // two redraws of the once-a-second counters
    let (applied, duplicates) = (h.counter("applied").await?, h.counter("duplicates").await?);
    ensure!(applied > 20, "{applied} frames applied");
    h.fault(module("sessions"), Fault::Repeat { frames: 20 });
    h.wait_counter("duplicates", duplicates + 20, 5 * SEC)
        .await?;
    ensure!(
        h.counter("applied").await? == applied,
        "repeated frames were applied: {applied} before, {} after",
        h.counter("applied").await?
    );

    network_page(&h).await?;
    h.wait_counter("replays", 1, 3 * SEC).await?;
    ensure!(h.counter("duplicates").await? == 0, "no duplicates");
    pause(&h, "network", true);
    // Every sample the backend sent, in one line: the blip left no hole.
    chart_settles(&h, 1, Some(backend_samples(&h))).await?;
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_a_blip_longer_than_the_history_or_a_new_epoch_brings_a_snapshot_and_a_marked_gap()
-> Result<()> {
    // A history of 3 frames: the 10 s blip outlasts it on both modules.
    let h = through_a_blip(3).await?;
    h.wait_counter("snapshots", 2, 5 * SEC).await?;
    pause(&h, "sessions", true);
    table_matches(&h, 3 * SEC).await?;
    ensure!(h.counter("duplicates").await? == 0, "no duplicates");

    network_page(&h).await?;
    h.wait_counter("snapshots", 2, 5 * SEC).await?;
    chart_settles(&h, 2, None).await?; // the outage, marked

    // A new epoch while connected: the backend sends a snapshot at once, and the chart
    // marks a second gap.
    h.fault(module("network"), Fault::NewEpoch);
    h.wait_counter("snapshots", 3, 5 * SEC).await?;
    chart_settles(&h, 3, None).await?;
    pause(&h, "sessions", false);
    h.go("/sessions").await?;
    h.fault(module("sessions"), Fault::NewEpoch);
    h.wait_counter("snapshots", 3, 5 * SEC).await?;
    pause(&h, "sessions", true);
    table_matches(&h, 3 * SEC).await?;
    ensure!(h.counter("duplicates").await? == 0, "no duplicates");
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r4_a_reference_style_server_works_as_before() -> Result<()> {
    let h = Harness::start_with(Options {
        world: WorldSettings {
            resume: false,
            ..WorldSettings::default()
        },
        ..Options::default()
    })
    .await?;
    let token = h.token();
    h.open_with_token("/sessions", &token).await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    h.wait(
        "sessions from changes alone",
        10 * SEC,
        "return document.querySelectorAll('tr[data-session]').length > 0",
    )
    .await?;
    for name in ["replays", "snapshots", "heartbeats", "gaps", "duplicates"] {
        ensure!(
            h.counter(name).await? == 0,
            "no {name} without the extension"
        );
    }
    let counters = h.text("[data-testid=counters]").await?;
    ensure!(!counters.contains("resumed"), "{counters}");
    // A silent socket is not judged by heartbeats nobody promised, but the sessions
    // module's own limit (a RADIUS feed is steady) replaces a half-open one.
    h.endpoint(module("sessions"))
        .silent
        .store(true, Ordering::Relaxed);
    let silent_since = std::time::Instant::now();
    tokio::time::sleep(3 * HEARTBEAT + SEC).await; // the assertion is that nothing happens
    ensure!(
        h.status("sessions").await? == "connected",
        "no heartbeat limit without heartbeats"
    );
    let limit = switchboard_sessions::STALE_AFTER;
    wait_down(&h, "sessions", limit + 15 * SEC).await?;
    let after = silent_since.elapsed();
    // Judged from the last frame before the silence, so up to one update sooner.
    ensure!(
        after + 5 * SEC >= limit,
        "stale after {after:?}, before the limit"
    );
    eprintln!("r4: a silent sessions socket was replaced after {after:?}");
    h.endpoint(module("sessions"))
        .silent
        .store(false, Ordering::Relaxed);
    h.wait_status("sessions", "connected", 30 * SEC).await?;
    h.fault(module("sessions"), Fault::Drop);
    h.wait_report(module("sessions"), "a reconnect", 15 * SEC, |r| {
        r.connections >= 2
    })
    .await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    let first = &h.report(module("sessions")).first_frames;
    ensure!(
        first.iter().all(|f| f.contains("\"resume\"")),
        "the client still offers resume, which this server ignores: {first:?}"
    );
    h.finish().await
}

/// An ISP's worth of live sessions: the cold load's snapshot (about 6 MB) is far over the
/// client's 1 MiB frame limit, so it arrives in parts and is applied whole: the count is the
/// backend's, the table holds the most recent 500 and says so, and nothing was dropped as
/// too large. Prints the time to a complete table and the longest main-thread task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_a_snapshot_of_twenty_thousand_sessions_arrives_in_parts_and_whole() -> Result<()> {
    let h = running(Duration::ZERO, 10_000).await?;
    for m in Module::all() {
        pause(&h, m.name(), true);
    }
    let now = Instant::from_millis(Harness::now_ms());
    h.endpoint(module("sessions"))
        .world()
        .inject(new_sessions(20_000), now);
    let report = world(&h, "sessions");
    let order: Vec<String> = state(&report, "session_update")
        .filter_map(|d| d["session"]["session_id"].as_str().map(str::to_owned))
        .collect();
    ensure!(order.len() >= 20_000, "{} sessions", order.len());
    let newest: BTreeSet<&String> = order.iter().rev().take(500).collect();

    let token = h.token();
    let started = std::time::Instant::now();
    h.open_with_token("/sessions", &token).await?;
    // Record animation-frame intervals from the shell's first render, before the snapshot.
    h.eval(
        "window.__gaps = []; let last = performance.now(); \
         const tick = t => { window.__gaps.push(t - last); last = t; \
           if (window.__rafOn !== false) requestAnimationFrame(tick); }; \
         requestAnimationFrame(tick); return true",
    )
    .await?;
    let want = order.len().to_string();
    loop {
        let count = h
            .text("section[data-testid=sessions] [data-testid=active-count]")
            .await?;
        if count == want {
            break;
        }
        ensure!(
            ["", "0", "—"].contains(&count.as_str()),
            "never half a snapshot: the count read {count} on the way to {want}"
        );
        ensure!(
            started.elapsed() < 60 * SEC,
            "the count never reached {want}: {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let rows = screen_sessions(&h).await?;
    ensure!(!rows.is_empty(), "rows on screen");
    ensure!(
        rows.iter().all(|r| newest.contains(r)),
        "the table shows the most recent 500: {rows:?}"
    );
    let note = h.text("[data-testid=not-shown]").await?;
    ensure!(
        note.starts_with(&format!("{} not shown", order.len() - 500)),
        "{note}"
    );
    h.wait_counter("snapshots", 1, 2 * SEC).await?; // the counters redraw once a second
    let stats = h
        .eval("return document.querySelector('[data-testid=counters]').textContent")
        .await?;
    ensure!(
        !stats
            .as_str()
            .unwrap_or_default()
            .contains("over the size limit"),
        "{stats}"
    );
    // A figure, not an assertion: the longest gap between animation frames while the
    // snapshot was applied, which is the longest the main thread kept the page from painting.
    let gaps: Vec<f64> = h
        .eval("window.__rafOn = false; return window.__gaps || []")
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect();
    let longest = gaps.iter().copied().fold(0.0, f64::max);
    let over = gaps.iter().filter(|g| **g > 50.0).count();
    eprintln!(
        "r5: {} sessions in a complete table {took:?} after the page was opened; \
         longest gap between animation frames {longest:.0} ms over {} frames, {over} over 50 ms",
        order.len(),
        gaps.len()
    );
    h.finish().await
}
