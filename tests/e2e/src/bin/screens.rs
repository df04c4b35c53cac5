//! `cargo run -p switchboard-e2e --bin screens`: screenshots of every page of the release
//! build, live and during an outage, in light and dark mode, into `target/screens/`. For
//! looking at what the operator sees.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;
use switchboard_devserver::endpoint::Fault;
use switchboard_e2e::{Harness, module};

const PAGES: [&str; 5] = ["/", "/network", "/sessions", "/billing", "/support"];

async fn shoot(h: &Harness, dir: &std::path::Path, tag: &str) -> Result<()> {
    for scheme in ["light", "dark"] {
        h.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await?;
        for page in PAGES {
            h.client
                .find(fantoccini::Locator::Css(&format!("nav a[href='{page}']")))
                .await?
                .click()
                .await?;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let name = match page.trim_start_matches('/') {
                "" => "overview",
                p => p,
            };
            let png = h.client.screenshot().await?;
            std::fs::write(dir.join(format!("{tag}-{name}-{scheme}.png")), png)?;
        }
    }
    Ok(())
}

/// The page as it is, in light and dark.
async fn shoot_here(h: &Harness, dir: &std::path::Path, name: &str) -> Result<()> {
    for scheme in ["light", "dark"] {
        h.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = h.client.screenshot().await?;
        std::fs::write(dir.join(format!("{name}-{scheme}.png")), png)?;
    }
    Ok(())
}

/// The disconnect dialog, open with a reason picked, and a row whose action was refused.
async fn dialog(h: &Harness, dir: &std::path::Path) -> Result<()> {
    h.go("/sessions").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.endpoint(module("sessions"))
        .action_fault(switchboard_devserver::endpoint::ActionFault::Refuse);
    // Refused first, so the table behind the dialog shows a refusal in words.
    for (i, confirm) in [(0, true), (1, false)] {
        h.eval(&format!(
            "document.querySelectorAll('[data-testid=disconnect]')[{i}].click(); return true"
        ))
        .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        h.eval("document.querySelector('dialog[open] input[type=radio]').click(); return true")
            .await?;
        if confirm {
            h.eval("document.querySelector('[data-testid=dialog-confirm]').click(); return true")
                .await?;
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
    }
    shoot_here(h, dir, "live-sessions-dialog").await?;
    h.eval("document.querySelector('[data-testid=dialog-cancel]').click(); return true")
        .await?;
    // An alert, acknowledged: the network world runs ahead until it raises one.
    let network = h.endpoint(module("network"));
    let mut at = switchboard_core::Instant::from_millis(Harness::now_ms());
    for _ in 0..2_000 {
        let alerts = network
            .world()
            .state()
            .iter()
            .any(|f| f.channel() == "network_status" && f.data().get().contains("\"alrt-"));
        if alerts {
            break;
        }
        at = at.plus(Duration::from_secs(2));
        network.tick(at);
    }
    // A search, and a subscriber's page.
    h.eval("document.querySelector('[data-testid=session-search]').focus(); return true")
        .await?;
    let first = h
        .eval("return document.querySelector('tr[data-session] td').textContent.slice(0, 6)")
        .await?;
    h.client
        .active_element()
        .await?
        .send_keys(&format!("{}\u{E007}", first.as_str().unwrap_or("anna")))
        .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    shoot_here(h, dir, "live-sessions-search").await?;
    h.eval("document.querySelector('[data-testid=subscriber-link]').click(); return true")
        .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shoot_here(h, dir, "live-subscriber").await?;
    h.go("/network").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.eval("const b = document.querySelector('[data-testid=acknowledge]'); if (b) b.click(); return true")
        .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    shoot_here(h, dir, "live-network-acknowledged").await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screens");
    std::fs::create_dir_all(&dir)?;
    let h = Harness::start_unrecorded().await?;
    // An operator who may act, as a NOC's would: the sessions table has its actions.
    let token = switchboard_devserver::auth::mint_operator(
        switchboard_e2e::SECRET,
        "screens",
        Duration::from_secs(3600),
    )?;
    h.open_with_token("/", &token).await?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    shoot(&h, &dir, "live").await?;
    dialog(&h, &dir).await?;
    // A second tab follows the first (one connection per module), and says so.
    let tab = h.client.new_window(true).await?.handle;
    h.client.switch_to_window(tab).await?;
    h.open_with_token("/sessions", &token).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    shoot_here(&h, &dir, "follower-sessions").await?;
    h.client.close_window().await?;
    let first = h.client.windows().await?.remove(0);
    h.client.switch_to_window(first).await?;
    // Sessions and billing go away: billing has live data (shown as of its last frame),
    // sessions is refused from the start of a reload (simulated, labelled).
    let until = Harness::now_ms() + 120_000;
    for m in [module("billing"), module("sessions")] {
        h.endpoint(m)
            .refuse_until
            .store(until, std::sync::atomic::Ordering::Relaxed);
        h.fault(m, Fault::Drop);
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    shoot(&h, &dir, "outage").await?;
    println!("screenshots in {}", dir.display());
    h.finish().await
}
