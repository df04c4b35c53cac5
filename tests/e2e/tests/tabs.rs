//! One connection per module per browser, however many tabs: several tabs of one headless
//! Chromium on the development backend, which reports its open connections per module. Every
//! check compares the tabs' screens with the backend's state, not only with a label.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, ensure};
use fantoccini::Client;
use fantoccini::wd::WindowHandle;
use serde_json::json;
use switchboard_devserver::endpoint::{Fault, Module};
use switchboard_e2e::page::{
    disconnect, early_sockets, eval, open_sessions, wait, wait_backend_ended,
    wait_open_connections, wait_screen_is_backend,
};
use switchboard_e2e::{Harness, SECRET};

const SEC: Duration = Duration::from_secs(1);

/// Opens a new tab of the main browser on the sessions page with `token`, and waits for its
/// live rows. The tab stays current.
async fn new_tab(h: &Harness, client: &Client, token: &str) -> Result<WindowHandle> {
    let tab = client.new_window(true).await?.handle;
    client.switch_to_window(tab.clone()).await?;
    open_sessions(h, client, token).await?;
    Ok(tab)
}

/// The sessions module's role in the current tab (`leader`, `follower`, …) and its status.
async fn role(client: &Client) -> Result<(String, String)> {
    let v = eval(
        client,
        "const s = document.querySelector('[data-testid=status]'); \
         return [s ? (s.dataset.share || '') : '', s ? s.dataset.status : ''];",
    )
    .await?;
    Ok((
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
    ))
}

fn another_token(sub: &str) -> String {
    switchboard_devserver::auth::mint(SECRET, sub, Duration::from_secs(3600)).unwrap_or_default()
}

#[tokio::test]
async fn x1_three_tabs_share_one_connection_per_module_and_a_closed_leader_is_replaced_within_2s()
-> Result<()> {
    let h = Harness::start().await?;
    let token = h.token();
    let client = &h.client;
    let first = client.window().await?;
    open_sessions(&h, client, &token).await?;
    // The first tab's page opened every module's socket while its code downloaded, and each
    // module's connection adopted its socket: the backend accepted one per module, not two.
    let early = early_sockets(client).await?;
    ensure!(
        early.len() == Module::all().count() && early.iter().all(|adopted| *adopted),
        "the first tab's early sockets, adopted: {early:?}"
    );
    let accepted: Vec<u64> = Module::all().map(|m| h.report(m).connections).collect();
    ensure!(
        accepted.iter().all(|n| *n == 1),
        "connections accepted per module: {accepted:?}"
    );
    let second = new_tab(&h, client, &token).await?;
    // The other tabs' pages open none: another tab leads every module's connection.
    ensure!(
        early_sockets(client).await?.is_empty(),
        "the second tab opened sockets early"
    );
    let third = new_tab(&h, client, &token).await?;
    ensure!(
        early_sockets(client).await?.is_empty(),
        "the third tab opened sockets early"
    );
    let tabs = [first.clone(), second.clone(), third.clone()];
    wait_open_connections(&h, 1, 5 * SEC).await?;
    // One tab leads, the others say where their data comes from; all show the backend's
    // sessions.
    let mut roles = Vec::new();
    for (i, tab) in tabs.iter().enumerate() {
        client.switch_to_window(tab.clone()).await?;
        let (share, status) = role(client).await?;
        ensure!(status == "connected", "tab {i} is {status}");
        roles.push(share);
        wait_screen_is_backend(&h, client, &format!("tab {i}")).await?;
    }
    let mut sorted = roles.clone();
    sorted.sort();
    ensure!(
        sorted == ["follower", "follower", "leader"],
        "roles: {roles:?}"
    );
    let words = eval(
        client,
        "return document.querySelector('[data-testid=status-share]').textContent",
    )
    .await?;
    ensure!(
        words
            .as_str()
            .is_some_and(|w| w.contains("another tab") || w.contains("every tab")),
        "the status says where the connection is: {words}"
    );
    // Close the leader: another tab holds the connection within 2 s, and every tab still
    // shows exactly the backend's sessions.
    let leader = roles.iter().position(|r| r == "leader").unwrap_or(0);
    client.switch_to_window(tabs[leader].clone()).await?;
    client.close_window().await?;
    let rest: Vec<WindowHandle> = tabs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leader)
        .map(|(_, t)| t.clone())
        .collect();
    let closed = std::time::Instant::now();
    let mut taken = false;
    while closed.elapsed() < 2 * SEC && !taken {
        for tab in &rest {
            client.switch_to_window(tab.clone()).await?;
            taken |= role(client).await? == ("leader".to_owned(), "connected".to_owned());
        }
    }
    ensure!(taken, "no tab took over within 2 s");
    wait_open_connections(&h, 1, 5 * SEC).await?;
    // The world moves on; both tabs follow it, nothing missed or doubled.
    tokio::time::sleep(3 * SEC).await;
    for (i, tab) in rest.iter().enumerate() {
        client.switch_to_window(tab.clone()).await?;
        wait_screen_is_backend(&h, client, &format!("remaining tab {i}")).await?;
        let duplicates = eval(
            client,
            "return [...document.querySelectorAll('tr[data-session]')].length === \
             new Set([...document.querySelectorAll('tr[data-session]')].map(r => r.dataset.session)).size",
        )
        .await?;
        ensure!(
            duplicates == json!(true),
            "a session shown twice in tab {i}"
        );
        // The bandwidth chart: the backend's samples, in one line. A sample missed would be
        // a sample short; a handover that lost the position would have had to take a
        // snapshot, which marks a gap (two lines).
        h.go("/network").await?;
        wait_chart_is_backend(&h, client, &format!("remaining tab {i}")).await?;
    }
    h.finish().await
}

/// The bandwidth chart's lines and samples (`data-runs`, `data-samples`).
async fn chart(client: &Client) -> Result<(u64, u64)> {
    let v = eval(
        client,
        "const c = document.querySelector('[data-testid=bandwidth] canvas[role=img]'); \
         return c ? [c.dataset.runs, c.dataset.samples] : ['-1','-1']",
    )
    .await?;
    let n = |i: usize| {
        v[i].as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX)
    };
    Ok((n(0), n(1)))
}

/// Waits until the bandwidth chart draws, in one line, the samples the backend holds within
/// the chart's window (its last 50).
async fn wait_chart_is_backend(h: &Harness, client: &Client, who: &str) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let backend = h
            .endpoint(switchboard_e2e::module("network"))
            .world()
            .state()
            .iter()
            .filter(|f| f.channel() == "bandwidth_update")
            .count()
            .min(50) as u64;
        let (runs, samples) = chart(client).await?;
        if (runs, samples) == (1, backend) {
            return Ok(());
        }
        ensure!(
            started.elapsed() < 5 * SEC,
            "{who}'s chart draws {samples} samples in {runs} line(s); the backend has {backend}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn x2_tabs_with_different_tokens_or_with_sharing_off_connect_on_their_own() -> Result<()> {
    let h = Harness::start().await?;
    let client = &h.client;
    open_sessions(&h, client, &h.token()).await?;
    // Another operator in the same browser: a different token is a different group.
    new_tab(&h, client, &another_token("ben")).await?;
    wait_open_connections(&h, 2, 5 * SEC).await?;
    ensure!(
        role(client).await?.0 == "leader",
        "the other operator leads its own group"
    );
    client.close_window().await?;
    wait_open_connections(&h, 1, 5 * SEC).await?;
    // Sharing off: every tab has its own connections again.
    h.set_config(Harness::live_config(h.backend_addr).replace(
        r#"{"token_key""#,
        r#"{"share_across_tabs":false,"token_key""#,
    ))?;
    let first = client.windows().await?.remove(0);
    client.switch_to_window(first).await?;
    open_sessions(&h, client, &h.token()).await?;
    new_tab(&h, client, &h.token()).await?;
    wait_open_connections(&h, 2, 5 * SEC).await?;
    ensure!(role(client).await?.0.is_empty(), "no role when not shared");
    wait_screen_is_backend(&h, client, "the unshared tab").await?;
    h.finish().await
}

#[tokio::test]
async fn x3_a_backend_outage_is_one_reconnect_sequence_for_the_whole_browser() -> Result<()> {
    let h = Harness::start().await?;
    let client = &h.client;
    let token = h.token();
    open_sessions(&h, client, &token).await?;
    new_tab(&h, client, &token).await?;
    new_tab(&h, client, &token).await?;
    wait_open_connections(&h, 1, 5 * SEC).await?;
    let sessions = switchboard_e2e::module("sessions");
    let before = h.report(sessions);
    // Down for 20 s: every connection dropped, new ones refused.
    for m in Module::all() {
        h.endpoint(m)
            .refuse_until
            .store(Harness::now_ms() + 20_000, Ordering::Relaxed);
        h.fault(m, Fault::Drop);
    }
    tokio::time::sleep(21 * SEC).await;
    wait_open_connections(&h, 1, 40 * SEC).await?;
    let after = h.report(sessions);
    let attempts = (after.connections + after.refused) - (before.connections + before.refused);
    // One tab's backoff in 20 s (3, 6, 12 s with jitter, then the one that succeeds): about
    // 4; three tabs on their own would make about 12.
    ensure!(
        (2..=6).contains(&attempts),
        "{attempts} attempts on the backend for three tabs"
    );
    for tab in client.windows().await? {
        client.switch_to_window(tab).await?;
        wait_screen_is_backend(&h, client, "a tab after the outage").await?;
    }
    h.finish().await
}

#[tokio::test]
async fn x4_a_frozen_leader_hands_over_and_its_socket_is_closed() -> Result<()> {
    let h = Harness::start().await?;
    let client = &h.client;
    let token = h.token();
    let first = client.window().await?;
    open_sessions(&h, client, &token).await?;
    let second = new_tab(&h, client, &token).await?;
    wait_open_connections(&h, 1, 5 * SEC).await?;
    client.switch_to_window(first.clone()).await?;
    ensure!(role(client).await?.0 == "leader", "the first tab leads");
    h.cdp("Page.setWebLifecycleState", json!({"state": "frozen"}))
        .await?;
    client.switch_to_window(second.clone()).await?;
    wait(
        client,
        "the second tab to take over",
        10 * SEC,
        "const s = document.querySelector('[data-testid=status]'); \
         return s.dataset.share === 'leader' && s.dataset.status === 'connected'",
    )
    .await?;
    tokio::time::sleep(SEC).await;
    wait_open_connections(&h, 1, 10 * SEC).await?;
    wait_screen_is_backend(&h, client, "the new leader").await?;
    client.switch_to_window(first).await?;
    h.cdp("Page.setWebLifecycleState", json!({"state": "active"}))
        .await?;
    wait(
        client,
        "the unfrozen tab to follow",
        10 * SEC,
        "const s = document.querySelector('[data-testid=status]'); \
         return s.dataset.share === 'follower' && s.dataset.status === 'connected'",
    )
    .await?;
    wait_open_connections(&h, 1, 5 * SEC).await?;
    wait_screen_is_backend(&h, client, "the unfrozen tab").await?;
    h.finish().await
}

#[tokio::test]
async fn x5_a_follower_disconnects_a_session_through_the_leader_and_every_tab_sees_it() -> Result<()>
{
    let h = Harness::start().await?;
    let client = &h.client;
    let token = switchboard_devserver::auth::mint_operator(SECRET, "ada", 3600 * SEC)?;
    let first = client.window().await?;
    open_sessions(&h, client, &token).await?;
    new_tab(&h, client, &token).await?;
    ensure!(
        role(client).await?.0 == "follower",
        "the second tab follows"
    );
    // The leader passed the grants on: the follower offers the action.
    wait(
        client,
        "the follower's disconnect buttons",
        5 * SEC,
        "const b = [...document.querySelectorAll('[data-testid=disconnect]')]; \
         return b.length > 3 && b.every(x => !x.disabled)",
    )
    .await?;
    let victim = screen_first_session(client).await?;
    disconnect(client, &victim).await?;
    // Carried out by the backend, through the leader's socket: the session is gone from its
    // state, and from both tabs.
    wait_backend_ended(&h, &victim).await?;
    wait_screen_is_backend(&h, client, "the follower").await?;
    client.switch_to_window(first).await?;
    wait_screen_is_backend(&h, client, "the leader").await?;
    wait_open_connections(&h, 1, 5 * SEC).await?;
    h.finish().await
}

/// The first session row on screen.
async fn screen_first_session(client: &Client) -> Result<String> {
    let id = eval(
        client,
        "return document.querySelector('tr[data-session][data-provenance=live]').dataset.session",
    )
    .await?;
    Ok(id.as_str().unwrap_or_default().to_owned())
}
