//! The connection logic without a network: in-memory channels and paused time.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message;
use futures::StreamExt;
use futures::channel::mpsc;
use tokio::sync::watch;

use super::{Settings, run};
use crate::auth::mint;
use crate::endpoint::{Endpoint, Fault, Module};
use crate::world::WorldSettings;

type Inbound = mpsc::UnboundedSender<Result<Message, axum::Error>>;

struct Pipe {
    to_server: Inbound,
    from_server: mpsc::UnboundedReceiver<Message>,
    endpoint: Arc<Endpoint>,
    shutdown: watch::Sender<bool>,
}

fn module(name: &str) -> Module {
    Module::named(name).unwrap()
}

fn settings() -> Settings {
    Settings {
        secret: "k".into(),
        auth_timeout: Duration::from_secs(5),
        rate_per_minute: 100,
        max_frame_bytes: 1024,
        seed: 3,
        world: WorldSettings::default(),
    }
}

fn pipe(module: Module) -> Pipe {
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, from_server) = mpsc::unbounded();
    let endpoint = Arc::new(Endpoint::new(module, &settings().world, 3));
    let (shutdown, shutdown_rx) = watch::channel(false);
    tokio::spawn(endpoint.clone().run_world(shutdown_rx.clone()));
    tokio::spawn(run(
        server_tx,
        server_rx,
        endpoint.clone(),
        Arc::new(settings()),
        shutdown_rx,
        0,
    ));
    Pipe {
        to_server,
        from_server,
        endpoint,
        shutdown,
    }
}

fn auth(pipe: &Pipe) {
    auth_with(pipe, "");
}

/// Authenticates with `extra` fields after the token, e.g. `,"resume":{}`.
fn auth_with(pipe: &Pipe, extra: &str) {
    let token = mint("k", "t", Duration::from_secs(60)).unwrap();
    let frame = format!(r#"{{"type":"auth","token":"{token}"{extra}}}"#);
    send(pipe, &frame);
}

fn send(pipe: &Pipe, text: &str) {
    pipe.to_server
        .unbounded_send(Ok(Message::text(text.to_owned())))
        .unwrap();
}

async fn json(pipe: &mut Pipe) -> serde_json::Value {
    match pipe.from_server.next().await {
        Some(Message::Text(t)) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn close_code(msg: Option<Message>) -> Option<u16> {
    match msg {
        Some(Message::Close(Some(frame))) => Some(frame.code),
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn silence_instead_of_auth_closes_with_4001_after_the_timeout() {
    let mut p = pipe(module("network"));
    let started = tokio::time::Instant::now();
    assert_eq!(close_code(p.from_server.next().await), Some(4001));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(5),
        "exactly the auth timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn traffic_follows_the_module_cadence() {
    let mut p = pipe(module("network"));
    auth(&p);
    let first = p.from_server.next().await.unwrap();
    assert!(matches!(first, Message::Text(ref t) if t.contains("bandwidth_update")));
    let t0 = tokio::time::Instant::now();
    loop {
        let Some(Message::Text(t)) = p.from_server.next().await else {
            panic!("ended")
        };
        if t.contains("bandwidth_update") {
            break;
        }
    }
    assert_eq!(t0.elapsed(), Duration::from_secs(2), "bandwidth every 2 s");
    assert_eq!(p.endpoint.report.lock().unwrap().auth_ok, 1);
}

#[tokio::test(start_paused = true)]
async fn a_drop_fault_ends_without_a_close_frame_and_shutdown_sends_1001() {
    let mut p = pipe(module("billing"));
    auth(&p);
    p.from_server.next().await.unwrap();
    p.endpoint.faults.send(Fault::Drop).unwrap();
    while let Some(msg) = p.from_server.next().await {
        assert!(
            !matches!(msg, Message::Close(_)),
            "no close frame on a drop"
        );
    }

    let mut q = pipe(module("support"));
    auth(&q);
    tokio::task::yield_now().await;
    q.shutdown.send(true).unwrap();
    let mut last = None;
    while let Some(msg) = q.from_server.next().await {
        last = Some(msg);
    }
    assert_eq!(close_code(last), Some(1001));
}

#[tokio::test(start_paused = true)]
async fn a_resuming_client_gets_a_snapshot_positions_heartbeats_and_replays() {
    let mut p = pipe(module("network"));
    auth_with(&p, r#","resume":{}"#);
    let sync = json(&mut p).await;
    assert_eq!(sync["type"], "sync");
    assert_eq!(
        sync["data"]["mode"], "snapshot",
        "a cold load gets the state"
    );
    assert_eq!(sync["data"]["heartbeat_ms"], 5000);
    let epoch = sync["data"]["epoch"].as_str().unwrap().to_owned();
    let first = json(&mut p).await;
    assert_eq!(first["seq"], 1, "{first}");
    let second = json(&mut p).await;
    assert_eq!(second["seq"], 2);

    // Quiet: a heartbeat with the last position sent, at the announced interval.
    p.endpoint
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut last = 2;
    let beat = loop {
        let v = json(&mut p).await;
        if v["type"] == "heartbeat" {
            break v;
        }
        last = v["seq"].as_u64().unwrap();
    };
    assert_eq!(beat["data"]["seq"], last);

    // A resync from position 1 replays the rest.
    send(
        &p,
        &format!(r#"{{"type":"resync","data":{{"epoch":"{epoch}","seq":1}}}}"#),
    );
    let answer = json(&mut p).await;
    assert_eq!(answer["data"]["mode"], "replay");
    assert_eq!(answer["data"]["seq"], 1);
    assert_eq!(json(&mut p).await["seq"], 2);
    assert_eq!(p.endpoint.report.lock().unwrap().resyncs, 1);
}

#[tokio::test(start_paused = true)]
async fn a_client_without_resume_gets_no_sync_and_no_heartbeat() {
    let mut p = pipe(module("network"));
    auth(&p);
    p.endpoint
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let quiet = tokio::time::timeout(Duration::from_secs(30), p.from_server.next()).await;
    assert!(quiet.is_err(), "nothing at all: {quiet:?}");
}
