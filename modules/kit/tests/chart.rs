//! The chart in headless Chromium: what an operator reads off it.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;
use switchboard_core::{Instant, Provenance};
use switchboard_kit::chart::{History, Sample, SeriesSpec, TimeSeriesChart};
use switchboard_kit::handle::now;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERIES: &[SeriesSpec] = &[SeriesSpec {
    label: "Download",
    color: 1,
}];

#[derive(Properties, PartialEq)]
struct HostProps {
    history: History,
}

#[component]
fn Host(props: &HostProps) -> Html {
    html! {
        <div style="width:600px">
            <TimeSeriesChart title="Bandwidth" unit="Mbps" series={SERIES}
                             history={props.history.clone()} version={1} window_secs={100.0} />
        </div>
    }
}

/// The labels matching `selector`: their texts and their centres (x, y) on the page.
fn labels(root: &web_sys::Element, selector: &str) -> Vec<(String, (f64, f64))> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.get(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .map(|e| {
            let rect = e.get_bounding_client_rect();
            let centre = (
                rect.left() + rect.width() / 2.0,
                rect.top() + rect.height() / 2.0,
            );
            (e.text_content().unwrap_or_default(), centre)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn the_axes_are_labelled_in_text_at_round_values() {
    let history = History::new(100, None);
    let at = now();
    for (i, value) in [40.0, 87.0, 61.0].into_iter().enumerate() {
        let taken = Instant::from_millis(at.as_millis() - (4 - 2 * i as u64) * 1000);
        history.record_taken(taken, at, Sample::new(&[value], Provenance::Live));
    }
    let root = container();
    yew::Renderer::<Host>::with_root_and_props(root.clone(), HostProps { history }).render();
    wait_for("the axis labels", Duration::from_secs(5), || {
        exists(&root, ".axis .y")
    })
    .await;

    // Values: round numbers from 0 up past the largest sample, 0 at the bottom.
    let y = labels(&root, ".axis .y");
    let values: Vec<f64> = y.iter().map(|(t, _)| t.parse().unwrap()).collect();
    assert_eq!(values[0], 0.0, "{y:?}");
    assert!(*values.last().unwrap() >= 87.0, "{y:?}");
    let step = values[1] - values[0];
    assert!(values.windows(2).all(|w| w[1] - w[0] == step), "{y:?}");
    assert!(
        y.windows(2).all(|w| w[1].1.1 < w[0].1.1),
        "higher values higher up: {y:?}"
    );
    // Time: the window's start to "now", left to right.
    let mut x = labels(&root, ".axis .x");
    x.sort_by(|a, b| a.1.0.total_cmp(&b.1.0));
    let x: Vec<String> = x.into_iter().map(|(t, _)| t).collect();
    assert_eq!(x.first().map(String::as_str), Some("-100s"), "{x:?}");
    assert_eq!(x.last().map(String::as_str), Some("now"), "{x:?}");
    // The drawing saw the same samples.
    assert_eq!(
        root.query_selector("canvas")
            .unwrap()
            .unwrap()
            .get_attribute("data-samples"),
        Some("3".to_owned())
    );
}
