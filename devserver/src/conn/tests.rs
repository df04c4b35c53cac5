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
    }
}

fn pipe(module: Module) -> Pipe {
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, from_server) = mpsc::unbounded();
    let endpoint = Arc::new(Endpoint::new(module));
    let (shutdown, shutdown_rx) = watch::channel(false);
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
    let token = mint("k", "t", Duration::from_secs(60)).unwrap();
    let frame = format!(r#"{{"type":"auth","token":"{token}"}}"#);
    pipe.to_server
        .unbounded_send(Ok(Message::text(frame)))
        .unwrap();
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
