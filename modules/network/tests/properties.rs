//! Any well-formed `bandwidth_update`, with values at the ends of `f64` and arrival times far
//! apart, through the chart history and what the charts compute from it: no panic, finite
//! pixels, and the bounds hold.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proptest::prelude::*;
use switchboard_core::{Instant, Provenance};
use switchboard_kit::chart::model::{Axis, Plot, Span, figures, runs, y_max};
use switchboard_kit::chart::{History, Sample};
use switchboard_kit::format;
use switchboard_network::data::BandwidthData;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(0.0),
        Just(-0.0),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |v| v.is_finite()),
        0.0..10_000.0,
    ]
}

fn bandwidth() -> impl Strategy<Value = BandwidthData> {
    (value(), value(), value()).prop_map(|(up, down, latency)| BandwidthData {
        timestamp: "2025-10-16T12:00:00Z".into(),
        upload_mbps: up,
        download_mbps: down,
        latency_ms: latency,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_charts_take_anything(
        frames in prop::collection::vec((bandwidth(), any::<u64>(), any::<bool>()), 1..200),
        columns in 0usize..3000,
        end in any::<u64>(),
        hold in any::<bool>(),
    ) {
        let rates = History::new(120, Some(Duration::from_secs(600)));
        for (b, at, live) in frames {
            let p = if live { Provenance::Live } else { Provenance::Simulated };
            rates.record(Instant::from_millis(at), Sample::new(&[b.download_mbps, b.upload_mbps], p));
        }
        let ring = rates.ring();
        prop_assert!(ring.len() <= 120);
        for series in 0..2 {
            let top = y_max(&ring, 2, &[100.0]);
            prop_assert!(top > 0.0);
            let axis = Axis::new(top, 4);
            prop_assert!(axis.ticks().count() <= 8, "{axis:?}");
            let plot = Plot { left: 0, top: 0, right: 800, bottom: 200, window_secs: 300.0, y_top: axis.top };
            let span = Span { window_secs: 300.0, end: Instant::from_millis(end), hold };
            for run in runs(&ring, series, span, columns, 6.0, &[]) {
                for point in &run.points {
                    prop_assert!((-300.0..=0.0).contains(&point.0), "x {} outside the window", point.0);
                    let (x, y) = plot.point(*point);
                    prop_assert!((0..=200).contains(&y), "{y}");
                    let _ = x;
                }
            }
            if let Some(f) = figures(&ring, series) {
                let _ = (format!("{:.1}", f.current), format!("{:.1}", f.average), format!("{:.1}", f.peak));
            }
        }
        let _ = format::rate(f64::MAX);
    }
}
