//! The shell in headless Chromium: what an operator sees on the first screen and on a bad URL.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use switchboard::Shell;
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew_router::history::{AnyHistory, History, MemoryHistory};
use yew_router::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct AtProps {
    history: AnyHistory,
}

#[component]
fn At(props: &AtProps) -> Html {
    html! { <Router history={props.history.clone()}><Shell /></Router> }
}

/// Mounts the shell at `path` in a fresh `<div>` and returns that element.
async fn mount(path: &str) -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let history = AnyHistory::from(MemoryHistory::new());
    history.push(path);
    yew::Renderer::<At>::with_root_and_props(root.clone(), AtProps { history }).render();
    yew::scheduler::flush().await;
    root
}

#[wasm_bindgen_test]
async fn the_header_names_the_product_and_links_the_overview() {
    let root = mount("/").await;
    let title = root.query_selector("header h1").unwrap().unwrap();
    assert_eq!(title.text_content().unwrap(), "Switchboard");
    let nav = root
        .query_selector("nav[aria-label=Modules]")
        .unwrap()
        .unwrap();
    assert!(nav.text_content().unwrap().contains("Overview"));
    assert!(
        root.query_selector("[data-testid=not-found]")
            .unwrap()
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn an_unknown_address_shows_the_404_page() {
    let root = mount("/no-such-module").await;
    let page = root
        .query_selector("[data-testid=not-found]")
        .unwrap()
        .unwrap();
    assert!(page.text_content().unwrap().contains("Page not found"));
}
