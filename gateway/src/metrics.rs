//! `GET /metrics`, in the Prometheus text format, rendered by `metrics-exporter-prometheus`.
//!
//! The counters live where the work happens (each endpoint's [`Report`], the publish route,
//! the broker); a scrape copies them into a recorder of its own and renders it, so the
//! figures are never counted twice and nothing global is installed.
//!
//! | Metric | Labels | Meaning |
//! |---|---|---|
//! | `switchboard_connections` | `module` | sockets open now |
//! | `switchboard_connections_total` | `module` | sockets accepted |
//! | `switchboard_frames_delivered_total` | `module` | frames sent to clients, every kind |
//! | `switchboard_replays_total` | `module` | answers that replayed the history |
//! | `switchboard_snapshots_total` | `module` | answers that sent a snapshot |
//! | `switchboard_resyncs_total` | `module` | `resync` requests answered |
//! | `switchboard_slow_clients_closed_total` | `module` | sockets closed with 4008 |
//! | `switchboard_auth_failures_total` | `module`, `reason` | refused auth frames |
//! | `switchboard_connections_refused_total` | `module` | upgrades refused (origin, limits) |
//! | `switchboard_feed_head` | `module` | the feed's latest position |
//! | `switchboard_published_frames_total` | | frames taken by `POST /publish` |
//! | `switchboard_publish_refused_total` | | `POST /publish` requests refused |
//! | `switchboard_broker_reconnects_total` | | broker connections re-established |
//!
//! [`Report`]: crate::endpoint::Report

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics::{counter, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::Gateway;
use crate::broker::Broker;
use crate::publish::Publisher;

/// What a scrape reads.
#[derive(Clone, Debug)]
pub struct Scrape {
    /// The endpoints.
    pub gateway: Gateway,
    /// The broker.
    pub broker: Broker,
    /// The publish route.
    pub publisher: Publisher,
}

/// The text of one scrape.
pub fn render(scrape: &Scrape) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        for endpoint in scrape.gateway.endpoints() {
            let module = endpoint.module.name();
            let r = endpoint.report();
            gauge!("switchboard_connections", "module" => module).set(r.open as f64);
            counter!("switchboard_connections_total", "module" => module).absolute(r.connections);
            counter!("switchboard_frames_delivered_total", "module" => module)
                .absolute(r.frames_sent + r.heartbeats);
            counter!("switchboard_replays_total", "module" => module).absolute(r.replays);
            counter!("switchboard_snapshots_total", "module" => module).absolute(r.snapshots);
            counter!("switchboard_resyncs_total", "module" => module).absolute(r.resyncs);
            counter!("switchboard_slow_clients_closed_total", "module" => module)
                .absolute(r.slow_closed);
            counter!("switchboard_connections_refused_total", "module" => module)
                .absolute(r.refused);
            for (reason, n) in &r.auth_failures {
                counter!("switchboard_auth_failures_total", "module" => module, "reason" => *reason)
                    .absolute(*n);
            }
            gauge!("switchboard_feed_head", "module" => module).set(endpoint.feed().head() as f64);
        }
        let stats = scrape.publisher.stats();
        counter!("switchboard_published_frames_total")
            .absolute(stats.frames.load(Ordering::Relaxed));
        counter!("switchboard_publish_refused_total")
            .absolute(stats.refused.load(Ordering::Relaxed));
        counter!("switchboard_broker_reconnects_total").absolute(scrape.broker.reconnects());
    });
    handle.render()
}

/// `GET /metrics`.
pub async fn serve(State(scrape): State<Scrape>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&scrape),
    )
}
