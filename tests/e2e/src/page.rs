//! What the tests read and do on a page of any browser window ([`Client`]): for tests with
//! several operators or several tabs, where [`Harness`]'s own methods (its main window) are
//! not enough.

use std::time::Duration;

use anyhow::{Result, bail, ensure};
use fantoccini::Client;
use serde_json::{Value, json};
use switchboard_devserver::endpoint::Module;

use crate::{Harness, TOKEN_KEY, module};

/// Runs JavaScript in `client`'s current window and returns its value.
pub async fn eval(client: &Client, js: &str) -> Result<Value> {
    Ok(client.execute(js, vec![]).await?)
}

/// Polls `js` (which returns a boolean) every 50 ms until it is true or `within` passes.
pub async fn wait(client: &Client, what: &str, within: Duration, js: &str) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        if eval(client, js).await? == Value::Bool(true) {
            return Ok(());
        }
        if started.elapsed() > within {
            bail!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `path` of the site in `client`'s current window with `token` in its
/// `sessionStorage` (set on the origin first, then loaded).
pub async fn open_page(h: &Harness, client: &Client, token: &str, path: &str) -> Result<()> {
    client
        .goto(&format!("http://{}/config.json", h.site))
        .await?;
    eval(
        client,
        &format!(
            "sessionStorage.setItem('{TOKEN_KEY}', {}); return true",
            json!(token)
        ),
    )
    .await?;
    client.goto(&format!("http://{}{path}", h.site)).await?;
    Ok(())
}

/// The sockets `index.html` opened in the current tab while the code downloaded: for each,
/// whether a module's connection adopted it.
pub async fn early_sockets(client: &Client) -> Result<Vec<bool>> {
    let v = eval(
        client,
        "const early = window.__switchboard; \
         return early ? Object.values(early.sockets).flat().map(ws => ws.adopted === true) : [];",
    )
    .await?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .map(|a| a.as_bool() == Some(true))
        .collect())
}

/// Waits until the backend has exactly `n` open connections for every module.
pub async fn wait_open_connections(h: &Harness, n: u64, within: Duration) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let open: Vec<(&str, u64)> = Module::all()
            .map(|m| (m.name(), h.report(m).open))
            .collect();
        if open.iter().all(|(_, o)| *o == n) {
            return Ok(());
        }
        ensure!(
            started.elapsed() < within,
            "expected {n} open connections per module, the backend has {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the sessions page in `client` with `token`, and waits for live rows.
pub async fn open_sessions(h: &Harness, client: &Client, token: &str) -> Result<()> {
    open_page(h, client, token, "/sessions").await?;
    wait(
        client,
        "live session rows",
        Duration::from_secs(10),
        "return document.querySelectorAll('tr[data-session][data-provenance=live]').length > 3",
    )
    .await
}

/// The session ids in the backend's state.
pub fn backend_sessions(h: &Harness) -> Vec<String> {
    let endpoint = h.endpoint(module("sessions"));
    let feed = endpoint.world();
    feed.state()
        .iter()
        .filter_map(|f| serde_json::from_str::<Value>(f.data().get()).ok())
        .filter_map(|v| v["session"]["session_id"].as_str().map(str::to_owned))
        .collect()
}

/// Waits, at most 5 s, until the backend's state no longer holds `session`.
pub async fn wait_backend_ended(h: &Harness, session: &str) -> Result<()> {
    let started = std::time::Instant::now();
    while backend_sessions(h).iter().any(|s| s == session) {
        if started.elapsed() > Duration::from_secs(5) {
            bail!("the backend still has {session}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The session ids of the rows on screen (not leaving), sorted.
pub async fn screen_sessions(client: &Client) -> Result<Vec<String>> {
    let ids = eval(
        client,
        "return [...document.querySelectorAll('tr[data-session]:not(.leaving)')].map(r => r.dataset.session)",
    )
    .await?;
    let mut ids: Vec<String> = serde_json::from_value(ids)?;
    ids.sort();
    Ok(ids)
}

/// Waits until the screen's rows are exactly the backend's sessions.
pub async fn wait_screen_is_backend(h: &Harness, client: &Client, who: &str) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mut backend = backend_sessions(h);
        backend.sort();
        let screen = screen_sessions(client).await?;
        if screen == backend {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(5) {
            bail!("{who}'s table {screen:?} is not the backend's sessions {backend:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The JavaScript expression for `session`'s row.
pub fn row(session: &str) -> String {
    format!("document.querySelector('tr[data-session=\"{session}\"]')")
}

/// Opens the dialog for `session` with a click, picks a reason, and confirms.
pub async fn disconnect(client: &Client, session: &str) -> Result<()> {
    let row = row(session);
    eval(
        client,
        &format!("{row}.querySelector('[data-testid=disconnect]').click(); return true"),
    )
    .await?;
    wait(
        client,
        "the dialog",
        Duration::from_secs(2),
        "return document.querySelector('dialog[open]') !== null",
    )
    .await?;
    eval(
        client,
        "document.querySelector('dialog[open] input[type=radio]').click(); return true",
    )
    .await?;
    wait(
        client,
        "the confirm button to be enabled",
        Duration::from_secs(2),
        "return !document.querySelector('[data-testid=dialog-confirm]').disabled",
    )
    .await?;
    eval(
        client,
        "document.querySelector('[data-testid=dialog-confirm]').click(); return true",
    )
    .await?;
    Ok(())
}
