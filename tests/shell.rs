//! The shell in headless Chromium: navigation, routes, config problems, and every module's
//! views fed live by the development backend that `cargo xtask test` starts.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::rc::Rc;
use std::time::Duration;

use switchboard::config::parse;
use switchboard::registry::ids;
use switchboard::{Loaded, Runtimes, Shell};
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew_router::history::{AnyHistory, History, MemoryHistory};
use yew_router::prelude::*;

#[path = "../modules/kit/tests/support/mod.rs"]
mod support;
use support::{TOKEN, backend, container, exists, text};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct AtProps {
    history: AnyHistory,
    loaded: Rc<Loaded>,
    runtimes: Rc<Runtimes>,
}

#[component]
fn At(props: &AtProps) -> Html {
    html! { <Router history={props.history.clone()}><Shell loaded={props.loaded.clone()} runtimes={props.runtimes.clone()} /></Router> }
}

/// Mounts the shell at `path` with `config_json`, in a fresh `<div>`.
async fn mount(path: &str, config_json: &str) -> web_sys::Element {
    let (config, errors) = parse(config_json, &ids());
    let root = container();
    let history = AnyHistory::from(MemoryHistory::new());
    history.push(path);
    let loaded = Rc::new(Loaded { config, errors });
    let runtimes = switchboard::runtime::start(&loaded);
    let props = AtProps {
        history,
        loaded,
        runtimes,
    };
    yew::Renderer::<At>::with_root_and_props(root.clone(), props).render();
    yew::scheduler::flush().await;
    root
}

/// A config that points every module at the test backend.
fn live_config() -> String {
    let backend = backend();
    let modules: Vec<String> = ids()
        .iter()
        .map(|id| format!(r#""{id}":{{"url":"ws://{backend}/ws/{id}"}}"#))
        .collect();
    format!(
        r#"{{"token_key":"test.token","modules":{{{}}}}}"#,
        modules.join(",")
    )
}

/// Waits up to 10 s for `cond`.
async fn wait_for(what: &str, cond: impl FnMut() -> bool) {
    support::wait_for(what, Duration::from_secs(10), cond).await;
}

fn set_token() {
    let storage = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    storage.set_item("test.token", TOKEN.unwrap()).unwrap();
}

#[wasm_bindgen_test]
async fn navigation_lists_every_module_with_a_status_word() {
    let root = mount("/", "{}").await;
    assert_eq!(text(&root, "header h1"), "Switchboard");
    let nav = text(&root, "nav[aria-label=Modules]");
    assert!(nav.contains("Overview"), "{nav}");
    // `cargo xtask test` runs these with the fifth, test-only module in the registry.
    assert_eq!(
        nav.contains("Lab"),
        cfg!(feature = "fixture"),
        "the fixture module is listed exactly when it is built in: {nav}"
    );
    for m in switchboard_registry::MODULES {
        assert!(nav.contains(m.title()), "{}: {nav}", m.id());
    }
    let statuses = root
        .query_selector_all("nav [data-status]")
        .unwrap()
        .length();
    assert_eq!(
        statuses as usize,
        ids().len(),
        "every module shows its status"
    );
    assert!(!exists(&root, "[data-testid=not-found]"));
}

#[wasm_bindgen_test]
async fn unknown_addresses_show_404_and_disabled_modules_are_hidden() {
    let root = mount("/no-such-module", "{}").await;
    assert!(text(&root, "[data-testid=not-found]").contains("Page not found"));
    let root = mount("/billing", r#"{"modules":{"billing":{"enabled":false}}}"#).await;
    assert!(
        exists(&root, "[data-testid=not-found]"),
        "a disabled module has no page"
    );
    assert!(!text(&root, "nav").contains("Billing"));
}

#[wasm_bindgen_test]
async fn a_malformed_config_shows_its_error_and_the_app_still_runs() {
    let root = mount(
        "/",
        r#"{"simulation":"often","modules":{"network":{"url":7}}}"#,
    )
    .await;
    let errors = text(&root, "[data-testid=config-errors]");
    assert!(
        errors.contains("config.json: `simulation` must be true or false"),
        "{errors}"
    );
    assert!(errors.contains("`modules.network.url`"), "{errors}");
    assert_eq!(
        root.query_selector_all("article[data-module]")
            .unwrap()
            .length() as usize,
        ids().len()
    );
}

#[wasm_bindgen_test]
async fn offline_modules_show_labelled_simulated_data() {
    // Nothing listens on port 9: every module is offline and simulates.
    let config = r#"{"modules":{"network":{"url":"ws://127.0.0.1:9/ws"}}}"#;
    let root = mount("/network", config).await;
    wait_for("simulated bandwidth", || {
        exists(
            &root,
            "[data-testid=bandwidth] [data-testid=simulated-panel]",
        ) && text(&root, "[data-testid=chart-latest]").contains("Mbps")
    })
    .await;
    assert!(text(&root, "[data-testid=offline]").starts_with("Live feed offline since "));
    assert!(
        text(&root, "[data-testid=offline]").contains("simulated data, labelled"),
        "the banner says what the panels do"
    );
}

#[wasm_bindgen_test]
async fn with_simulation_off_and_no_backend_the_figures_are_unknown_not_zero() {
    // Nothing listens on port 9, and nothing may be simulated.
    let dead: Vec<String> = ids()
        .iter()
        .map(|id| format!(r#""{id}":{{"url":"ws://127.0.0.1:9/ws/{id}"}}"#))
        .collect();
    let config = format!(r#"{{"simulation":false,"modules":{{{}}}}}"#, dead.join(","));
    let root = mount("/", &config).await;
    wait_for("every card says it has no data", || {
        ids().iter().all(|id| {
            exists(
                &root,
                &format!("article[data-module={id}] [data-testid=no-data]"),
            )
        })
    })
    .await;
    assert!(!exists(&root, "[data-provenance=simulated]"));
    for (module, figure) in [
        ("sessions", "[data-testid=active-count]"),
        ("support", "[data-testid=open-count]"),
        ("billing", "[data-testid=paid]"),
    ] {
        assert_eq!(
            text(&root, &format!("article[data-module={module}] {figure}")),
            "—",
            "{module}: unknown, not zero"
        );
    }
    let root = mount("/support", &config).await;
    wait_for("the SLA says it is unknown", || {
        text(&root, "[data-testid=sla]").starts_with("SLA unknown")
    })
    .await;
    assert!(!text(&root, "[data-testid=sla]").contains("0 ticket"));
}

#[wasm_bindgen_test]
async fn live_modules_show_live_data_without_the_simulated_label() {
    set_token();
    let root = mount("/", &live_config()).await;
    wait_for("every card connected", || {
        root.query_selector_all("article [data-status=connected]")
            .unwrap()
            .length() as usize
            == ids().len()
    })
    .await;
    wait_for("no simulated figures", || {
        !exists(&root, "[data-provenance=simulated]")
    })
    .await;
    wait_for("live bandwidth figures", || {
        text(
            &root,
            "article[data-module=network] [data-testid=chart-latest]",
        )
        .contains("Mbps")
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_bandwidth_chart_text_alternative_shows_the_latest_live_figures() {
    set_token();
    let root = mount("/network", &live_config()).await;
    let label = || {
        root.query_selector("canvas[role=img]")
            .unwrap()
            .and_then(|c| c.get_attribute("aria-label"))
            .unwrap_or_default()
    };
    // A healthy load shows "no data" until the first live bandwidth frame, never simulated
    // figures.
    wait_for("a live figure", || {
        exists(&root, "section [data-testid=status][data-status=connected]")
            && label().contains(" Mbps, Upload ")
    })
    .await;
    assert!(!exists(&root, "[data-provenance=simulated]"));
    let canvas = root.query_selector("canvas[role=img]").unwrap().unwrap();
    let label = label();
    assert!(label.starts_with("Bandwidth: Download "), "{label}");
    assert!(label.contains(" Mbps, Upload "), "{label}");
    assert!(!label.contains("simulated"), "{label}");
    // webdriver.json runs the browser tests at a device pixel ratio of 2, so a backing store
    // of the CSS size (blurry on HiDPI screens) fails here.
    let dpr = web_sys::window().unwrap().device_pixel_ratio();
    assert_eq!(dpr, 2.0, "the browser tests run on a HiDPI screen");
    let css_width = canvas.get_bounding_client_rect().width();
    let canvas: web_sys::HtmlCanvasElement = wasm_bindgen::JsCast::dyn_into(canvas).unwrap();
    assert!(
        (f64::from(canvas.width()) - (css_width * dpr).round()).abs() <= 1.0,
        "backing store = css × dpr"
    );
}

/// Has the devserver send `frame` on `module`'s open connections.
async fn script(module: &str, frame: String) {
    let url = format!("http://{}/_control/{module}/script", backend());
    let resp = gloo_net::http::Request::post(&url)
        .header("Content-Type", "application/json") // the devserver asks for JSON (CORS)
        .body(format!("[{frame}]"))
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[wasm_bindgen_test]
async fn billing_and_support_show_live_invoices_and_tickets() {
    set_token();
    let root = mount("/billing", &live_config()).await;
    wait_for("live billing", || {
        exists(&root, "section [data-testid=status][data-status=connected]")
    })
    .await;
    script("billing", r#"{"type":"invoice_update","data":{"invoice_id":"INV-E2E","subscriber_id":"sub_9","subscriber_name":"Probe Person","amount":{"minor":123456,"currency":"EUR"},"status":"overdue","updated_at":"2025-10-16T12:00:00Z"}}"#.into()).await;
    wait_for("the invoice in the feed", || {
        text(&root, "[data-testid=billing]").contains("INV-E2E")
    })
    .await;
    assert!(
        text(&root, "[data-testid=billing]").contains("1,234.56 EUR"),
        "integer money, formatted"
    );

    let root = mount("/support", &live_config()).await;
    wait_for("live support", || {
        exists(&root, "section [data-testid=status][data-status=connected]")
    })
    .await;
    script("support", r#"{"type":"ticket_update","data":{"ticket_id":"TCK-E2E","subject":"Probe outage","priority":"urgent","status":"open","assignee":null,"created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"}}"#.into()).await;
    wait_for("the ticket in the queue", || {
        exists(&root, "tr[data-ticket=TCK-E2E]")
    })
    .await;
    assert!(
        text(&root, "tr[data-ticket=TCK-E2E]").contains("SLA"),
        "an old ticket is marked late"
    );
    assert!(
        !text(&root, "[data-testid=sla]").starts_with("0 "),
        "the SLA indicator counts it"
    );
}

#[wasm_bindgen_test]
async fn a_session_appears_changes_and_disappears() {
    set_token();
    let root = mount("/sessions", &live_config()).await;
    wait_for("live sessions", || {
        exists(&root, "section [data-testid=status][data-status=connected]")
    })
    .await;
    let session = |action: &str, down: u64, secs: u64| {
        format!(
            r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"sess_e2e","username":"probe@example.net","ip_address":"100.64.9.9","nas_ip_address":"10.1.1.9","upload_bytes":1000,"download_bytes":{down},"session_time_seconds":{secs},"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
        )
    };
    let post = |frame: String| script("sessions", frame);
    let row = "tr[data-session=sess_e2e]:not(.leaving)";
    post(session("new", 0, 0)).await;
    wait_for("the new row", || exists(&root, row)).await;
    assert!(text(&root, row).contains("probe@example.net"));
    post(session("update", 5_000_000, 10)).await;
    wait_for("the updated bytes", || text(&root, row).contains("5.0 MB")).await;
    post(session("terminate", 5_000_000, 12)).await;
    wait_for("the row to go", || !exists(&root, row)).await;
}

#[wasm_bindgen_test]
async fn a_long_session_table_renders_only_the_rows_in_view() {
    set_token();
    let root = mount("/sessions", &live_config()).await;
    wait_for("live sessions", || {
        exists(&root, "section [data-testid=status][data-status=connected]")
    })
    .await;
    let frames: Vec<String> = (0..80)
        .map(|i| {
            format!(
                r#"{{"type":"session_update","data":{{"action":"new","session":{{"session_id":"sess_v{i:02}","username":"v{i:02}@example.net","ip_address":"100.64.8.{i}","nas_ip_address":"10.1.1.8","upload_bytes":1,"download_bytes":1,"session_time_seconds":{i},"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
            )
        })
        .collect();
    script("sessions", frames.join(",")).await;
    let rows = |root: &web_sys::Element| {
        root.query_selector("[data-testid=sessions] table")
            .unwrap()
            .and_then(|t| t.get_attribute("aria-rowcount"))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
            .saturating_sub(1)
    };
    wait_for("80 more sessions", || rows(&root) >= 80).await;
    let rendered = root
        .query_selector_all("tr[data-session]")
        .unwrap()
        .length() as usize;
    assert!(
        (15..40).contains(&rendered),
        "{rendered} of {} rows rendered: the view and a few either side",
        rows(&root)
    );
    let first = root.query_selector("tr[data-session]").unwrap().unwrap();
    assert_eq!(
        first.get_bounding_client_rect().height(),
        33.0,
        "rows are the height the window is computed with"
    );
    assert_eq!(first.get_attribute("aria-rowindex").as_deref(), Some("2"));

    let scroll = root
        .query_selector("[data-testid=sessions-scroll]")
        .unwrap()
        .unwrap();
    scroll.set_scroll_top(1_000_000);
    scroll
        .dispatch_event(&Event::new("scroll").unwrap())
        .unwrap();
    let last_shown = |root: &web_sys::Element| {
        let all = root.query_selector_all("tr[data-session]").unwrap();
        all.item(all.length().saturating_sub(1))
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
            .and_then(|e| e.get_attribute("aria-rowindex"))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    wait_for("the last rows after scrolling to the end", || {
        last_shown(&root) == rows(&root) + 1
    })
    .await;
    assert!(
        !exists(&root, "tr[data-session][aria-rowindex='2']"),
        "the first rows are no longer rendered"
    );
}
