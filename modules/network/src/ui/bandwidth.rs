//! `LiveBandwidthChart`: the reference's example component. Upload and download in Mbps,
//! latency in ms, with current, average and peak figures, over a bounded window.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::{Frame, Instant};
use switchboard_kit::WsHandle;
use switchboard_kit::chart::model::{Figures, figures};
use switchboard_kit::chart::{History, Sample, SeriesSpec, Threshold, TimeSeriesChart};
use switchboard_kit::handle::now;
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::{Store, use_store};
use yew::prelude::*;

use crate::data::{BANDWIDTH_UPDATE, BandwidthData, NETWORK_STATUS, NetworkStatus};
use crate::sim::BANDWIDTH_INTERVAL;

const RATES: &[SeriesSpec] = &[
    SeriesSpec {
        label: "Download",
        color: 1,
    },
    SeriesSpec {
        label: "Upload",
        color: 2,
    },
];
const LATENCY: &[SeriesSpec] = &[SeriesSpec {
    label: "Latency",
    color: 3,
}];
const LATENCY_SLA: &[Threshold] = &[Threshold {
    value: 50.0,
    label: "Latency SLA 50 ms",
}];

/// Points the store keeps for each chart: the reference's 50, 100 s at 2 s.
pub const POINTS: usize = 50;

/// The network module's state: the two chart histories and the latest health report.
#[derive(Debug)]
pub struct NetworkState {
    /// Download and upload, Mbps.
    pub rates: History,
    /// Latency, ms.
    pub latency: History,
    /// Bandwidth updates folded in.
    pub bandwidth_seen: u64,
    /// The latest `network_status`.
    pub health: Option<NetworkStatus>,
}

impl NetworkState {
    fn new() -> Self {
        Self {
            rates: History::new(POINTS, None),
            latency: History::new(POINTS, None),
            bandwidth_seen: 0,
            health: None,
        }
    }
}

fn on_bandwidth(s: &mut NetworkState, b: BandwidthData, frame: &Frame) {
    // Drawn at the time it was sampled (a replay after an outage fills the outage), held
    // to the arrival time at the latest.
    let arrived = now();
    let taken = Instant::parse_rfc3339(&b.timestamp)
        .or(frame.timestamp())
        .unwrap_or(arrived);
    let p = frame.provenance();
    s.rates.record_taken(
        taken,
        arrived,
        Sample::new(&[b.download_mbps, b.upload_mbps], p),
    );
    s.latency
        .record_taken(taken, arrived, Sample::new(&[b.latency_ms], p));
    s.bandwidth_seen = s.bandwidth_seen.saturating_add(1);
}

fn on_status(s: &mut NetworkState, status: NetworkStatus, _: &Frame) {
    s.health = Some(status);
}

/// The network store, beside the connection for its whole life (see
/// `switchboard_kit::store`).
pub fn store(handle: &WsHandle) -> Store<NetworkState> {
    Store::new(NetworkState::new)
        .fold(handle, BANDWIDTH_UPDATE, on_bandwidth)
        .fold(handle, NETWORK_STATUS, on_status)
}

/// Props of [`LiveBandwidthChart`].
#[derive(Properties, PartialEq, Debug)]
pub struct LiveBandwidthChartProps {
    /// The window shown, in points (at most the [`POINTS`] the store keeps).
    #[prop_or(POINTS)]
    pub points: usize,
    /// Chart height in CSS pixels.
    #[prop_or(200)]
    pub height: u32,
}

fn figure(label: &str, unit: &str, f: Option<Figures>) -> Html {
    let show = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into());
    html! {
        <div class="figure">
            <span class="label">{ label }</span>
            <span class="now"><b>{ show(f.map(|f| f.current)) }</b>{ " " }{ unit }</span>
            <span class="more">{ format!("avg {} · peak {}", show(f.map(|f| f.average)), show(f.map(|f| f.peak))) }</span>
        </div>
    }
}

/// See the module docs. Render it inside the network module's provider.
#[styled_component]
pub fn LiveBandwidthChart(props: &LiveBandwidthChartProps) -> Html {
    let points = props.points.clamp(2, POINTS);
    let view = use_store(store);
    let (h, provenance) = view.pick(|s| s.bandwidth_seen > 0);
    let window = BANDWIDTH_INTERVAL
        .mul_f64(points as f64 - 1.0)
        .max(Duration::from_secs(10));
    let (down, up, latency) = {
        let rates = h.rates.ring();
        (
            figures(&rates, 0),
            figures(&rates, 1),
            figures(&h.latency.ring(), 0),
        )
    };
    // A few missed updates are an outage: drawn as a gap, not a line across it.
    let gap = (BANDWIDTH_INTERVAL * 3).as_secs_f64();
    let style = css!(
        "display:grid; gap:16px;
         .figures { display:flex; flex-wrap:wrap; gap:12px 32px; }
         .figure { display:flex; flex-direction:column; }
         .label { font-size:12px; color:var(--sb-muted); text-transform:uppercase; letter-spacing:.04em; }
         .now b { font-size:22px; font-variant-numeric:tabular-nums; }
         .more { font-size:12px; color:var(--sb-muted); font-variant-numeric:tabular-nums; }"
    );
    html! {
        <section class={style} data-testid="bandwidth" aria-label="Live bandwidth" data-provenance={provenance.as_str()}>
            <div class="figures">
                { figure("Download", "Mbps", down) }
                { figure("Upload", "Mbps", up) }
                { figure("Latency", "ms", latency) }
                <SourceTag {provenance} live_at={view.live_at()} />
            </div>
            <TimeSeriesChart title="Bandwidth" unit="Mbps" series={RATES} history={h.rates.clone()}
                             version={view.version()} outages={view.outages()} window_secs={window.as_secs_f64()} gap_secs={gap} height={props.height} />
            <TimeSeriesChart title="Latency" unit="ms" series={LATENCY} history={h.latency.clone()}
                             version={view.version()} outages={view.outages()} window_secs={window.as_secs_f64()} gap_secs={gap}
                             thresholds={LATENCY_SLA} height={props.height * 3 / 5} />
        </section>
    }
}
