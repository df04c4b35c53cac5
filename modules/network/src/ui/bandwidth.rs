//! `LiveBandwidthChart`: the reference's example component. Upload and download in Mbps,
//! latency in ms, with current, average and peak figures, over a bounded window.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::{Frame, Provenance};
use switchboard_kit::chart::model::{Figures, figures};
use switchboard_kit::chart::{History, Sample, SeriesSpec, Threshold, TimeSeriesChart};
use switchboard_kit::handle::now;
use switchboard_kit::hooks::use_channel_fold;
use yew::prelude::*;

use crate::data::{BANDWIDTH_UPDATE, BandwidthData};
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

/// The histories behind the two charts.
#[derive(Debug)]
pub struct BandwidthHistory {
    /// Download and upload, Mbps.
    pub rates: History,
    /// Latency, ms.
    pub latency: History,
}

fn fold(h: &mut BandwidthHistory, b: BandwidthData, frame: &Frame) {
    let (at, p) = (now(), frame.provenance());
    h.rates
        .record(at, Sample::new(&[b.download_mbps, b.upload_mbps], p));
    h.latency.record(at, Sample::new(&[b.latency_ms], p));
}

/// Props of [`LiveBandwidthChart`].
#[derive(Properties, PartialEq, Debug)]
pub struct LiveBandwidthChartProps {
    /// Points kept (the reference keeps 50, which is 100 s at 2 s).
    #[prop_or(50)]
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
    let points = props.points.max(2);
    let history = use_channel_fold(
        BANDWIDTH_UPDATE,
        || BandwidthHistory {
            rates: History::new(points, None),
            latency: History::new(points, None),
        },
        fold,
    );
    let window = BANDWIDTH_INTERVAL
        .mul_f64(points as f64 - 1.0)
        .max(Duration::from_secs(10));
    let h = history.borrow();
    let (down, up, latency) = {
        let rates = h.rates.ring();
        (
            figures(&rates, 0),
            figures(&rates, 1),
            figures(&h.latency.ring(), 0),
        )
    };
    let simulated = h
        .rates
        .ring()
        .last()
        .is_some_and(|(_, s)| s.provenance == Provenance::Simulated);
    let style = css!(
        "display:grid; gap:16px;
         .figures { display:flex; flex-wrap:wrap; gap:12px 32px; }
         .figure { display:flex; flex-direction:column; }
         .label { font-size:12px; color:var(--sb-muted); text-transform:uppercase; letter-spacing:.04em; }
         .now b { font-size:22px; font-variant-numeric:tabular-nums; }
         .more { font-size:12px; color:var(--sb-muted); font-variant-numeric:tabular-nums; }
         .sim { font-size:12px; font-weight:600; color:var(--sb-warn); }"
    );
    html! {
        <section class={style} data-testid="bandwidth" aria-label="Live bandwidth">
            <div class="figures">
                { figure("Download", "Mbps", down) }
                { figure("Upload", "Mbps", up) }
                { figure("Latency", "ms", latency) }
                if simulated { <span class="sim">{ "simulated" }</span> }
            </div>
            <TimeSeriesChart title="Bandwidth" unit="Mbps" series={RATES} history={h.rates.clone()}
                             version={history.version()} window_secs={window.as_secs_f64()} height={props.height} />
            <TimeSeriesChart title="Latency" unit="ms" series={LATENCY} history={h.latency.clone()}
                             version={history.version()} window_secs={window.as_secs_f64()}
                             thresholds={LATENCY_SLA} height={props.height * 3 / 5} />
        </section>
    }
}
