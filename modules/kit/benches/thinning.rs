//! The browser-free part of a chart redraw: thinning a history to the canvas's pixel columns,
//! per series, as `TimeSeriesChart` does before plotters draws. Printed as time per redraw.
//!
//! Run with `cargo bench -p switchboard-kit`. The drawing itself needs a canvas; the browser
//! benchmark (`cargo xtask bench`) measures it in the page.

use std::hint::black_box;
use std::time::{Duration, Instant as Clock};

use switchboard_core::history::Ring;
use switchboard_core::{Instant, Provenance};
use switchboard_kit::chart::model::{self, Sample};

/// A full history of `points` samples, `step_ms` apart, with two series.
fn history(points: usize, step_ms: u64) -> Ring<Sample> {
    let mut ring = Ring::new(points, None);
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..points {
        let at = Instant::from_millis(1_000_000 + i as u64 * step_ms);
        let sample = Sample::new(&[rng.f64() * 900.0, rng.f64() * 300.0], Provenance::Live);
        model::record(&mut ring, at, sample);
    }
    ring
}

/// Microseconds per redraw's thinning (two series and the y range), median and spread.
fn measure(name: &str, ring: &Ring<Sample>, window_secs: f64, columns: usize) {
    const RUNS: usize = 7;
    let mut per_call: Vec<f64> = (0..RUNS)
        .map(|_| {
            let (start, mut calls) = (Clock::now(), 0u32);
            while start.elapsed() < Duration::from_millis(200) {
                for series in 0..2 {
                    black_box(model::runs(
                        black_box(ring),
                        series,
                        model::Span {
                            window_secs,
                            end: Instant::default(),
                            hold: false,
                        },
                        columns,
                        f64::INFINITY,
                        &[],
                    ));
                }
                black_box(model::y_max(ring, 2, &[]));
                calls += 1;
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    println!(
        "{name:<44} {:>10.1} µs per redraw   (min {:.1}, max {:.1}, {RUNS} runs)",
        per_call[RUNS / 2],
        per_call[0],
        per_call[RUNS - 1]
    );
}

fn main() {
    // The configured windows: the network charts keep 50 points 2 s apart over 100 s; the
    // sessions chart keeps up to 600. The dense case is 20,000 points 5 ms apart: a series
    // far denser than the 1,600 device pixels of a wide chart on a HiDPI screen.
    measure(
        "thinning, 50 points on 1600 px",
        &history(50, 2_000),
        100.0,
        1_600,
    );
    measure(
        "thinning, 600 points on 1600 px",
        &history(600, 1_000),
        600.0,
        1_600,
    );
    measure(
        "thinning, 20000 points on 1600 px",
        &history(20_000, 5),
        100.0,
        1_600,
    );
}
