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

/// Frames a module's world publishes per second (generate, position, encode, keep in the
/// history and the state, broadcast), with nobody listening: the ceiling of any flood.
fn world_rate(module: &str) -> f64 {
    use switchboard_devserver::endpoint::Module;
    use switchboard_devserver::world::{World, WorldSettings};
    use switchboard_gateway::feed::Feed;
    let module = Module::named(module).expect("a served module");
    let at = switchboard_core::Instant::from_millis(1_760_616_000_000);
    let mut feed = Feed::new(module, WorldSettings::default().feed(), at);
    let mut world = World::new(module, 1);
    world.generate(&mut feed, 1_000, at); // warm up
    let started = Instant::now();
    let mut published = 0;
    while started.elapsed() < Duration::from_secs(1) {
        published += world.generate(&mut feed, 1_000, at);
    }
    published as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    for module in ["network", "sessions", "billing", "support"] {
        println!(
            "world publish rate, {module:>8}: {:>9.0} frames/s",
            world_rate(module)
        );
    }
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
