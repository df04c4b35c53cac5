//! What a chart shows, computed without a browser: the points per series in chart
//! coordinates, thinned to the canvas width, and split into live and simulated runs.

use switchboard_core::history::Ring;
use switchboard_core::{Instant, Provenance};

/// Most series one chart draws.
pub const MAX_SERIES: usize = 4;

/// One sample: a value per series, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Values in series order; unused slots are ignored.
    pub values: [f64; MAX_SERIES],
    /// Live or simulated.
    pub provenance: Provenance,
}

impl Sample {
    /// A sample from up to [`MAX_SERIES`] values.
    pub fn new(values: &[f64], provenance: Provenance) -> Self {
        let mut v = [0.0; MAX_SERIES];
        for (slot, value) in v.iter_mut().zip(values) {
            *slot = *value;
        }
        Self {
            values: v,
            provenance,
        }
    }

    /// The value of series `series`, or `None` for a series beyond [`MAX_SERIES`], which a
    /// sample cannot hold.
    pub fn value(&self, series: usize) -> Option<f64> {
        self.values.get(series).copied()
    }
}

/// Appends a sample; one at the same instant as the newest replaces it. When live data
/// follows simulated data, the simulated history is dropped, so the two are never drawn as
/// one line.
pub fn record(ring: &mut Ring<Sample>, at: Instant, sample: Sample) {
    let was_simulated = ring
        .last()
        .is_some_and(|(_, s)| s.provenance == Provenance::Simulated);
    if was_simulated && sample.provenance == Provenance::Live {
        ring.retain(|s| s.provenance == Provenance::Live);
    }
    ring.push_or_replace(at, sample);
}

/// How many samples lie within `window_secs` before `end` (the chart's right edge: the clock,
/// or the newest sample if that is later): what a chart of that window shows.
pub fn in_window(ring: &Ring<Sample>, window_secs: f64, end: Instant) -> usize {
    let Some((newest, _)) = ring.last() else {
        return 0;
    };
    let end = end.max(*newest);
    ring.iter()
        .filter(|(at, _)| end.saturating_since(*at).as_secs_f64() <= window_secs)
        .count()
}

/// A run of consecutive points with the same provenance: `(seconds before the end, value)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Live or simulated: simulated runs are drawn dashed.
    pub provenance: Provenance,
    /// Points, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// One pixel column's extremes while thinning.
#[derive(Clone, Copy)]
struct Column {
    index: i64,
    provenance: Provenance,
    /// Starts a new run: the data has a gap before it.
    after_gap: bool,
    lo: (f64, f64),
    hi: (f64, f64),
}

fn flush(runs: &mut Vec<Run>, col: Column) {
    if col.after_gap || runs.last().is_none_or(|r| r.provenance != col.provenance) {
        runs.push(Run {
            provenance: col.provenance,
            points: Vec::new(),
        });
    }
    if let Some(run) = runs.last_mut() {
        let (a, b) = if col.lo.0 <= col.hi.0 {
            (col.lo, col.hi)
        } else {
            (col.hi, col.lo)
        };
        run.points.push(a);
        if b != a {
            run.points.push(b);
        }
    }
}

/// How a chart places its samples in time (see [`runs`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Seconds across the chart.
    pub window_secs: f64,
    /// The right edge: the clock (or the newest sample, if that is later). A chart of
    /// samples that stopped shows them moving left, not pinned to "now".
    pub end: Instant,
    /// The series is a level that stands until it changes (a count): its last value is drawn
    /// on to the right edge, unless an outage is open, when nothing is known since.
    pub hold: bool,
}

/// The runs of `series`, x in seconds relative to the span's end (so x ≤ 0), thinned to at
/// most two points per pixel column (the column's min and max, so spikes survive). Samples
/// more than `max_gap_secs` apart, or on either side of the start of one of `outages`, start
/// a new run, so an outage is drawn as a gap, not as a line across it.
pub fn runs(
    ring: &Ring<Sample>,
    series: usize,
    span: Span,
    columns: usize,
    max_gap_secs: f64,
    outages: &[(Instant, Option<Instant>)],
) -> Vec<Run> {
    let Some((newest, last)) = ring.last() else {
        return Vec::new();
    };
    let window_secs = span.window_secs;
    let newest = span.end.max(*newest);
    let held = span
        .hold
        .then(|| last.value(series))
        .flatten()
        .filter(|_| !outages.iter().any(|(_, end)| end.is_none()));
    let column_secs = window_secs / columns.max(1) as f64;
    let mut runs = Vec::new();
    let mut column: Option<Column> = None;
    let mut previous: Option<f64> = None;
    let mut previous_at: Option<Instant> = None;
    // A level set before the window still stands at its left edge.
    let mut before: Option<(Instant, f64, Provenance)> = None;
    for (at, sample) in ring.iter() {
        let x = -(newest.saturating_since(*at).as_secs_f64());
        if x < -window_secs {
            if span.hold
                && let Some(y) = sample.value(series)
            {
                before = Some((*at, y, sample.provenance));
            }
            continue;
        }
        let Some(y) = sample.value(series) else {
            continue;
        };
        if let Some((at_before, y_before, provenance)) = before.take()
            && provenance == sample.provenance
            && !outages
                .iter()
                .any(|(start, _)| at_before < *start && *at >= *start)
        {
            column = Some(Column {
                index: (-window_secs / column_secs).floor() as i64,
                provenance,
                after_gap: false,
                lo: (-window_secs, y_before),
                hi: (-window_secs, y_before),
            });
            previous = Some(-window_secs);
            previous_at = Some(at_before);
        }
        let straddles = |before: Instant| {
            outages
                .iter()
                .any(|(start, _)| before < *start && *at >= *start)
        };
        let after_gap =
            previous.is_some_and(|p| x - p > max_gap_secs) || previous_at.is_some_and(straddles);
        previous = Some(x);
        previous_at = Some(*at);
        let index = (x / column_secs).floor() as i64;
        match &mut column {
            Some(c) if c.index == index && c.provenance == sample.provenance && !after_gap => {
                if y < c.lo.1 {
                    c.lo = (x, y);
                }
                if y > c.hi.1 {
                    c.hi = (x, y);
                }
            }
            _ => {
                if let Some(c) = column.take() {
                    flush(&mut runs, c);
                }
                column = Some(Column {
                    index,
                    provenance: sample.provenance,
                    after_gap,
                    lo: (x, y),
                    hi: (x, y),
                });
            }
        }
    }
    if let Some(c) = column {
        flush(&mut runs, c);
    }
    if let Some((_, y, provenance)) = before.filter(|_| runs.is_empty() && held.is_some()) {
        // Nothing changed within the window: the level stands across it.
        runs.push(Run {
            provenance,
            points: vec![(-window_secs, y)],
        });
    }
    if let (Some(y), Some(run)) = (held, runs.last_mut())
        && run.points.last().is_some_and(|(x, _)| *x < 0.0)
    {
        run.points.push((0.0, y));
    }
    runs
}

/// The y-axis top: the largest value with headroom, and never zero.
pub fn y_max(ring: &Ring<Sample>, series: usize, thresholds: &[f64]) -> f64 {
    let data = ring
        .iter()
        .flat_map(|(_, s)| s.values[..series.min(MAX_SERIES)].iter().copied());
    let top = data
        .chain(thresholds.iter().copied())
        .fold(0.0_f64, f64::max);
    if top <= 0.0 { 1.0 } else { top * 1.15 }
}

/// The plot area in device pixels, and the mapping from chart values into it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    /// Left edge: x of the oldest time in the window.
    pub left: i32,
    /// Top edge: y of the axis top.
    pub top: i32,
    /// Right edge: x of "now".
    pub right: i32,
    /// Bottom edge: y of zero.
    pub bottom: i32,
    /// Seconds across the plot.
    pub window_secs: f64,
    /// The value at the top edge.
    pub y_top: f64,
}

impl Plot {
    /// The x of `secs` (≤ 0, seconds before now).
    pub fn x(&self, secs: f64) -> i32 {
        let t = (secs + self.window_secs) / self.window_secs;
        self.left + (t * f64::from(self.right - self.left)).round() as i32
    }

    /// The y of `value`, clamped to the plot.
    pub fn y(&self, value: f64) -> i32 {
        let t = (value / self.y_top).clamp(0.0, 1.0);
        self.bottom - (t * f64::from(self.bottom - self.top)).round() as i32
    }

    /// A point `(seconds before now, value)`.
    pub fn point(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.x(x), self.y(y))
    }
}

/// A value axis from zero: a round top and step, so grid lines fall on round numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    /// The top of the axis, a multiple of `step`.
    pub top: f64,
    /// The distance between grid lines: 1, 2 or 5 times a power of ten, whichever is
    /// nearest to `max / lines`.
    pub step: f64,
    /// Decimals the labels need to show `step` exactly.
    pub decimals: usize,
}

impl Axis {
    /// An axis from zero to at least `max` with about `lines` grid lines above zero.
    pub fn new(max: f64, lines: usize) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let raw = max / lines.max(1) as f64;
        // The power of ten at or below `raw`, as 10^exp, without libm.
        let exp = {
            let (mut magnitude, mut exp) = (1.0_f64, 0_i32);
            while magnitude * 10.0 <= raw {
                magnitude *= 10.0;
                exp += 1;
            }
            while magnitude > raw {
                magnitude /= 10.0;
                exp -= 1;
            }
            exp
        };
        // The round step nearest to `raw` by ratio: the cut-offs are the geometric means
        // of neighbouring steps (√2, √10, √50).
        let (m, exp) = match raw / 10.0_f64.powi(exp) {
            r if r < 1.414 => (1.0, exp),
            r if r < 3.162 => (2.0, exp),
            r if r < 7.071 => (5.0, exp),
            _ => (1.0, exp + 1),
        };
        let (mut m, mut exp) = (m, exp);
        // Nearest may overshoot the count; never more than half as many lines again.
        let most = (lines + lines / 2).max(1) as f64;
        while (max / (m * 10.0_f64.powi(exp)) - 1e-9).ceil() > most {
            (m, exp) = match m {
                1.0 => (2.0, exp),
                2.0 => (5.0, exp),
                _ => (1.0, exp + 1),
            };
        }
        let step = m * 10.0_f64.powi(exp);
        Self {
            top: (max / step - 1e-9).ceil() * step,
            step,
            decimals: usize::try_from(-exp).unwrap_or(0),
        }
    }

    /// As [`Axis::new`], for whole quantities such as counts: the step is at least 1.
    pub fn whole(max: f64, lines: usize) -> Self {
        let axis = Self::new(max, lines);
        if axis.step >= 1.0 {
            return axis;
        }
        Self {
            top: axis.top.ceil().max(1.0),
            step: 1.0,
            decimals: 0,
        }
    }

    /// The grid values from zero to the top.
    pub fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let count = (self.top / self.step).round() as usize;
        (0..=count).map(|i| i as f64 * self.step)
    }
}

/// Current, average and peak of one series, for the figures beside a chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// The newest value.
    pub current: f64,
    /// The mean over the history.
    pub average: f64,
    /// The largest value in the history.
    pub peak: f64,
}

/// [`Figures`] of `series`, or `None` without data.
pub fn figures(ring: &Ring<Sample>, series: usize) -> Option<Figures> {
    let current = ring.last()?.1.value(series)?;
    let (sum, peak) = ring
        .iter()
        .filter_map(|(_, s)| s.value(series))
        .fold((0.0, f64::MIN), |(sum, peak), v| (sum + v, peak.max(v)));
    Some(Figures {
        current,
        average: sum / ring.len() as f64,
        peak,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use switchboard_core::Instant;

    use super::*;

    fn ring_of(values: &[(u64, f64, Provenance)]) -> Ring<Sample> {
        let mut ring = Ring::new(1000, None);
        for (ms, v, p) in values {
            record(&mut ring, Instant::from_millis(*ms), Sample::new(&[*v], *p));
        }
        ring
    }

    #[test]
    fn axes_have_round_steps_that_cover_the_data() {
        let cases = [
            (1000.0, 4, 1000.0, 200.0),
            (1035.0, 4, 1200.0, 200.0),
            (172.5, 4, 200.0, 50.0),
            (57.5, 4, 60.0, 20.0),
            (1.15, 2, 1.5, 0.5),
            (0.03, 4, 0.03, 0.01),
            (7.0, 4, 8.0, 2.0),
        ];
        for (max, lines, top, step) in cases {
            let a = Axis::new(max, lines);
            assert!(
                (a.top - top).abs() < 1e-9 && (a.step - step).abs() < 1e-12,
                "{max}: {a:?}"
            );
        }
        assert_eq!(Axis::new(0.03, 4).decimals, 2);
        assert_eq!(Axis::new(1.15, 2).decimals, 1);
        assert_eq!(Axis::new(1035.0, 4).decimals, 0);
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Axis::new(bad, 4), Axis::new(1.0, 4), "{bad}");
        }
        assert_eq!(
            Axis::new(57.5, 1).top,
            100.0,
            "one line: the next round step up"
        );
        let counts = Axis::whole(1.15, 4);
        assert_eq!((counts.top, counts.step, counts.decimals), (2.0, 1.0, 0));
        assert_eq!(Axis::whole(1035.0, 4), Axis::new(1035.0, 4));
        for wanted in 1..=6 {
            for i in 1..2000 {
                let max = f64::from(i) * 0.37;
                let a = Axis::new(max, wanted);
                let lines = a.ticks().count() - 1;
                assert!(a.top >= max && a.top < max + a.step + 1e-9, "{max}: {a:?}");
                let most = wanted + wanted / 2;
                assert!(
                    (1..=most.max(1)).contains(&lines),
                    "{max}/{wanted}: {lines} lines"
                );
            }
        }
    }

    #[test]
    fn the_plot_maps_the_window_and_the_axis_onto_its_edges() {
        let plot = Plot {
            left: 40,
            top: 8,
            right: 440,
            bottom: 208,
            window_secs: 100.0,
            y_top: 50.0,
        };
        assert_eq!(plot.point((-100.0, 0.0)), (40, 208));
        assert_eq!(plot.point((0.0, 50.0)), (440, 8));
        assert_eq!(plot.point((-50.0, 25.0)), (240, 108));
        assert_eq!(plot.y(80.0), 8, "above the top is clamped");
        assert_eq!(plot.y(-3.0), 208, "below zero is clamped");
        assert_eq!(
            plot.y(f64::NAN),
            208,
            "not a number draws at zero, not anywhere"
        );
    }

    /// A span that ends at the newest sample (an end before it), as before the clock mattered.
    fn at_newest(window_secs: f64) -> Span {
        Span {
            window_secs,
            end: Instant::default(),
            hold: false,
        }
    }

    #[test]
    fn the_chart_ends_at_the_clock_and_a_level_stands_until_it_changes() {
        use Provenance::Live;
        // Open tickets changed to 4 at 10 s; the clock reads 40 s.
        let ring = ring_of(&[(0, 3.0, Live), (10_000, 4.0, Live)]);
        let at = |hold| Span {
            window_secs: 60.0,
            end: Instant::from_millis(40_000),
            hold,
        };
        let plain = runs(&ring, 0, at(false), 600, f64::INFINITY, &[]);
        assert_eq!(
            plain[0].points,
            [(-40.0, 3.0), (-30.0, 4.0)],
            "not pinned to now"
        );
        let held = runs(&ring, 0, at(true), 600, f64::INFINITY, &[]);
        assert_eq!(held[0].points, [(-40.0, 3.0), (-30.0, 4.0), (0.0, 4.0)]);
        // While the feed is down the level is unknown: nothing is drawn past the last value.
        let open = [(Instant::from_millis(20_000), None)];
        let down = runs(&ring, 0, at(true), 600, f64::INFINITY, &open);
        assert_eq!(down.last().unwrap().points.last(), Some(&(-30.0, 4.0)));
        assert_eq!(in_window(&ring, 35.0, Instant::from_millis(40_000)), 1);
        // A level set before the window stands across it, from its left edge.
        let narrow = Span {
            window_secs: 20.0,
            ..at(true)
        };
        let across = runs(&ring, 0, narrow, 600, f64::INFINITY, &[]);
        assert_eq!(across[0].points, [(-20.0, 4.0), (0.0, 4.0)]);
    }

    #[test]
    fn live_data_drops_the_simulated_history() {
        use Provenance::*;
        let ring = ring_of(&[
            (0, 1.0, Simulated),
            (1000, 2.0, Simulated),
            (2000, 3.0, Live),
        ]);
        assert_eq!(ring.len(), 1);
        let ring = ring_of(&[(0, 1.0, Live), (1000, 2.0, Simulated)]);
        assert_eq!(
            ring.len(),
            2,
            "going offline keeps live history, drawn apart"
        );
        let runs = runs(&ring, 0, at_newest(60.0), 100, f64::INFINITY, &[]);
        assert_eq!(
            runs.iter().map(|r| r.provenance).collect::<Vec<_>>(),
            [Live, Simulated]
        );
    }

    #[test]
    fn dense_series_are_thinned_to_two_points_per_column_keeping_spikes() {
        let mut ring = Ring::new(10_000, Some(Duration::from_secs(60)));
        for i in 0..6000u64 {
            let v = if i == 3000 { 500.0 } else { 10.0 };
            record(
                &mut ring,
                Instant::from_millis(i * 10),
                Sample::new(&[v], Provenance::Live),
            );
        }
        let runs = runs(&ring, 0, at_newest(60.0), 300, f64::INFINITY, &[]);
        assert_eq!(runs.len(), 1);
        let points = &runs[0].points;
        assert!(
            points.len() <= 2 * 301,
            "{} points for 300 columns",
            points.len()
        );
        assert!(
            points.iter().any(|p| p.1 == 500.0),
            "the spike survives thinning"
        );
        assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "x is ordered");
        assert!(points.iter().all(|p| (-60.0..=0.0).contains(&p.0)));
    }

    #[test]
    fn an_outage_is_a_gap_not_a_line_across_it() {
        use Provenance::Live;
        let ring = ring_of(&[
            (0, 1.0, Live),
            (2000, 2.0, Live),
            (30_000, 3.0, Live),
            (32_000, 4.0, Live),
        ]);
        let joined = runs(&ring, 0, at_newest(60.0), 600, f64::INFINITY, &[]);
        assert_eq!(joined.len(), 1);
        let split = runs(&ring, 0, at_newest(60.0), 600, 6.0, &[]);
        assert_eq!(split.len(), 2, "28 s without data is a gap");
        assert_eq!(split[0].points.len(), 2);
        assert_eq!(split[1].points, [(-2.0, 3.0), (0.0, 4.0)]);
        // A feed that sends only changes: no time gap, but an outage between two samples.
        let outage = [(
            Instant::from_millis(10_000),
            Some(Instant::from_millis(20_000)),
        )];
        let marked = runs(&ring, 0, at_newest(60.0), 600, f64::INFINITY, &outage);
        assert_eq!(marked.len(), 2, "the line breaks where the feed went down");
    }

    #[test]
    fn y_axis_has_headroom_and_never_collapses() {
        let ring = ring_of(&[(0, 100.0, Provenance::Live)]);
        assert!((y_max(&ring, 1, &[]) - 115.0).abs() < 1e-9);
        assert!((y_max(&ring, 1, &[200.0]) - 230.0).abs() < 1e-9);
        assert_eq!(y_max(&Ring::new(1, None), 1, &[]), 1.0);
    }

    #[test]
    fn a_series_a_sample_cannot_hold_has_no_data() {
        let ring = ring_of(&[(0, 1.0, Provenance::Live), (1000, 2.0, Provenance::Live)]);
        let sample = Sample::new(&[1.0, 2.0], Provenance::Live);
        assert_eq!(sample.value(1), Some(2.0));
        assert_eq!(sample.value(MAX_SERIES), None);
        assert!(runs(&ring, MAX_SERIES, at_newest(60.0), 100, f64::INFINITY, &[]).is_empty());
        assert_eq!(figures(&ring, MAX_SERIES), None);
        assert!(figures(&ring, 0).is_some());
    }

    #[test]
    fn figures_are_current_average_and_peak() {
        let mut ring = Ring::new(10, None);
        assert_eq!(figures(&ring, 0), None);
        for (i, v) in [10.0, 30.0, 20.0].into_iter().enumerate() {
            record(
                &mut ring,
                Instant::from_millis(i as u64),
                Sample::new(&[v], Provenance::Live),
            );
        }
        assert_eq!(
            figures(&ring, 0),
            Some(Figures {
                current: 20.0,
                average: 20.0,
                peak: 30.0
            })
        );
    }
}
