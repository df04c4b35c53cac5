//! Shared helpers for the browser tests (the kit's, and the shell's in `tests/shell.rs`,
//! which includes this file): mounting, waiting for conditions, a scripted simulator, and the
//! development backend that `cargo xtask test` starts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use switchboard_core::simulator::Simulator;
use switchboard_core::{Frame, Instant, Provenance};
use yew::prelude::*;

/// The devserver's address, set at build time by `cargo xtask test`.
pub const BACKEND: Option<&str> = option_env!("SWITCHBOARD_TEST_BACKEND");
/// A valid token for that devserver.
pub const TOKEN: Option<&str> = option_env!("SWITCHBOARD_TEST_TOKEN");

pub fn backend() -> &'static str {
    BACKEND.expect("run the browser tests through `cargo xtask test`, which starts the devserver")
}

/// A fresh `<div>` in the body.
pub fn container() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

/// Waits until `cond` holds, checking every 20 ms, for at most `within`.
pub async fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let started = js_sys::Date::now();
    loop {
        yew::scheduler::flush().await;
        if cond() {
            return;
        }
        assert!(
            js_sys::Date::now() - started < within.as_millis() as f64,
            "timed out waiting for {what}"
        );
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
}

/// The text of the first element matching `selector`, or `""`.
pub fn text(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

/// Whether an element matches `selector`.
pub fn exists(root: &web_sys::Element, selector: &str) -> bool {
    root.query_selector(selector).unwrap().is_some()
}

/// A simulator that emits `per_tick` frames of `channel` every `every`, numbered from 0.
pub struct Counting {
    pub channel: &'static str,
    pub per_tick: usize,
    pub every: Duration,
    pub next: Rc<RefCell<u64>>,
}

impl Simulator for Counting {
    fn interval(&self) -> Duration {
        self.every
    }

    fn tick(&mut self, now: Instant, _rng: &mut fastrand::Rng) -> Vec<Frame> {
        let mut n = self.next.borrow_mut();
        (0..self.per_tick)
            .map(|_| {
                *n += 1;
                Frame::new(
                    self.channel,
                    &serde_json::json!({ "n": *n }),
                    Some(now),
                    Provenance::Simulated,
                )
                .unwrap()
            })
            .collect()
    }
}

/// POSTs a fault to the devserver's control endpoint.
pub async fn fault(path: &str) {
    let url = format!("http://{}/_control/{path}", backend());
    // JSON, as the devserver requires of control posts: the browser asks first (CORS).
    let resp = gloo_net::http::Request::post(&url)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
}

/// The devserver's counters for one module.
pub async fn report(module: &str) -> serde_json::Value {
    let url = format!("http://{}/_control/report", backend());
    let resp = gloo_net::http::Request::get(&url).send().await.unwrap();
    let all: serde_json::Value = resp.json().await.unwrap();
    all[module].clone()
}

/// The world of one module on the devserver: epoch, positions and its state frames.
pub async fn world(module: &str) -> serde_json::Value {
    let url = format!("http://{}/_control/{module}/state", backend());
    let resp = gloo_net::http::Request::get(&url).send().await.unwrap();
    resp.json().await.unwrap()
}

/// Polls the devserver report until `cond` holds.
pub async fn wait_for_report(module: &str, what: &str, cond: impl Fn(&serde_json::Value) -> bool) {
    let started = js_sys::Date::now();
    loop {
        let r = report(module).await;
        if cond(&r) {
            return;
        }
        assert!(
            js_sys::Date::now() - started < 10_000.0,
            "timed out waiting for {what}: {r}"
        );
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
}

#[derive(Properties, PartialEq)]
pub struct ShowProps {
    pub children: Html,
}
