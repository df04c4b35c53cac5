//! `TimeSeriesChart`: a live line chart on canvas, drawn with plotters.
//!
//! - Sharp on HiDPI screens: the backing store is the CSS size × `devicePixelRatio`, and
//!   fonts and line widths are scaled to match.
//! - Follows its container's width through a `ResizeObserver`.
//! - Redraws only when its data version, size, pause state or colour scheme changed, and at
//!   most once per animation frame (its parent re-renders through a coalescing hook).
//! - Units, the legend and the axis labels are HTML; the legend is also the text alternative
//!   with the latest values, and the canvas carries an aria label. The canvas draws lines
//!   only: a canvas's text needs its font set, which makes the browser resolve styles at
//!   once, in the middle of the frame, on every redraw (the largest cost of a redraw under a
//!   flood on a page with a table). The labels change only when an axis does.
//! - Simulated points are dashed; live points are solid.

pub mod model;

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use stylist::yew::styled_component;
use switchboard_core::history::Ring;
use switchboard_core::{Instant, Provenance};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{HtmlCanvasElement, ResizeObserver};
use yew::prelude::*;

use crate::handle::now;
use crate::hooks::use_now;
use crate::probe;
use crate::theme::{Palette, use_prefers_dark};
pub use model::{MAX_SERIES, Sample, record};

/// A series' legend entry and colour (1, 2 or 3: the theme's series colours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesSpec {
    /// Legend label, e.g. "Download".
    pub label: &'static str,
    /// Theme series colour, 1 to 3.
    pub color: u8,
}

/// A horizontal reference line, e.g. a latency SLA.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// Where, in the chart's unit.
    pub value: f64,
    /// What it means, for the legend.
    pub label: &'static str,
}

/// A chart's history, shared between the component that records and the chart that draws.
/// Compared by pointer.
#[derive(Clone, Debug)]
pub struct History(Rc<HistoryInner>);

#[derive(Debug)]
struct HistoryInner {
    ring: RefCell<Ring<Sample>>,
    /// When the oldest sample not yet drawn arrived, for [`probe`](crate::probe).
    unshown_since: Cell<Option<Instant>>,
}

impl History {
    /// An empty history bounded by `capacity` points and `window`.
    pub fn new(capacity: usize, window: Option<std::time::Duration>) -> Self {
        Self(Rc::new(HistoryInner {
            ring: RefCell::new(Ring::new(capacity, window)),
            unshown_since: Cell::new(None),
        }))
    }

    /// Appends a sample that arrived `at` (see [`record`]).
    pub fn record(&self, at: Instant, sample: Sample) {
        self.record_taken(at, at, sample);
    }

    /// Appends a sample taken at `taken` (its own timestamp) that arrived at `arrived`: a
    /// replayed sample is drawn where it belongs, not where it arrived. `taken` is held
    /// between the newest sample and `arrived`, so a skewed or odd stamp cannot reorder the
    /// line or draw it in the future.
    pub fn record_taken(&self, taken: Instant, arrived: Instant, sample: Sample) {
        let mut ring = self.0.ring.borrow_mut();
        let floor = ring.last().map_or(Instant::default(), |(at, _)| *at);
        let at = taken.min(arrived).max(floor);
        record(&mut ring, at, sample);
        if self.0.unshown_since.get().is_none() {
            self.0.unshown_since.set(Some(arrived));
        }
    }

    /// Records `values` as the state after `frame`, a change-only feed's count over time
    /// (active sessions, open tickets, revenue): at the time the frame was taken, so a
    /// replay after an outage is drawn where it happened, not as a flat line and a step at
    /// the reconnect. A snapshot's state frames (`Frame::state_at`) describe what is, not
    /// when it changed: they are all recorded at the snapshot's instant, one point for the
    /// whole snapshot however many slices applied it.
    pub fn record_frame(&self, frame: &switchboard_core::Frame, values: &[f64]) {
        let (taken, arrived) = match frame.state_at() {
            Some(at) => (at, at),
            None => {
                let arrived = now();
                (frame.timestamp().unwrap_or(arrived), arrived)
            }
        };
        self.record_taken(taken, arrived, Sample::new(values, frame.provenance()));
    }

    /// The samples, oldest first.
    pub fn ring(&self) -> Ref<'_, Ring<Sample>> {
        self.0.ring.borrow()
    }

    /// When the oldest sample recorded since the last call arrived.
    fn take_unshown_since(&self) -> Option<Instant> {
        self.0.unshown_since.take()
    }
}

impl PartialEq for History {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Props of [`TimeSeriesChart`].
#[derive(Properties, PartialEq, Debug)]
pub struct TimeSeriesChartProps {
    /// What the chart shows, for the caption and the aria label.
    pub title: AttrValue,
    /// The unit of every series, e.g. "Mbps".
    pub unit: &'static str,
    /// The series, in the order of [`Sample::values`].
    pub series: &'static [SeriesSpec],
    /// The data.
    pub history: History,
    /// Bump this when `history` changed; the chart redraws only then.
    pub version: u64,
    /// Seconds shown on the x axis. Default 100 (50 points at 2 s, as in the reference).
    #[prop_or(100.0)]
    pub window_secs: f64,
    /// Reference lines.
    #[prop_or_default]
    pub thresholds: &'static [Threshold],
    /// Height in CSS pixels. Default 200.
    #[prop_or(200)]
    pub height: u32,
    /// Decimals in the legend's values. Default 1.
    #[prop_or(1)]
    pub decimals: usize,
    /// Samples further apart than this, in seconds, are not joined: an outage shows as a gap.
    /// Set it to a few of the feed's intervals. Default: always joined (for feeds that only
    /// send changes).
    #[prop_or(f64::INFINITY)]
    pub gap_secs: f64,
    /// When the feed was down (`StoreView::outages`): lines break there, whatever the feed's
    /// cadence. Default: none.
    #[prop_or_default]
    pub outages: crate::store::Outages,
    /// The series are levels that stand until they change (counts such as active sessions
    /// or open tickets, sent only when they change): the last value is drawn on to the clock.
    /// Off for samples (bandwidth), which say nothing between them.
    #[prop_or(false)]
    pub hold: bool,
}

fn rgb(hex: &str) -> RGBColor {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(128)
    };
    RGBColor(channel(1), channel(3), channel(5))
}

fn series_color(palette: &Palette, n: u8) -> &'static str {
    match n {
        1 => palette.series1,
        2 => palette.series2,
        _ => palette.series3,
    }
}

/// The props that shape a drawing; all `Copy`, so the draw effect can own them.
#[derive(Clone, Copy)]
struct Shape {
    series: &'static [SeriesSpec],
    window_secs: f64,
    hold: bool,
    gap_secs: f64,
    thresholds: &'static [Threshold],
    height: u32,
    decimals: usize,
}

struct Frame<'a> {
    ring: &'a Ring<Sample>,
    /// The y axis, as the labels over the canvas show it (computed once per render).
    axis: model::Axis,
    /// The right edge of the chart: the clock, so a feed that stopped shows its samples
    /// moving away from "now".
    end: Instant,
    outages: &'a [(Instant, Option<Instant>)],
    shape: Shape,
    palette: Palette,
    css_width: f64,
    dpr: f64,
}

/// The y axis for `ring`: round steps from zero to its largest value (or a threshold), about
/// one grid line per 40 CSS pixels of plot height.
fn y_axis(ring: &Ring<Sample>, shape: &Shape) -> model::Axis {
    let thresholds: Vec<f64> = shape.thresholds.iter().map(|t| t.value).collect();
    let y_max = model::y_max(ring, shape.series.len(), &thresholds);
    let lines = (shape.height.saturating_sub(28) / 40).max(1) as usize;
    if shape.decimals == 0 {
        model::Axis::whole(y_max, lines)
    } else {
        model::Axis::new(y_max, lines)
    }
}

/// The plot's edges in pixels of `scale` (the device pixel ratio for the canvas, 1 for the
/// HTML labels over it): room for the value labels on the left, "now" on the right and the
/// time labels below.
fn plot_area(css_width: f64, height: u32, scale: f64, window_secs: f64, y_top: f64) -> model::Plot {
    let px = |v: f64| (v * scale).round() as i32;
    model::Plot {
        left: px(44.0),
        top: px(8.0),
        right: px(css_width) - px(20.0),
        bottom: px(f64::from(height)) - px(20.0),
        window_secs,
        y_top,
    }
}

/// The x axis's labels: time before now at round values inside the window, in minutes for
/// long windows, as (seconds before now, label).
fn x_labels(window_secs: f64) -> Vec<(f64, String)> {
    let (unit_secs, unit) = if window_secs >= 180.0 {
        (60.0, "m")
    } else {
        (1.0, "s")
    };
    let axis = model::Axis::new(window_secs / unit_secs, 5);
    axis.ticks()
        .filter(|t| *t * unit_secs <= window_secs)
        .map(|ago| {
            let label = if ago == 0.0 {
                "now".to_owned()
            } else {
                format!("-{ago:.*}{unit}", axis.decimals)
            };
            (ago * unit_secs, label)
        })
        .collect()
}

/// Draws the grid, reference lines and series: lines only, never text (see the module docs).
/// The axes are drawn here rather than by plotters' chart builder: a handful of lines at
/// round values, which keeps the redraw cheap and the wasm small.
fn draw(canvas: &HtmlCanvasElement, f: &Frame<'_>) -> Result<(), String> {
    let (dpr, shape) = (f.dpr, &f.shape);
    let (width, height) = (
        (f.css_width * dpr).round() as u32,
        (f64::from(shape.height) * dpr).round() as u32,
    );
    // Setting a canvas's size, even to the size it has, clears it and reallocates its
    // backing store: only when it changed.
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas has no 2d context")?;
    let root = backend.into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let px = |v: f64| (v * dpr).round() as i32;
    root.fill(&rgb(f.palette.surface)).map_err(err)?;

    let axis = f.axis;
    let plot = plot_area(f.css_width, shape.height, dpr, shape.window_secs, axis.top);
    let grid = rgb(f.palette.border)
        .mix(0.6)
        .stroke_width(px(1.0).max(1) as u32);
    for value in axis.ticks() {
        let y = plot.y(value);
        let line = PathElement::new(vec![(plot.left, y), (plot.right, y)], grid);
        root.draw(&line).map_err(err)?;
    }

    let bad = rgb(f.palette.bad).stroke_width(px(1.0).max(1) as u32);
    for t in shape.thresholds {
        let line = [(plot.left, plot.y(t.value)), (plot.right, plot.y(t.value))];
        let dashed = DashedPathElement::new(line, px(4.0), px(4.0), bad);
        root.draw(&dashed).map_err(err)?;
    }
    let columns = (plot.right - plot.left).max(1) as usize;
    let line_width = px(2.0).max(1) as u32;
    let mut first_runs = 0;
    for (i, spec) in shape.series.iter().enumerate() {
        let color = rgb(series_color(&f.palette, spec.color));
        let span = model::Span {
            window_secs: shape.window_secs,
            end: f.end,
            hold: shape.hold,
        };
        let runs = model::runs(f.ring, i, span, columns, shape.gap_secs, f.outages);
        if i == 0 {
            first_runs = runs.len();
        }
        for run in runs {
            let points: Vec<(i32, i32)> = run.points.iter().map(|p| plot.point(*p)).collect();
            if let [only] = points.as_slice() {
                // A line needs two points; show the first sample as a dot.
                let dot = Circle::new(*only, px(3.0), color.filled());
                root.draw(&dot).map_err(err)?;
            } else if run.provenance == Provenance::Live {
                let line = PathElement::new(points, color.stroke_width(line_width));
                root.draw(&line).map_err(err)?;
            } else {
                let style = color.mix(0.8).stroke_width(line_width);
                let dashed = DashedPathElement::new(points, px(6.0), px(4.0), style);
                root.draw(&dashed).map_err(err)?;
            }
        }
    }
    // What is drawn, for tests and tools: the first series' separate lines (one when nothing
    // is missing) and the samples in the window.
    let _ = canvas.set_attribute("data-runs", &first_runs.to_string());
    let _ = canvas.set_attribute(
        "data-samples",
        &model::in_window(f.ring, shape.window_secs, f.end).to_string(),
    );
    root.present().map_err(err)
}

/// Watches an element's width; the observer is disconnected when the component unmounts.
#[hook]
fn use_width(node: NodeRef) -> f64 {
    let width = use_state(|| 0.0);
    {
        let width = width.clone();
        use_effect_with(node, move |node| {
            let element = node.cast::<web_sys::Element>();
            if let Some(el) = &element {
                width.set(el.get_bounding_client_rect().width());
            }
            let on_resize =
                Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                    if let Some(entry) = entries.get(0).dyn_ref::<web_sys::ResizeObserverEntry>() {
                        width.set(entry.content_rect().width());
                    }
                });
            let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
            if let (Some(o), Some(el)) = (&observer, &element) {
                o.observe(el);
            }
            move || {
                if let Some(o) = observer {
                    o.disconnect();
                }
                drop(on_resize);
            }
        });
    }
    *width
}

/// See the module docs.
#[styled_component]
pub fn TimeSeriesChart(props: &TimeSeriesChartProps) -> Html {
    let canvas = use_node_ref();
    let wrap = use_node_ref();
    let width = use_width(wrap.clone());
    let dark = use_prefers_dark();
    let frozen = use_state(|| None::<Rc<Ring<Sample>>>);
    // The x axis ends at the clock, so the chart moves on once a second without data too.
    let clock = use_now(1000);
    let live = props.history.ring();
    let shown: &Ring<Sample> = frozen.as_deref().unwrap_or(&live);
    let shape = Shape {
        series: props.series,
        window_secs: props.window_secs,
        hold: props.hold,
        gap_secs: props.gap_secs,
        thresholds: props.thresholds,
        height: props.height,
        decimals: props.decimals,
    };
    // One scan of the samples for the y axis, shared by the labels and the drawing.
    let axis = y_axis(shown, &shape);

    {
        let (canvas, frozen) = (canvas.clone(), frozen.clone());
        let version = if frozen.is_some() { 0 } else { props.version };
        let (history, title) = (props.history.clone(), props.title.clone());
        let outages = props.outages.clone();
        // A paused chart keeps its own end (its newest sample); a live one follows the clock.
        let end = if frozen.is_some() {
            Instant::default()
        } else {
            Instant::from_millis(clock.as_millis() / 1000 * 1000)
        };
        let deps = (
            version,
            end,
            width.to_bits(),
            frozen.is_some(),
            dark,
            props.height,
            props.outages.clone(),
        );
        use_effect_with(deps, move |_| {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>()
                && width > 0.0
            {
                let live = history.ring();
                let ring: &Ring<Sample> = frozen.as_deref().unwrap_or(&live);
                let dpr = web_sys::window()
                    .map(|w| w.device_pixel_ratio())
                    .unwrap_or(1.0)
                    .max(1.0);
                let palette = if dark { Palette::DARK } else { Palette::LIGHT };
                let frame = Frame {
                    ring,
                    axis,
                    end,
                    outages: &outages,
                    shape,
                    palette,
                    css_width: width,
                    dpr,
                };
                let started = probe::perf_now();
                if let Err(e) = draw(&el, &frame) {
                    web_sys::console::warn_1(&format!("chart `{title}`: {e}").into());
                }
                // A paused chart shows nothing new, so its samples stay unshown.
                let arrived = frozen
                    .is_none()
                    .then(|| history.take_unshown_since())
                    .flatten();
                if let Some(arrived) = arrived {
                    let ended_at = probe::perf_now();
                    probe::record(probe::PaintSample {
                        waited_ms: now().saturating_since(arrived).as_secs_f64() * 1000.0,
                        draw_ms: ended_at - started,
                        ended_at,
                    });
                }
            }
        });
    }

    let latest = shown.last().map(|(_, s)| *s);
    let simulated = latest.is_some_and(|s| s.provenance == Provenance::Simulated);
    // Each series' latest value with its unit, for the text alternative and the legend.
    let latest_text: Vec<Option<String>> = (0..props.series.len())
        .map(|i| {
            let value = latest.and_then(|l| l.value(i))?;
            Some(format!("{value:.*} {}", props.decimals, props.unit))
        })
        .collect();
    let values: Vec<String> = props
        .series
        .iter()
        .zip(&latest_text)
        .map(|(s, text)| match text {
            Some(text) => format!("{} {text}", s.label),
            None => format!("{} no data", s.label),
        })
        .collect();
    let summary = format!(
        "{}: {}{}",
        props.title,
        values.join(", "),
        if simulated { " (simulated)" } else { "" }
    );
    let toggle = {
        let frozen = frozen.clone();
        let history = props.history.clone();
        Callback::from(move |_| {
            if frozen.is_some() {
                // What arrived while paused appears because of this click, not the feed.
                let _ = history.take_unshown_since();
                frozen.set(None);
            } else {
                frozen.set(Some(Rc::new(history.ring().clone())));
            }
        })
    };
    let style = css!(
        "margin:0; display:flex; flex-direction:column; gap:6px;
         figcaption { display:flex; align-items:center; gap:8px; font-weight:600; }
         figcaption .unit { color:var(--sb-muted); font-weight:400; }
         figcaption button { margin-left:auto; font:inherit; font-weight:400; font-size:12px;
           padding:2px 10px; border-radius:6px; border:1px solid var(--sb-border);
           background:var(--sb-surface); color:var(--sb-text); cursor:pointer; }
         .paused { font-size:12px; font-weight:600; color:var(--sb-warn); }
         .plot { position:relative; width:100%; }
         canvas { display:block; width:100%; }
         .axis span { position:absolute; font-size:11px; line-height:1; color:var(--sb-muted);
                      white-space:nowrap; font-variant-numeric:tabular-nums; }
         .axis .y { left:0; width:38px; text-align:right; transform:translateY(-50%); }
         .axis .x { transform:translateX(-50%); }
         ul { list-style:none; display:flex; flex-wrap:wrap; gap:4px 16px; margin:0; padding:0;
              font-size:13px; color:var(--sb-muted); }
         li b { color:var(--sb-text); font-variant-numeric:tabular-nums; font-weight:600; }
         .swatch { display:inline-block; width:12px; height:3px; border-radius:2px;
                   vertical-align:middle; margin-right:6px; }
         .swatch.dashed { background:none !important; border-top:3px dashed; height:0; }"
    );
    let legend = props.series.iter().zip(latest_text).map(|(s, value)| {
        let color = format!("var(--sb-series{})", s.color.clamp(1, 3));
        let swatch_class = classes!("swatch", simulated.then_some("dashed"));
        html! {
            <li>
                <span class={swatch_class} style={format!("background:{color};border-color:{color}")} />
                { s.label }{ " " }<b>{ value.unwrap_or_else(|| "—".into()) }</b>
            </li>
        }
    });
    // The axis labels over the canvas, where the drawing puts its grid lines and times.
    let plot = plot_area(width, props.height, 1.0, props.window_secs, axis.top);
    let y_labels = axis.ticks().map(|value| {
        let style = format!("top:{}px", plot.y(value));
        html! { <span class="y" {style}>{ format!("{value:.*}", axis.decimals) }</span> }
    });
    let x_labels = x_labels(props.window_secs).into_iter().map(|(ago, label)| {
        let style = format!("left:{}px;top:{}px", plot.x(-ago), plot.bottom + 5);
        html! { <span class="x" {style}>{ label }</span> }
    });
    let thresholds = props.thresholds.iter().map(|t| {
        html! { <li><span class="swatch dashed" style="border-color:var(--sb-bad)" />{ t.label }</li> }
    });
    html! {
        <figure class={style} data-testid="chart">
            <figcaption>
                { props.title.clone() }
                if !props.unit.is_empty() {
                    <span class="unit">{ format!("({})", props.unit) }</span>
                }
                if frozen.is_some() { <span class="paused">{ "Paused" }</span> }
                <button type="button" onclick={toggle} aria-pressed={frozen.is_some().to_string()}>
                    { if frozen.is_some() { "Resume" } else { "Pause" } }
                </button>
            </figcaption>
            <div class="plot" ref={wrap} style={format!("height:{}px", props.height)}>
                <canvas ref={canvas} role="img" aria-label={summary.clone()}
                        style={format!("height:{}px", props.height)} />
                if width > 0.0 {
                    <div class="axis" aria-hidden="true">{ for y_labels }{ for x_labels }</div>
                }
            </div>
            <ul data-testid="chart-latest" aria-label={summary}>{ for legend }{ for thresholds }</ul>
        </figure>
    }
}
