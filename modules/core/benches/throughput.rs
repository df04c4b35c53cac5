//! Decode and dispatch throughput, printed as frames per second.
//!
//! Run with `cargo bench -p switchboard-core`. Each figure is the median of several runs,
//! with the spread, because these machines are noisy.

use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant as Clock;

use switchboard_core::payload::{BANDWIDTH_UPDATE, SESSION_UPDATE};
use switchboard_core::subscriptions::{Pattern, Subscriptions};
use switchboard_core::{Command, Config, Connection, Event, Frame, Instant, SocketId};

const BANDWIDTH: &str = r#"{"type":"bandwidth_update","data":{"timestamp":"2025-10-16T12:00:00Z","upload_mbps":75.5,"download_mbps":150.2,"latency_ms":15},"timestamp":"2025-10-16T12:00:00Z"}"#;
const SESSION: &str = r#"{"type":"session_update","data":{"action":"update","session":{"session_id":"sess_abc123","username":"user@example.com","ip_address":"10.0.0.101","nas_ip_address":"10.1.1.1","upload_bytes":1048576,"download_bytes":5242880,"session_time_seconds":3600,"last_update":"2025-10-16T12:00:00Z"}},"timestamp":"2025-10-16T12:00:00Z"}"#;

type Handler = Rc<dyn Fn(&Frame) -> f64>;

fn open_connection() -> Connection {
    let config = Config {
        channels: vec!["bandwidth_update", "session_update"],
        ..Config::default()
    };
    Connection::decoder(config)
}

/// Frames per second through handle → poll → every matching subscriber decoding its type.
fn measure(text: &str, subs: &Subscriptions<Handler>, frames: u32) -> f64 {
    let mut conn = open_connection();
    let now = Instant::from_millis(1);
    let start = Clock::now();
    for _ in 0..frames {
        conn.handle(
            now,
            Event::Text {
                socket: SocketId(0),
                text,
            },
        );
        while let Some(cmd) = conn.poll() {
            if let Command::Deliver(frame) = cmd {
                for (_, handler) in subs.matching(frame.channel()) {
                    black_box(handler(&frame));
                }
            }
        }
    }
    f64::from(frames) / start.elapsed().as_secs_f64()
}

fn report(name: &str, mut runs: Vec<f64>) {
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    let (lo, hi) = (runs[0], runs[runs.len() - 1]);
    println!(
        "{name:<44} {:>10.0} frames/s   (min {:.0}, max {:.0}, {} runs)",
        median,
        lo,
        hi,
        runs.len()
    );
}

fn main() {
    const RUNS: usize = 7;
    const FRAMES: u32 = 200_000;

    let mut subs: Subscriptions<Handler> = Subscriptions::new();
    subs.subscribe(
        Pattern::parse("bandwidth_update"),
        Rc::new(|f: &Frame| {
            BANDWIDTH_UPDATE
                .decode(f)
                .map(|b| b.download_mbps)
                .unwrap_or(0.0)
        }),
    );
    report(
        "bandwidth_update, 1 typed subscriber",
        (0..RUNS)
            .map(|_| measure(BANDWIDTH, &subs, FRAMES))
            .collect(),
    );

    for n in [1, 10, 100] {
        let mut subs: Subscriptions<Handler> = Subscriptions::new();
        for _ in 0..n {
            subs.subscribe(
                Pattern::parse("session_update"),
                Rc::new(|f: &Frame| {
                    SESSION_UPDATE
                        .decode(f)
                        .map(|u| u.session.download_bytes as f64)
                        .unwrap_or(0.0)
                }),
            );
        }
        let frames = FRAMES / n.max(10);
        report(
            &format!("session_update, {n} typed subscriber(s)"),
            (0..RUNS).map(|_| measure(SESSION, &subs, frames)).collect(),
        );
    }
}
