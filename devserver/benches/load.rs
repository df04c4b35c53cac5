//! Load check: frames per second to one client, and concurrent connections.
//! Run with `cargo bench -p switchboard-devserver`. Prints figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;

async fn flood_once(rate: u32) -> f64 {
    let server = start().await;
    let mut client = authed(&server, "network").await;
    next(&mut client, Duration::from_secs(5))
        .await
        .expect("authenticated");
    control(
        &server,
        &format!("/_control/network/flood?rate={rate}&secs=3"),
    )
    .await;
    let started = Instant::now();
    let mut frames = 0u64;
    while let Ok(Some(Ok(_))) =
        tokio::time::timeout(Duration::from_millis(300), client.next()).await
    {
        frames += 1;
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    // The flood lasts 3 s; the rest is the 2 s background cadence, a handful of frames.
    frames as f64 / 3.0
}

async fn concurrent(n: usize) -> usize {
    let server = start_with(settings(), vec![], n + 1).await;
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(authed(&server, "sessions").await);
    }
    let mut live = 0;
    for c in &mut clients {
        if next(c, Duration::from_secs(5)).await.is_some() {
            live += 1;
        }
    }
    live
}

#[tokio::main]
async fn main() {
    for rate in [20_000, 40_000] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            runs.push(flood_once(rate).await);
        }
        runs.sort_by(f64::total_cmp);
        println!(
            "flood requested {rate:>6}/s to one client: received {:>8.0} frames/s (min {:.0}, max {:.0}, 3 runs)",
            runs[1], runs[0], runs[2]
        );
    }
    let n = 200;
    println!(
        "concurrent authenticated connections receiving traffic: {} of {n}",
        concurrent(n).await
    );
}
