//! `cargo xtask bench`: load, flood and memory figures of the release build in headless
//! Chromium against the devserver, written to `docs/PERFORMANCE.md` and a JSON report.
//!
//! Every figure is repeated and reported as the median with its spread. Run it on a quiet
//! machine and compare before and after a change within one run of this tool.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use switchboard_devserver::endpoint::{Fault, Module};
use switchboard_devserver::world::WorldSettings;
use switchboard_e2e::{HEARTBEAT, Harness, Options, module};

struct Args {
    runs: usize,
    flood_secs: u64,
    /// When the soak's first and last memory readings are taken, in seconds.
    soak: (u64, u64),
    /// Only these parts, comma-separated (a page's floods such as `/network`, `mobile`,
    /// `throttle`, `tabs`, `profile`), without boot and soak: for checking a change quickly.
    only: Option<String>,
    out: PathBuf,
    json: PathBuf,
    native: Option<PathBuf>,
    gateway: Option<PathBuf>,
    /// The React peer's dist (bench/peer), precompressed.
    peer: Option<PathBuf>,
    commit: String,
}

impl Args {
    /// Whether this run measures `part`: every part but `profile` without `--only`.
    fn measures(&self, part: &str) -> bool {
        match &self.only {
            None => part != "profile",
            Some(only) => only.split(',').any(|p| p == part),
        }
    }
}

fn args() -> Args {
    let mut a = Args {
        runs: 3,
        flood_secs: 15,
        soak: (60, 600),
        only: None,
        out: PathBuf::from("docs/PERFORMANCE.md"),
        json: PathBuf::from("target/bench.json"),
        native: None,
        gateway: None,
        peer: None,
        commit: String::from("unknown"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--quick" => (a.runs, a.flood_secs, a.soak) = (1, 5, (20, 60)),
            "--only" => a.only = Some(value()),
            "--out" => a.out = value().into(),
            "--json" => a.json = value().into(),
            "--native" => a.native = Some(value().into()),
            "--gateway" => a.gateway = Some(value().into()),
            "--peer" => a.peer = Some(value().into()),
            "--commit" => a.commit = value(),
            other => eprintln!("bench: ignoring unknown argument {other}"),
        }
    }
    a
}

/// Median, min and max.
fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn fmt3((median, min, max): (f64, f64, f64), unit: &str) -> String {
    format!("{median:.1} {unit} ({min:.1}–{max:.1})")
}

/// Sizes of every file in the dist that a browser downloads: raw, gzip and brotli (the
/// precompressed files). `_headers` and `_redirects` are the CDN's instructions, not files it
/// serves.
fn transfer(dist: &std::path::Path) -> Result<Vec<(String, u64, u64, u64)>> {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".br")
            || name.ends_with(".gz")
            || name.starts_with('_')
            || !path.is_file()
        {
            continue;
        }
        let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let raw = size(path.clone());
        let gz = size(PathBuf::from(format!("{}.gz", path.display())));
        let br = size(PathBuf::from(format!("{}.br", path.display())));
        rows.push((name, raw, gz, br));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    Ok(rows)
}

/// Writes `dist`'s files as rows of a transfer table, then its total row; returns the totals
/// (raw, gzip, brotli).
fn transfer_table(md: &mut String, dist: &std::path::Path) -> Result<(u64, u64, u64)> {
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1000.0);
    let files = transfer(dist)?;
    for (name, raw, gz, br) in &files {
        writeln!(
            md,
            "| `{name}` | {} | {} | {} |",
            kb(*raw),
            kb(*gz),
            kb(*br)
        )?;
    }
    let total = files
        .iter()
        .fold((0, 0, 0), |t, f| (t.0 + f.1, t.1 + f.2, t.2 + f.3));
    writeln!(
        md,
        "| **total** | {} | {} | **{}** |",
        kb(total.0),
        kb(total.1),
        kb(total.2)
    )?;
    Ok(total)
}

const LONG_TASKS: &str = "return new Promise(done => { const o = new PerformanceObserver(() => {}); \
    o.observe({ type: 'longtask', buffered: true }); \
    setTimeout(() => done(o.takeRecords().map(e => [e.startTime, e.duration])), 100); })";

/// One boot: navigation start to each module's first live frame on screen (by module, in
/// navigation order), and TBT until the last of them.
async fn boot() -> Result<(Vec<(String, f64)>, f64)> {
    let h = Harness::start_unrecorded().await?;
    let token = h.token();
    h.open_with_token("/", &token).await?;
    // One first live paint per module the backend serves (the registry's list).
    let served = Module::all().count();
    let js = format!(
        "return performance.getEntriesByType('mark').filter(m => m.name.startsWith('sb:first-live-paint:')).length === {served}"
    );
    h.wait(
        "every module's first live paint",
        Duration::from_secs(15),
        &js,
    )
    .await?;
    let marks = h
        .eval("return performance.getEntriesByType('mark').filter(m => m.name.startsWith('sb:first-live-paint:')).map(m => [m.name.split('/').pop(), m.startTime])")
        .await?;
    let mut paints: Vec<(String, f64)> = marks
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| Some((m.get(0)?.as_str()?.to_owned(), m.get(1)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let order = |m: &str| {
        Module::all()
            .position(|x| x.name() == m)
            .unwrap_or(usize::MAX)
    };
    paints.sort_by_key(|(m, _)| order(m));
    let last = paints.iter().map(|(_, t)| *t).fold(0.0, f64::max);
    let tasks = h.eval(LONG_TASKS).await?;
    let tbt = tasks
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| Some((t.get(0)?.as_f64()?, t.get(1)?.as_f64()?)))
                .filter(|(start, _)| *start <= last)
                .map(|(_, d)| (d - 50.0).max(0.0))
                .sum::<f64>()
                + 0.0 // an empty sum is -0.0
        })
        .unwrap_or(0.0);
    h.finish().await?;
    Ok((paints, tbt))
}

/// Data frames the app has received: the counters' frame count less heartbeats, which a
/// quiet socket gets every couple of seconds.
async fn frames_in(h: &Harness) -> Result<u64> {
    let text = h.text("[data-testid=counters]").await?;
    let received: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(received.saturating_sub(h.counter("heartbeats").await?))
}

/// The app's frame count once it stops changing (the page shows it once a second).
async fn settled_frames_in(h: &Harness) -> Result<u64> {
    let mut last = frames_in(h).await?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let now = frames_in(h).await?;
        if now == last {
            break;
        }
        last = now;
    }
    Ok(last)
}

/// Where a flood runs: the module whose endpoint floods, and the page on screen.
#[derive(Clone, Copy)]
struct Stage {
    /// The module's name in the registry.
    module: &'static str,
    page: &'static str,
    what: &'static str,
}

/// How many frames the replay benchmark has the app miss and catch up on.
const REPLAYED: usize = 10_000;

const NETWORK: Stage = Stage {
    module: "network",
    page: "/network",
    what: "network page, both charts",
};
const SESSIONS: Stage = Stage {
    module: "sessions",
    page: "/sessions",
    what: "sessions page, chart and table",
};

struct Flood {
    sent: u64,
    counted: u64,
    intervals: Vec<f64>,
    long_frames: f64,
    /// Frame arrival to the end of the canvas draw that shows it, per redraw, for the oldest
    /// frame that redraw newly shows: the app's part of the latency.
    to_drawn: Vec<f64>,
    /// The same frame's arrival to the next animation frame after that draw, when the pixels
    /// are on screen: the app's part plus the browser's frame pipeline.
    to_pixels: Vec<f64>,
    /// Each chart redraw's duration.
    draws: Vec<f64>,
    memory_mb: f64,
}

/// JS heap after a full collection plus wasm linear memory, in MB.
async fn memory_mb(h: &Harness) -> Result<f64> {
    let bytes = h
        .eval(
            "if (window.gc) gc(); \
             const heap = performance.memory ? performance.memory.usedJSHeapSize : 0; \
             const b = window.wasmBindings; \
             return heap + (b && b.wasm_memory_bytes ? b.wasm_memory_bytes() : 0)",
        )
        .await?;
    Ok(bytes.as_f64().unwrap_or(0.0) / 1e6)
}

/// Starts recording animation-frame times and long animation frames, and empties the app's
/// paint record, so what follows covers only the measurement window.
const START_WINDOW: &str = "window.__raf = []; window.__rafOn = true; \
    (function f(t) { window.__raf.push(t); if (window.__rafOn) requestAnimationFrame(f); })(performance.now()); \
    window.__loaf = 0; try { new PerformanceObserver(l => { window.__loaf += l.getEntries().length; }) \
      .observe({ type: 'long-animation-frame' }); } catch (e) { window.__loaf = -1; } \
    window.wasmBindings.paint_samples(); return true";

/// Stops the window: the animation-frame times and the app's paint samples.
const END_WINDOW: &str = "window.__rafOn = false; \
    return [window.__raf, Array.from(window.wasmBindings.paint_samples())]";

/// The window's animation-frame intervals, sorted, and its long animation frames (-1 where
/// the browser cannot count them).
async fn frame_times(h: &Harness, raf: &[f64]) -> Result<(Vec<f64>, f64)> {
    let mut intervals: Vec<f64> = raf.windows(2).map(|w| w[1] - w[0]).collect();
    intervals.sort_by(f64::total_cmp);
    let long_frames = h
        .eval("return window.__loaf")
        .await?
        .as_f64()
        .unwrap_or(-1.0);
    Ok((intervals, long_frames))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// The figures of each redraw, each list sorted.
struct Paints {
    to_drawn: Vec<f64>,
    to_pixels: Vec<f64>,
    draws: Vec<f64>,
}

/// Pairs each redraw with the first animation frame after it ended, when its pixels are on
/// screen. `raf` is sorted.
fn paints(samples: &[f64], raf: &[f64]) -> Paints {
    let mut p = Paints {
        to_drawn: Vec::new(),
        to_pixels: Vec::new(),
        draws: Vec::new(),
    };
    for s in samples.chunks_exact(3) {
        let (waited, draw, ended_at) = (s[0], s[1], s[2]);
        let next = raf.partition_point(|t| *t <= ended_at);
        if let Some(shown) = raf.get(next) {
            p.to_drawn.push(waited);
            p.to_pixels.push(waited + (shown - ended_at));
            p.draws.push(draw);
        }
    }
    for v in [&mut p.to_drawn, &mut p.to_pixels, &mut p.draws] {
        v.sort_by(f64::total_cmp);
    }
    p
}

/// A fresh app on `stage.page`, connected, with the regular traffic of its module paused
/// so only flood frames arrive from here on.
async fn staged(stage: Stage) -> Result<Harness> {
    let h = Harness::start_unrecorded().await?;
    let token = h.token();
    h.open_with_token(stage.page, &token).await?;
    h.wait_status(stage.module, "connected", Duration::from_secs(10))
        .await?;
    h.endpoint(module(stage.module))
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(h)
}

/// One flood of `rate` frames a second on `stage`.
async fn flood(stage: Stage, rate: u32, secs: u64) -> Result<Flood> {
    let h = staged(stage).await?;
    let in0 = settled_frames_in(&h).await?;
    let sent0 = h.report(module(stage.module)).frames_sent;
    h.eval(START_WINDOW).await?;
    h.fault(
        module(stage.module),
        Fault::Flood {
            rate,
            duration: Duration::from_secs(secs),
        },
    );
    tokio::time::sleep(Duration::from_secs(secs)).await; // the measurement window
    let window = h.eval(END_WINDOW).await?;
    let counted = settled_frames_in(&h).await?.saturating_sub(in0);
    let sent = h.report(module(stage.module)).frames_sent - sent0;
    let raf = numbers(&window[0]);
    let Paints {
        to_drawn,
        to_pixels,
        draws,
    } = paints(&numbers(&window[1]), &raf);
    let (intervals, long_frames) = frame_times(&h, &raf).await?;
    let memory_mb = memory_mb(&h).await?;
    h.finish().await?;
    Ok(Flood {
        sent,
        counted,
        intervals,
        long_frames,
        to_drawn,
        to_pixels,
        draws,
        memory_mb,
    })
}

/// A harness, unrecorded, whose site serves `dist` (the React peer's), or the build under test,
/// recording a DevTools trace of `traced` categories if given.
async fn serving(dist: Option<PathBuf>, traced: Option<&'static str>) -> Result<Harness> {
    Harness::start_with(Options {
        recorded: false,
        traced,
        dist,
        ..Options::default()
    })
    .await
}

/// Waits, at most `within`, for the mark either app sets once `module`'s first live data is on
/// screen, and returns the mark's name.
async fn first_live_paint(h: &Harness, module: &str, within: Duration) -> Result<String> {
    let mark = format!("sb:first-live-paint:ws://{}/ws/{module}", h.backend_addr);
    h.wait(
        &format!("the {module} module's first live paint"),
        within,
        &format!(
            "return performance.getEntriesByName({}).length > 0",
            json!(mark)
        ),
    )
    .await?;
    Ok(mark)
}

/// One boot under Lighthouse's mobile profile (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s
/// up, 4× CPU slowdown, no cache) of the app in `dist` (ours, or the React peer's): navigation
/// start to the network module's first live data painted, and the bytes transferred until
/// then (the page's and its resources' `transferSize`), when the page, the code (JS and
/// wasm) and `config.json` had arrived, and the first contentful paint:
/// `[live paint, bytes, html, code, config, first paint]`, ms and bytes.
async fn mobile_boot(dist: Option<PathBuf>) -> Result<[f64; 6]> {
    let h = serving(dist, None).await?;
    let token = h.token();
    h.cdp("Network.enable", json!({})).await?;
    h.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))
        .await?;
    switchboard_e2e::page::open_page(&h, &h.client, &token, "/config.json").await?;
    h.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 150, "downloadThroughput": 200_000, "uploadThroughput": 93_750 }),
    )
    .await?;
    h.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 4 }))
        .await?;
    h.client.goto(&format!("http://{}/", h.site)).await?;
    let mark = first_live_paint(&h, "network", Duration::from_secs(60)).await?;
    let v = h
        .eval(&format!(
            "const at = performance.getEntriesByName({})[0].startTime; \
             const nav = performance.getEntriesByType('navigation'); \
             const res = performance.getEntriesByType('resource'); \
             const sizes = [...nav, ...res].filter(e => e.startTime <= at).map(e => e.transferSize || 0); \
             const end = f => Math.max(0, ...res.filter(e => f(new URL(e.name).pathname)).map(e => e.responseEnd)); \
             return [at, sizes.reduce((a, b) => a + b, 0), nav[0].responseEnd, \
                     end(p => /\\.(js|wasm)$/.test(p)), end(p => p.endsWith('/config.json')), \
                     (performance.getEntriesByName('first-contentful-paint')[0] || {{}}).startTime]",
            json!(mark)
        ))
        .await?;
    h.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 1 }))
        .await?;
    h.finish().await?;
    let n = |i: usize| v[i].as_f64().unwrap_or(f64::NAN);
    Ok([n(0), n(1), n(2), n(3), n(4), n(5)])
}

/// Animation-frame times only (the React peer has no paint record of its own).
const RAF_START: &str = "window.__raf = []; window.__rafOn = true; \
    (function f(t) { window.__raf.push(t); if (window.__rafOn) requestAnimationFrame(f); })(performance.now()); return true";
const RAF_END: &str = "window.__rafOn = false; return window.__raf";

/// What [`throttled`] measured.
struct Throttled {
    fps: f64,
    /// Frame interval p95, ms.
    p95: f64,
    /// Main-thread shares of the window, percent.
    busy: Busy,
    /// With `profile`: the functions with the most self time, percent of the sampled time.
    top: Vec<(String, f64, String)>,
    /// With `profile`: the main thread's trace events with the most self time, ms per painted
    /// frame.
    trace: Vec<(String, f64)>,
    /// With `profile`: the seconds of the flood the trace covers.
    traced_secs: f64,
    /// With `profile`: the CPU profile and the trace events as recorded, for DevTools.
    raw: Option<(Value, Vec<Value>)>,
    /// JS heap + wasm memory (MB) after a collection, before and after the flood.
    heap_mb: (f64, f64),
    /// Ours only (the peer shows no count): whether the app counted every frame sent.
    all_counted: Option<bool>,
}

/// One app (ours, or the React peer's `dist`) on `page` under a 4× CPU slowdown while its
/// module floods at `rate` frames a second for `secs`: frames painted per second, the frame
/// interval p95, and the main-thread busy share; with `profile`, also a CDP `Profiler`
/// profile of the window (which costs time of its own: its rows are not compared with the
/// others).
async fn throttled(
    stage: &Stage,
    dist: Option<PathBuf>,
    rate: u32,
    secs: u64,
    profile: bool,
) -> Result<Throttled> {
    let ours = dist.is_none();
    let h = serving(dist, profile.then_some(TRACE_CATEGORIES)).await?;
    let token = h.token();
    switchboard_e2e::page::open_page(&h, &h.client, &token, stage.page).await?;
    first_live_paint(&h, stage.module, Duration::from_secs(20)).await?;
    h.endpoint(module(stage.module))
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let in0 = if ours {
        settled_frames_in(&h).await?
    } else {
        0
    };
    let sent0 = h.report(module(stage.module)).frames_sent;
    let heap0 = memory_mb(&h).await?;
    h.cdp("Performance.enable", json!({})).await?;
    if profile {
        h.cdp("Profiler.enable", json!({})).await?;
        h.cdp("Profiler.setSamplingInterval", json!({ "interval": 200 }))
            .await?;
    }
    h.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 4 }))
        .await?;
    h.eval(RAF_START).await?;
    let busy0 = Busy::now(&h).await?;
    if profile {
        // The trace runs from the browser's start (reading it ends it): the flood's part
        // begins at this mark.
        h.eval(&format!(
            "console.timeStamp({}); return true",
            json!(FLOOD_MARK)
        ))
        .await?;
        h.cdp("Profiler.start", json!({})).await?;
    }
    let began = std::time::Instant::now();
    h.fault(
        module(stage.module),
        Fault::Flood {
            rate,
            duration: Duration::from_secs(secs),
        },
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (top, (trace, traced_secs), raw) = if profile {
        let mut stopped = h.cdp("Profiler.stop", json!({})).await?;
        let events = h.trace().await?;
        let top = top_functions(&stopped["profile"], 20);
        let own = main_thread_self_times(&events);
        (top, own, Some((stopped["profile"].take(), events)))
    } else {
        (Vec::new(), (Vec::new(), 0.0), None)
    };
    let raf = numbers(&h.eval(RAF_END).await?);
    let elapsed = began.elapsed().as_secs_f64();
    let busy = Busy::now(&h).await?.since(busy0, elapsed);
    h.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 1 }))
        .await?;
    let (intervals, _) = frame_times(&h, &raf).await?;
    let fps = raf.len().saturating_sub(1) as f64 / elapsed;
    let trace = trace
        .into_iter()
        .take(12)
        .map(|(name, ms)| (name, ms / (fps * traced_secs)))
        .collect();
    let all_counted = if ours {
        let counted = settled_frames_in(&h).await?.saturating_sub(in0);
        Some(counted >= h.report(module(stage.module)).frames_sent - sent0)
    } else {
        None
    };
    let heap1 = memory_mb(&h).await?;
    h.finish().await?;
    Ok(Throttled {
        fps,
        p95: percentile(&intervals, 0.95),
        busy,
        top,
        trace,
        traced_secs,
        raw,
        heap_mb: (heap0, heap1),
        all_counted,
    })
}

/// The DevTools trace categories of the profile: the renderer's tasks, style, layout, paint,
/// compositing and garbage collection, and the frame pipeline.
const TRACE_CATEGORIES: &str = "devtools.timeline,disabled-by-default-devtools.timeline.frame,v8";

/// The `console.timeStamp` that marks the flood's start in the trace.
const FLOOD_MARK: &str = "sb-bench-flood";

/// Self time (an event's duration less its nested events') per event name on the renderer's
/// main thread (the one that runs animation-frame callbacks), in ms, largest first, from the
/// [`FLOOD_MARK`] on; and the seconds the trace covers from the mark (Chromium's trace buffer
/// is bounded: a long trace stops early).
fn main_thread_self_times(events: &[Value]) -> (Vec<(String, f64)>, f64) {
    let from = events
        .iter()
        .filter(|e| e["name"] == "TimeStamp" && e["args"]["data"]["message"] == FLOOD_MARK)
        .filter_map(|e| e["ts"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let events: Vec<&Value> = events
        .iter()
        .filter(|e| e["ts"].as_f64().is_some_and(|ts| ts >= from))
        .collect();
    let thread = |e: &Value| (e["pid"].as_u64(), e["tid"].as_u64());
    let mut fires: HashMap<_, usize> = HashMap::new();
    for e in events.iter().filter(|e| e["name"] == "FireAnimationFrame") {
        *fires.entry(thread(e)).or_default() += 1;
    }
    let Some(main) = fires.into_iter().max_by_key(|(_, n)| *n).map(|(t, _)| t) else {
        return (Vec::new(), 0.0);
    };
    // Complete events, by start, a parent before the children it encloses.
    let mut spans: Vec<(f64, f64, &str)> = events
        .iter()
        .filter(|e| e["ph"] == "X" && thread(e) == main)
        .filter_map(|e| Some((e["ts"].as_f64()?, e["dur"].as_f64()?, e["name"].as_str()?)))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut own: Vec<f64> = spans.iter().map(|s| s.1).collect();
    let mut open: Vec<usize> = Vec::new();
    for (i, &(ts, dur, _)) in spans.iter().enumerate() {
        while open.last().is_some_and(|&p| spans[p].0 + spans[p].1 <= ts) {
            open.pop();
        }
        if let Some(&parent) = open.last() {
            own[parent] -= dur;
        }
        open.push(i);
    }
    let mut by_name: HashMap<&str, f64> = HashMap::new();
    for (span, own) in spans.iter().zip(own) {
        *by_name.entry(span.2).or_default() += own / 1_000.0;
    }
    let mut list: Vec<(String, f64)> = by_name
        .into_iter()
        .map(|(n, ms)| (n.to_owned(), ms))
        .collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    let end = spans.iter().map(|s| s.0 + s.1).fold(from, f64::max);
    (list, (end - from) / 1e6)
}

/// Five tabs on the network page at 1,000 frames/s, with or without sharing: each tab's
/// frame intervals and main-thread busy share, and the backend's open connections.
struct Tabs {
    /// Per tab: frame interval p95 (ms), main-thread busy (% of the window), frames counted.
    per_tab: Vec<(f64, f64, u64)>,
    /// Open connections on the backend, every module together.
    connections: u64,
}

/// The tab's cumulative main-thread task time, in seconds (CDP `Performance.getMetrics`).
async fn task_seconds(h: &Harness) -> Result<f64> {
    Ok(Busy::now(h).await?.task)
}

/// The tab's cumulative main-thread figures, in seconds (CDP `Performance.getMetrics`):
/// all task time, and of it script, style recalculation and layout.
#[derive(Clone, Copy, Default)]
struct Busy {
    task: f64,
    script: f64,
    style: f64,
    layout: f64,
    /// How many style recalculations and layouts (counts, not seconds).
    styles: f64,
    layouts: f64,
}

impl Busy {
    async fn now(h: &Harness) -> Result<Self> {
        let metrics = h.cdp("Performance.getMetrics", json!({})).await?;
        let metric = |name: &str| {
            metrics["metrics"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["name"] == name))
                .and_then(|m| m["value"].as_f64())
                .unwrap_or(f64::NAN)
        };
        Ok(Self {
            task: metric("TaskDuration"),
            script: metric("ScriptDuration"),
            style: metric("RecalcStyleDuration"),
            layout: metric("LayoutDuration"),
            styles: metric("RecalcStyleCount"),
            layouts: metric("LayoutCount"),
        })
    }

    /// What was spent between `earlier` and `self`, as percentages of `secs`.
    fn since(self, earlier: Self, secs: f64) -> Self {
        let pct = |a: f64, b: f64| (a - b) / secs * 100.0;
        Self {
            task: pct(self.task, earlier.task),
            script: pct(self.script, earlier.script),
            style: pct(self.style, earlier.style),
            layout: pct(self.layout, earlier.layout),
            styles: self.styles - earlier.styles,
            layouts: self.layouts - earlier.layouts,
        }
    }
}

/// The functions with the most self time in a CDP `Profiler` profile: `(name, percent of the
/// sampled time, the caller that most of it came through)`, most first.
fn top_functions(profile: &Value, n: usize) -> Vec<(String, f64, String)> {
    let mut names = HashMap::new();
    let mut parents = HashMap::new();
    for node in profile["nodes"].as_array().into_iter().flatten() {
        let id = node["id"].as_u64().unwrap_or(0);
        let frame = &node["callFrame"];
        let name = frame["functionName"].as_str().unwrap_or_default();
        let url = frame["url"].as_str().unwrap_or_default();
        let name = match (name, url.rsplit('/').next()) {
            ("", Some(file)) if !file.is_empty() => format!("(anonymous, {file})"),
            ("", _) => "(anonymous)".to_owned(),
            (name, _) => name.to_owned(),
        };
        names.insert(id, name);
        for child in numbers(&node["children"]) {
            parents.insert(child as u64, id);
        }
    }
    let samples = numbers(&profile["samples"]);
    let deltas = numbers(&profile["timeDeltas"]);
    // Per function: its self time, and that time per caller.
    let mut spent: HashMap<&str, (f64, HashMap<&str, f64>)> = HashMap::new();
    // A sample's time is the delta to the next one.
    for (i, id) in samples.iter().enumerate() {
        let dt = deltas.get(i + 1).copied().unwrap_or(0.0);
        let id = *id as u64;
        let name = names.get(&id).map_or("(unknown)", String::as_str);
        let caller = parents
            .get(&id)
            .and_then(|p| names.get(p))
            .map_or("", String::as_str);
        let entry = spent.entry(name).or_default();
        entry.0 += dt;
        *entry.1.entry(caller).or_default() += dt;
    }
    let total: f64 = spent.values().map(|(t, _)| t).sum::<f64>().max(1.0);
    let mut top: Vec<(String, f64, String)> = spent
        .into_iter()
        .map(|(name, (t, callers))| {
            let caller = callers
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or("", |(c, _)| c);
            (name.to_owned(), t / total * 100.0, caller.to_owned())
        })
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(n);
    top
}

/// `windows`: each tab in its own window (several screens: every one painting), else tabs of
/// one window (one on screen, the others hidden, which paint nothing).
async fn tabs(share: bool, windows: bool, n: usize, rate: u32, secs: u64) -> Result<Tabs> {
    let h = Harness::start_unrecorded().await?;
    if !share {
        h.set_config(Harness::live_config(h.backend_addr).replace(
            r#"{"token_key""#,
            r#"{"share_across_tabs":false,"token_key""#,
        ))?;
    }
    let token = h.token();
    let mut pages = vec![h.client.window().await?];
    h.open_with_token("/network", &token).await?;
    for _ in 1..n {
        let tab = h.client.new_window(!windows).await?.handle;
        h.client.switch_to_window(tab.clone()).await?;
        h.open_with_token("/network", &token).await?;
        pages.push(tab);
    }
    for tab in &pages {
        h.client.switch_to_window(tab.clone()).await?;
        h.wait_status("network", "connected", Duration::from_secs(10))
            .await?;
    }
    h.endpoint(module("network"))
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connections = Module::all().map(|m| h.report(m).open).sum();
    let mut start = Vec::new();
    for tab in &pages {
        h.client.switch_to_window(tab.clone()).await?;
        h.cdp("Performance.enable", json!({})).await?;
        h.eval(START_WINDOW).await?;
        start.push((task_seconds(&h).await?, frames_in(&h).await?));
    }
    let began = std::time::Instant::now();
    h.fault(
        module("network"),
        Fault::Flood {
            rate,
            duration: Duration::from_secs(secs),
        },
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let mut per_tab = Vec::new();
    for (tab, (task0, in0)) in pages.iter().zip(start) {
        h.client.switch_to_window(tab.clone()).await?;
        let window = h.eval(END_WINDOW).await?;
        let busy = (task_seconds(&h).await? - task0) / began.elapsed().as_secs_f64() * 100.0;
        let counted = settled_frames_in(&h).await?.saturating_sub(in0);
        let (intervals, _) = frame_times(&h, &numbers(&window[0])).await?;
        per_tab.push((percentile(&intervals, 0.95), busy, counted));
    }
    h.client.switch_to_window(pages[0].clone()).await?;
    h.finish().await?;
    Ok(Tabs {
        per_tab,
        connections,
    })
}

/// One reconnect that replays frames the app missed.
struct Replay {
    replayed: u64,
    counted: u64,
    duplicates: u64,
    intervals: Vec<f64>,
    long_frames: f64,
    catch_up_ms: f64,
}

/// The app on `stage.page` loses its feed; while it is down, the backend's world makes
/// `frames` frames; then the feed comes back and replays them (the history holds them all).
/// The window covers the reconnect and the replay.
async fn replay(stage: Stage, frames: usize) -> Result<Replay> {
    let h = Harness::start_with(Options {
        recorded: false,
        world: WorldSettings {
            history_len: frames * 2,
            heartbeat: HEARTBEAT,
            ..WorldSettings::default()
        },
        ..Options::default()
    })
    .await?;
    let token = h.token();
    h.open_with_token(stage.page, &token).await?;
    h.wait_status(stage.module, "connected", Duration::from_secs(10))
        .await?;
    let endpoint = h.endpoint(module(stage.module));
    endpoint
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let in0 = settled_frames_in(&h).await?;
    let dup0 = h.counter("duplicates").await?;
    endpoint.refuse_until.store(
        Harness::now_ms() + 600_000,
        std::sync::atomic::Ordering::Relaxed,
    );
    h.fault(module(stage.module), Fault::Drop);
    let down = std::time::Instant::now();
    while h.status(stage.module).await? == "connected" {
        anyhow::ensure!(
            down.elapsed() < Duration::from_secs(10),
            "the feed never went down"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let head0 = endpoint.world().head();
    // The world goes on: `frames` frames, a millisecond apart, over the last seconds.
    let start = Harness::now_ms().saturating_sub(frames as u64);
    let mut at = start;
    while endpoint.world().head() - head0 < frames as u64 && at < start + 10 * frames as u64 {
        endpoint.generate(1, switchboard_core::Instant::from_millis(at));
        at += 1;
    }
    let replayed = endpoint.world().head() - head0;
    h.eval(START_WINDOW).await?;
    let back = std::time::Instant::now();
    endpoint
        .refuse_until
        .store(0, std::sync::atomic::Ordering::Relaxed);
    h.client
        .find(fantoccini::Locator::XPath(
            "//button[text()='Reconnect now']",
        ))
        .await?
        .click()
        .await?;
    let mut counted = 0;
    while back.elapsed() < Duration::from_secs(60) {
        counted = frames_in(&h).await?.saturating_sub(in0);
        // The replay and the `sync` frame before it.
        if counted > replayed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let catch_up_ms = back.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let window = h.eval(END_WINDOW).await?;
    let raf = numbers(&window[0]);
    let (intervals, long_frames) = frame_times(&h, &raf).await?;
    let duplicates = h.counter("duplicates").await?.saturating_sub(dup0);
    h.finish().await?;
    Ok(Replay {
        replayed,
        // Less the `sync` frame that announced the replay.
        counted: counted.saturating_sub(1),
        duplicates,
        intervals,
        long_frames,
        catch_up_ms,
    })
}

/// Memory at `at.0` and `at.1` seconds into a 1,000 frames/s flood on the network page, and
/// whether every frame was counted.
async fn soak(at: (u64, u64)) -> Result<(f64, f64, bool)> {
    let h = staged(NETWORK).await?;
    let in0 = settled_frames_in(&h).await?;
    let sent0 = h.report(module("network")).frames_sent;
    h.fault(
        module("network"),
        Fault::Flood {
            rate: 1_000,
            duration: Duration::from_secs(at.1),
        },
    );
    tokio::time::sleep(Duration::from_secs(at.0)).await;
    let first = memory_mb(&h).await?;
    eprintln!("bench: soak {} s: {first:.2} MB", at.0);
    tokio::time::sleep(Duration::from_secs(at.1 - at.0)).await;
    let last = memory_mb(&h).await?;
    eprintln!("bench: soak {} s: {last:.2} MB", at.1);
    let counted = settled_frames_in(&h).await?.saturating_sub(in0);
    let sent = h.report(module("network")).frames_sent - sent0;
    h.finish().await?;
    Ok((first, last, counted == sent))
}

/// The flood targets, each judged on the worst row it applies to.
fn flood_targets(
    md: &mut String,
    floods: &[Value],
    met: &dyn Fn(bool) -> &'static str,
) -> Result<()> {
    let num = |f: &Value, key: &str| f.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let worst = |rate: Option<u64>, key: &str| {
        floods
            .iter()
            .filter(|f| rate.is_none_or(|r| f.get("rate").and_then(Value::as_u64) == Some(r)))
            .map(|f| num(f, key))
            .fold(f64::NAN, f64::max)
    };
    let all_counted = floods
        .iter()
        .filter(|f| f.get("rate").and_then(Value::as_u64) == Some(20_000))
        .all(|f| f.get("sent") == f.get("counted"));
    writeln!(md, "| Flood target | Worst row | Result |\n|---|---|---|")?;
    let rows = [
        (
            "5,000/s: frame interval p95 ≤ 17 ms",
            worst(Some(5_000), "p95_ms"),
            17.0,
            "ms",
        ),
        (
            "5,000/s: frames over 50 ms = 0",
            worst(Some(5_000), "over_50ms"),
            0.0,
            "",
        ),
        (
            "5,000/s: arrival to pixels p95 ≤ 25 ms",
            worst(Some(5_000), "to_pixels_p95_ms"),
            25.0,
            "ms",
        ),
        (
            "20,000/s: frame interval p95 ≤ 50 ms",
            worst(Some(20_000), "p95_ms"),
            50.0,
            "ms",
        ),
        (
            "Chart redraw p95 ≤ 4 ms",
            worst(None, "redraw_p95_ms"),
            4.0,
            "ms",
        ),
        (
            "JS heap + wasm ≤ 32 MB",
            worst(None, "memory_mb"),
            32.0,
            "MB",
        ),
    ];
    for (what, value, limit, unit) in rows {
        let shown = if unit.is_empty() {
            format!("{value:.0}")
        } else {
            format!("{value:.1} {unit}")
        };
        writeln!(md, "| {what} | {shown} | {} |", met(value <= limit))?;
    }
    writeln!(
        md,
        "| 20,000/s: every frame counted | {} | {} |\n",
        if all_counted { "all" } else { "some lost" },
        met(all_counted)
    )?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args();
    let dist = std::env::var_os("SWITCHBOARD_E2E_DIST")
        .map(PathBuf::from)
        .context("SWITCHBOARD_E2E_DIST is not set")?;
    let mut md = String::new();
    let mut report = json!({ "commit": a.commit, "runs": a.runs, "flood_secs": a.flood_secs });
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::env::consts::ARCH
    );
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    writeln!(
        md,
        "# Performance\n\nMeasured by `cargo xtask bench` on {date}, commit `{}`, {machine}, headless Chromium.\n",
        a.commit
    )?;
    writeln!(
        md,
        "Figures are medians with the range over {} run(s) in brackets. Targets come from the performance issue; a target that is not met says so.\n",
        a.runs
    )?;

    // Transfer.
    writeln!(
        md,
        "## Transfer size\n\n| File | Raw | gzip | brotli |\n|---|---:|---:|---:|"
    )?;
    let total = transfer_table(&mut md, &dist)?;
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1000.0);
    let met = |ok: bool| if ok { "met" } else { "**unmet**" };
    writeln!(
        md,
        "\nTarget ≤ 100 KB brotli for the whole dist: {}. What makes the wasm large, and what was tried: [SIZE.md](SIZE.md).\n",
        met(total.2 <= 100_000)
    )?;
    report["transfer_brotli_bytes"] = json!(total.2);
    // The React peer (bench/peer: React, Recharts and react-use-websocket with the
    // reference's provider design), built and precompressed in the same run.
    if let Some(peer) = &a.peer {
        writeln!(
            md,
            "The React peer, built in the same run (bench/peer):\n\n| File | Raw | gzip | brotli |\n|---|---:|---:|---:|"
        )?;
        let peer_total = transfer_table(&mut md, peer)?;
        writeln!(
            md,
            "\nSwitchboard / peer, brotli: **{:.2}×** (issue 22's goal: at most 1×, 167 KiB).\n",
            total.2 as f64 / peer_total.2.max(1) as f64
        )?;
        report["peer_transfer_brotli_bytes"] = json!(peer_total.2);
        eprintln!("bench: the React peer {} brotli", kb(peer_total.2));
    }
    eprintln!("bench: transfer {} brotli", kb(total.2));

    if a.measures("boot") {
        // Boot.
        let (mut boots, mut tbts) = (Vec::new(), Vec::new());
        for _ in 0..a.runs.max(3) {
            let (paints, t) = boot().await?;
            eprintln!("bench: boot {paints:?}, TBT {t:.0} ms");
            boots.push(paints);
            tbts.push(t);
        }
        let last = spread(
            boots
                .iter()
                .map(|p| p.iter().map(|(_, t)| *t).fold(0.0, f64::max))
                .collect(),
        );
        let tbt_s = spread(tbts);
        writeln!(
            md,
            "## Boot on loopback\n\nFrom navigation start, on the overview, where every module shows live data.\n\n| Figure | Value | Target |\n|---|---|---|"
        )?;
        let modules = boots.first().map(|p| p.len()).unwrap_or(0);
        for i in 0..modules {
            let name = boots[0][i].0.clone();
            let times = boots
                .iter()
                .filter_map(|p| p.iter().find(|(m, _)| *m == name).map(|(_, t)| *t))
                .collect();
            writeln!(
                md,
                "| First live data painted: {name} | {} | |",
                fmt3(spread(times), "ms")
            )?;
        }
        writeln!(
            md,
            "| First live data painted: the last module | {} | ≤ 500 ms: {} |",
            fmt3(last, "ms"),
            met(last.0 <= 500.0)
        )?;
        writeln!(
            md,
            "| Total Blocking Time until then | {} | ≤ 50 ms: {} |\n",
            fmt3(tbt_s, "ms"),
            met(tbt_s.0 <= 50.0)
        )?;
        report["boot_ms"] = json!(last.0);
        report["tbt_ms"] = json!(tbt_s.0);
    }

    if [NETWORK, SESSIONS].iter().any(|s| a.measures(s.page)) {
        // Floods.
        writeln!(
            md,
            "## Floods ({} s per run)\n\nThe flooding module's page is on screen. Its regular traffic is paused during the window, so every frame in it is a flood frame.\n",
            a.flood_secs
        )?;
        writeln!(
            md,
            "| Page | Requested | Achieved | Sent | Counted by the app | Frame interval p50 / p95 / max | Frames over 50 ms | Long animation frames | Arrival to drawn p50 / p95 | Arrival to pixels p50 / p95 | Chart redraw p50 / p95 | JS heap + wasm |"
        )?;
        writeln!(
            md,
            "|---|---:|---:|---:|---:|---|---:|---:|---|---|---|---:|"
        )?;
        let plan = [
            (NETWORK, 100u32),
            (NETWORK, 1_000),
            (NETWORK, 5_000),
            (NETWORK, 20_000),
            (SESSIONS, 5_000),
            (SESSIONS, 20_000),
        ];
        let mut floods = Vec::new();
        let wanted = |stage: &Stage| a.measures(stage.page);
        for (stage, rate) in plan.into_iter().filter(|(stage, _)| wanted(stage)) {
            let mut runs = Vec::new();
            for _ in 0..a.runs {
                let f = flood(stage, rate, a.flood_secs).await?;
                eprintln!(
                    "bench: {} flood {rate}/s: sent {} counted {}, p95 {:.1} ms, to pixels p95 {:.1} ms, redraw p95 {:.2} ms",
                    stage.page,
                    f.sent,
                    f.counted,
                    percentile(&f.intervals, 0.95),
                    percentile(&f.to_pixels, 0.95),
                    percentile(&f.draws, 0.95),
                );
                runs.push(f);
            }
            let med = |f: &dyn Fn(&Flood) -> f64| spread(runs.iter().map(f).collect());
            let p50 = med(&|f| percentile(&f.intervals, 0.5));
            let p95 = med(&|f| percentile(&f.intervals, 0.95));
            let max = med(&|f| f.intervals.last().copied().unwrap_or(f64::NAN));
            let over = med(&|f| f.intervals.iter().filter(|i| **i > 50.0).count() as f64);
            let loaf = med(&|f| f.long_frames);
            let drawn50 = med(&|f| percentile(&f.to_drawn, 0.5));
            let drawn95 = med(&|f| percentile(&f.to_drawn, 0.95));
            let px50 = med(&|f| percentile(&f.to_pixels, 0.5));
            let px95 = med(&|f| percentile(&f.to_pixels, 0.95));
            let draw50 = med(&|f| percentile(&f.draws, 0.5));
            let draw95 = med(&|f| percentile(&f.draws, 0.95));
            let mem = med(&|f| f.memory_mb);
            let sent: u64 = runs.iter().map(|f| f.sent).sum();
            let counted: u64 = runs.iter().map(|f| f.counted).sum();
            writeln!(
                md,
                "| {} | {rate}/s | {:.0}/s | {sent} | {counted}{} | {:.1} / {:.1} / {:.1} ms | {:.0} | {:.0} | {:.1} / {} | {:.1} / {} | {:.2} / {:.2} ms | {:.1} MB |",
                stage.what,
                sent as f64 / (a.flood_secs as f64 * runs.len() as f64),
                if counted == sent { "" } else { " (**lost**)" },
                p50.0,
                p95.0,
                max.0,
                over.0,
                loaf.0,
                drawn50.0,
                fmt3(drawn95, "ms"),
                px50.0,
                fmt3(px95, "ms"),
                draw50.0,
                draw95.0,
                mem.0
            )?;
            floods.push(
                json!({ "page": stage.page, "rate": rate, "sent": sent, "counted": counted,
                "p50_ms": p50.0, "p95_ms": p95.0, "max_ms": max.0, "over_50ms": over.0,
                "long_animation_frames": loaf.0, "to_drawn_p50_ms": drawn50.0, "to_drawn_p95_ms": drawn95.0, "to_pixels_p50_ms": px50.0, "to_pixels_p95_ms": px95.0,
                "redraw_p50_ms": draw50.0, "redraw_p95_ms": draw95.0, "memory_mb": mem.0 }),
            );
        }
        report["floods"] = json!(floods.clone());
        writeln!(
            md,
            "\nAchieved = flood frames sent per second of flood; the devserver's 10 ms ticks catch up after a late tick, so it can exceed the request. Latency is measured per chart redraw, for the oldest frame that redraw newly shows (the worst wait in its batch), from the moment the app recorded the frame: *to drawn* ends when the canvas draw ends, which is the app's part; *to pixels* ends at the first animation frame after that: the chart draws inside an animation-frame callback, so by the next one the browser has presented the drawing; this adds the browser's pipeline. Redraws are coalesced to one per animation frame, so a frame that arrives just after a redraw waits up to one frame interval to be drawn, and the browser presents that drawing about one interval later: by this measure the oldest frame of a batch takes close to two intervals (33 ms at 60 Hz) to reach the screen, of which the app's part is the first. Drawing each frame as it arrives would not help, since the canvas is committed with the next frame either way. Chart redraw is the plotters draw of one chart, in the page.\n"
        )?;
        flood_targets(&mut md, &floods, &met)?;

        // Replay on reconnect.
        writeln!(
            md,
            "## Replay on reconnect ({REPLAYED} frames)\n\nThe module's page is on screen; the feed drops, the backend's world makes {REPLAYED} frames while reconnects are refused, then the feed returns and the backend replays them. The window covers the reconnect and the replay.\n\n| Page | Replayed | Counted by the app | Duplicates | Frame interval p50 / p95 / max | Frames over 50 ms | Long animation frames | Back to caught up |\n|---|---:|---:|---:|---|---:|---:|---:|"
        )?;
        let mut replays = Vec::new();
        for stage in [NETWORK, SESSIONS].into_iter().filter(|s| wanted(s)) {
            let r = replay(stage, REPLAYED).await?;
            let max = r.intervals.last().copied().unwrap_or(f64::NAN);
            let over = r.intervals.iter().filter(|i| **i > 50.0).count();
            eprintln!(
                "bench: {} replay of {}: counted {}, duplicates {}, max frame {max:.1} ms",
                stage.page, r.replayed, r.counted, r.duplicates
            );
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} / {:.1} / {max:.1} ms | {over} | {:.0} | {:.1} s |",
                stage.what,
                r.replayed,
                r.counted,
                r.duplicates,
                percentile(&r.intervals, 0.5),
                percentile(&r.intervals, 0.95),
                r.long_frames,
                r.catch_up_ms / 1000.0
            )?;
            replays.push(
                json!({ "page": stage.page, "replayed": r.replayed, "counted": r.counted,
                "duplicates": r.duplicates, "max_ms": max, "over_50ms": over,
                "p95_ms": percentile(&r.intervals, 0.95), "catch_up_ms": r.catch_up_ms }),
            );
        }
        writeln!(
            md,
            "\nTarget: every frame of the replay under 50 ms (the app applies what arrives and renders once per animation frame), no duplicates, every replayed frame counted.\n"
        )?;
        report["replays"] = json!(replays);
    }

    // The mobile profile's boot, side by side with the React peer.
    if let Some(peer) = a.peer.clone().filter(|_| a.measures("mobile")) {
        writeln!(
            md,
            "## Boot under the mobile profile, side by side with the React peer\n\nLighthouse's mobile profile through CDP: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, 4× CPU slowdown, cache off; both apps behind the same nginx with their precompressed files, loading `/` (every module). Time is from navigation start to the network module's first live data painted (the same `performance` mark in both apps); bytes are the page's and its resources' `transferSize` until then. Both are served their brotli copies (the bytes transferred are the brotli sizes). Then when anything was first painted (first contentful paint), and when the page, the code (JS and wasm) and `config.json` had arrived.\n\n| App | First live data painted | Bytes transferred until then | First paint | Page | Code | config.json |\n|---|---|---|---:|---:|---:|---:|"
        )?;
        // Per app, per figure, the runs.
        let mut runs: [[Vec<f64>; 6]; 2] = Default::default();
        for _ in 0..a.runs.max(3) {
            for (app, dist) in [None, Some(peer.clone())].into_iter().enumerate() {
                let boot = mobile_boot(dist).await?;
                eprintln!(
                    "bench: mobile boot {}: first live paint {:.0} ms, {:.1} KB; page {:.0}, code {:.0}, config.json {:.0}, first paint {:.0} ms",
                    ["ours", "the peer's"][app],
                    boot[0],
                    boot[1] / 1000.0,
                    boot[2],
                    boot[3],
                    boot[4],
                    boot[5]
                );
                for (figure, value) in boot.into_iter().enumerate() {
                    runs[app][figure].push(if figure == 1 { value / 1000.0 } else { value });
                }
            }
        }
        let [ours, theirs] = runs.map(|figures| figures.map(spread));
        for (app, f) in [("Switchboard", &ours), ("React peer", &theirs)] {
            writeln!(
                md,
                "| {app} | {} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
                fmt3(f[0], "ms"),
                fmt3(f[1], "KB"),
                f[5].0,
                f[2].0,
                f[3].0,
                f[4].0
            )?;
        }
        let (o, p, ob, pb) = (ours[0], theirs[0], ours[1], theirs[1]);
        writeln!(
            md,
            "\nPeer / Switchboard: **{:.2}×** (issue 22's goal: at least 1.5×).\n",
            p.0 / o.0
        )?;
        report["mobile_boot"] =
            json!({ "ours_ms": o.0, "peer_ms": p.0, "ours_kb": ob.0, "peer_kb": pb.0 });
    }

    // A slow laptop: 4× CPU slowdown at 1,000 frames/s, side by side with the React peer
    // (or ours alone, without `--peer`, for quick before-and-after figures).
    if a.measures("throttle") {
        let mut apps = vec![("Switchboard", None)];
        apps.extend(a.peer.clone().map(|p| ("React peer", Some(p))));
        writeln!(
            md,
            "## 1,000 frames/s under a 4× CPU slowdown{} ({} s)\n\nChromium's CPU throttling (CDP `Emulation.setCPUThrottlingRate` 4) while the page's module floods; frames painted per second and their interval p95 from `requestAnimationFrame`, main-thread busy from CDP `TaskDuration`, and of it script (`ScriptDuration`) and style and layout (`RecalcStyleDuration` + `LayoutDuration`); the rest is paint, compositing and garbage collection. The heap is the JS heap and the wasm memory after a forced collection, before and after the flood; frames counted compares our app's count with the frames the backend sent (the peer shows none). Medians of {} run(s).\n\n| Page | App | Frames painted per second | Frame interval p95 | Main-thread busy | of it script | style and layout | Heap before → after | Every frame counted |\n|---|---|---:|---:|---:|---:|---:|---|---|",
            if a.peer.is_some() {
                ", side by side with the React peer"
            } else {
                ""
            },
            a.flood_secs,
            a.runs
        )?;
        let mut rows = Vec::new();
        for stage in [NETWORK, SESSIONS] {
            for (app, dist) in &apps {
                let mut runs = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let (mut heaps, mut counted) = ((Vec::new(), Vec::new()), Vec::new());
                for _ in 0..a.runs {
                    let t = throttled(&stage, dist.clone(), 1_000, a.flood_secs, false).await?;
                    eprintln!(
                        "bench: 4x CPU {} {app}: {:.0} fps, p95 {:.1} ms, busy {:.0} % (script {:.0} %, style and layout {:.0} %)",
                        stage.page,
                        t.fps,
                        t.p95,
                        t.busy.task,
                        t.busy.script,
                        t.busy.style + t.busy.layout
                    );
                    runs.0.push(t.fps);
                    runs.1.push(t.p95);
                    runs.2.push(t.busy.task);
                    runs.3.push(t.busy.script);
                    runs.4.push(t.busy.style + t.busy.layout);
                    heaps.0.push(t.heap_mb.0);
                    heaps.1.push(t.heap_mb.1);
                    counted.extend(t.all_counted);
                }
                let heap = (spread(heaps.0).0, spread(heaps.1).0);
                let counted = match counted.is_empty() {
                    true => "—",
                    false if counted.iter().all(|c| *c) => "yes",
                    false => "**no**",
                };
                let (fps, p95, busy) = (spread(runs.0), spread(runs.1), spread(runs.2));
                let (script, render) = (spread(runs.3), spread(runs.4));
                writeln!(
                    md,
                    "| {} | {app} | {:.0} | {:.1} ms | {:.0} % | {:.0} % | {:.0} % | {:.1} → {:.1} MB | {counted} |",
                    stage.what, fps.0, p95.0, busy.0, script.0, render.0, heap.0, heap.1
                )?;
                rows.push(json!({ "page": stage.page, "app": app, "fps": fps.0, "p95_ms": p95.0, "busy_pct": busy.0, "script_pct": script.0, "style_layout_pct": render.0, "heap_mb": [heap.0, heap.1], "all_counted": counted }));
            }
        }
        // Frames painted per second, ours over the peer's, per page (rows come in pairs then).
        let ratios: Vec<String> = rows
            .chunks(apps.len())
            .filter_map(|pair| match pair {
                [ours, peer] => Some(format!(
                    "{} {:.2}×",
                    ours["page"].as_str().unwrap_or_default(),
                    ours["fps"].as_f64().unwrap_or(f64::NAN)
                        / peer["fps"].as_f64().unwrap_or(f64::NAN)
                )),
                _ => None,
            })
            .collect();
        if !ratios.is_empty() {
            writeln!(
                md,
                "\nSwitchboard / peer, frames painted per second: {}.",
                ratios.join(", ")
            )?;
        }
        writeln!(
            md,
            "\nGoal (issue 22): 60 fps on both pages, nothing lost, the heap flat.\n"
        )?;
        report["throttled"] = json!(rows);
    }

    // Where the time goes under the same load: a CDP profile of our app (`--only profile`;
    // the profiler's own cost makes these runs unfit for the table above).
    if a.measures("profile") {
        for stage in [NETWORK, SESSIONS] {
            let t = throttled(&stage, None, 1_000, a.flood_secs, true).await?;
            // Beside the JSON report, for DevTools' Performance panel (load either file).
            if let Some((profile, events)) = &t.raw {
                let name = stage.page.trim_start_matches('/');
                std::fs::write(
                    a.json.with_file_name(format!("profile-{name}.cpuprofile")),
                    profile.to_string(),
                )?;
                std::fs::write(
                    a.json.with_file_name(format!("trace-{name}.json")),
                    json!({ "traceEvents": events }).to_string(),
                )?;
            }
            writeln!(
                md,
                "## Profile: {}, 1,000 frames/s under a 4× CPU slowdown ({} s)\n\nCDP `Profiler` (200 µs sampling) over the flood; self time per function as a share of the sampled time, and the caller most of it came through. {:.0} fps, busy {:.0} % (script {:.0} %, style and layout {:.0} %); per painted frame, {:.1} style recalculations and {:.1} layouts.\n\n| Function | Self time | Mostly called from |\n|---|---:|---|",
                stage.what,
                a.flood_secs,
                t.fps,
                t.busy.task,
                t.busy.script,
                t.busy.style + t.busy.layout,
                t.busy.styles / (t.fps * a.flood_secs as f64),
                t.busy.layouts / (t.fps * a.flood_secs as f64)
            )?;
            for (name, pct, caller) in &t.top {
                let clean = |s: &str| s.replace('|', "\\|");
                writeln!(
                    md,
                    "| `{}` | {pct:.1} % | `{}` |",
                    clean(name),
                    clean(caller)
                )?;
            }
            writeln!(
                md,
                "\nThe same flood's DevTools trace (`{TRACE_CATEGORIES}`): the main thread's events with the most self time, per painted frame (16.7 ms is one frame at 60 fps), over the first {:.1} s (the trace buffer's reach). Both recordings are beside the JSON report (`profile-<page>.cpuprofile`, `trace-<page>.json`), for DevTools' Performance panel.\n\n| Trace event | Self time per painted frame |\n|---|---:|",
                t.traced_secs
            )?;
            for (name, ms) in &t.trace {
                writeln!(md, "| `{name}` | {ms:.2} ms |")?;
            }
            writeln!(md)?;
        }
    }

    // Five tabs.
    if a.measures("tabs") {
        const TABS: usize = 5;
        writeln!(
            md,
            "## Five tabs at 1,000 frames/s ({} s)\n\nFive tabs of one browser on the network page, the network module flooding. With sharing (the default), one tab holds each module's connection and relays it to the others (docs/SHARING.md); without, each tab connects on its own. Busy is each tab's main-thread task time over the window (CDP `TaskDuration`); the first tab is the one that holds the connection when shared. Frame intervals are those of tabs on screen (a hidden tab paints nothing). All of it on the machine's 2 cores, with the backend and the browser's own processes.\n\n| Layout | Sharing | Backend connections (4 modules) | Frame interval p95 per tab | Worst p95 on screen | Main-thread busy per tab | Frames counted per tab |\n|---|---|---:|---|---:|---|---|",
            a.flood_secs
        )?;
        let mut rows = Vec::new();
        for (windows, share) in [(false, true), (false, false), (true, true), (true, false)] {
            let t = tabs(share, windows, TABS, 1_000, a.flood_secs).await?;
            // A hidden tab paints nothing: it has no frame intervals to speak of.
            let painted = |p: &(f64, f64, u64)| p.0 < 1_000.0;
            let list = |f: &dyn Fn(&(f64, f64, u64)) -> String| {
                t.per_tab.iter().map(f).collect::<Vec<_>>().join(" / ")
            };
            let worst = t
                .per_tab
                .iter()
                .filter(|p| painted(p))
                .map(|p| p.0)
                .fold(0.0, f64::max);
            let layout = if windows {
                "5 windows (all on screen)"
            } else {
                "5 tabs of one window (1 on screen)"
            };
            eprintln!(
                "bench: {layout}, sharing {share}: {} connections, worst p95 {worst:.1} ms",
                t.connections
            );
            writeln!(
                md,
                "| {layout} | {} | {} | {} ms | {worst:.1} ms | {} % | {} |",
                if share { "on" } else { "off" },
                t.connections,
                list(&|p| if painted(p) {
                    format!("{:.1}", p.0)
                } else {
                    "hidden".to_owned()
                }),
                list(&|p| format!("{:.0}", p.1)),
                list(&|p| p.2.to_string()),
            )?;
            rows.push(json!({ "windows": windows, "share": share, "connections": t.connections, "worst_p95_ms": worst,
                "per_tab": t.per_tab.iter().map(|p| json!({"p95_ms": p.0, "busy_pct": p.1, "counted": p.2})).collect::<Vec<_>>() }));
        }
        writeln!(
            md,
            "\nTargets: the five tabs cost the backend 4 connections with sharing (20 without); no tab's frame interval p95 over 17 ms.\n"
        )?;
        report["tabs"] = json!(rows);
    }

    // Soak (not in `--only` runs: it takes ten minutes).
    if a.only.is_none() {
        let (first, last, all_counted) = soak(a.soak).await?;
        let growth = (last - first) / first * 100.0;
        writeln!(
            md,
            "## Soak: 1,000 frames/s on the network page\n\n| Figure | Value | Target |\n|---|---|---|"
        )?;
        writeln!(
            md,
            "| JS heap + wasm at {} s | {first:.2} MB | ≤ 32 MB: {} |",
            a.soak.0,
            met(first <= 32.0)
        )?;
        writeln!(
            md,
            "| JS heap + wasm at {} s | {last:.2} MB | ≤ 32 MB: {} |",
            a.soak.1,
            met(last <= 32.0)
        )?;
        writeln!(
            md,
            "| Growth between them | {growth:+.1} % | < 5 %: {} |",
            met(growth < 5.0)
        )?;
        writeln!(
            md,
            "| Every frame counted | {} | yes: {} |\n\nOne run; the heap is read after a forced collection (`--js-flags=--expose-gc`, `--enable-precise-memory-info`).\n",
            if all_counted { "yes" } else { "no" },
            met(all_counted)
        )?;
        report["soak"] = json!({ "at_s": [a.soak.0, a.soak.1], "mb": [first, last], "growth_pct": growth, "all_counted": all_counted });
    }

    // Native figures.
    if let Some(path) = &a.native {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        writeln!(
            md,
            "## Native figures (`cargo bench -p switchboard-core -p switchboard-kit`)\n\n```"
        )?;
        for line in text.lines().filter(|l| l.contains(" runs)")) {
            writeln!(md, "{line}")?;
        }
        writeln!(md, "```\n")?;
    }

    // The gateway under load (`cargo bench -p switchboard-gateway --bench load`).
    if let Some(path) = &a.gateway {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        writeln!(
            md,
            "## The gateway under load (`cargo bench -p switchboard-gateway --bench load`)\n\n\
             1,000 WebSocket clients of the network module (on one node, or 500 on each of two),\n\
             a publisher raising its rate every 5 s through `POST /publish` until fewer than\n\
             95 % of the frames owed arrive or p99 passes 200 ms. The gateway is the release\n\
             binary in its own process (CPU and memory from `/proc`); the clients, the publisher\n\
             and NATS share the same 2 cores. Target: 25,000 frames/s delivered per node at\n\
             p99 ≤ 200 ms (Centrifugo's per-pod figure).\n\n```"
        )?;
        for line in text
            .lines()
            .filter(|l| l.contains("/s ") || l.starts_with("broker"))
        {
            writeln!(md, "{line}")?;
        }
        writeln!(md, "```\n")?;
    }

    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, md)?;
    if let Some(dir) = a.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.json, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {} and {}", a.out.display(), a.json.display());
    Ok(())
}
