//! The connection logic without a network: in-memory channels and paused time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::Message;
use futures::StreamExt;
use futures::channel::mpsc;
use tokio::sync::watch;

use super::{Settings, TokenSlots, run};
use crate::auth::{Claims, Verifier, mint, mint_claims};
use crate::endpoint::{Endpoint, Interrupt, Module};
use crate::feed::FeedSettings;

type Inbound = mpsc::UnboundedSender<Result<Message, axum::Error>>;

struct Pipe {
    to_server: Inbound,
    from_server: mpsc::UnboundedReceiver<Message>,
    endpoint: Arc<Endpoint>,
    shutdown: watch::Sender<bool>,
    /// The generator makes nothing while this is set.
    paused: Arc<AtomicBool>,
}

fn module(name: &str) -> Module {
    Module::named(name).unwrap()
}

fn settings() -> Settings {
    Settings {
        auth: Arc::new(Verifier::hs256("k")),
        auth_timeout: Duration::from_secs(5),
        rate_per_minute: 100,
        max_frame_bytes: 1024,
        feed: FeedSettings::default(),
        per_token: TokenSlots::new(2),
    }
}

/// Publishes the module's generated traffic into the endpoint's feed on the module's
/// cadence (the development backend's world, reduced to what these tests need).
async fn generate(endpoint: Arc<Endpoint>, paused: Arc<AtomicBool>) {
    let mut sim = endpoint.module.simulator();
    let mut rng = fastrand::Rng::with_seed(3);
    let mut every = tokio::time::interval(sim.interval());
    every.tick().await;
    loop {
        every.tick().await;
        if !paused.load(Ordering::Relaxed) {
            let now = crate::now();
            let frames = sim.tick(now, &mut rng);
            endpoint.feed().publish(frames, now);
        }
    }
}

fn pipe(module: Module) -> Pipe {
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, from_server) = mpsc::unbounded();
    let endpoint = Arc::new(Endpoint::new(module, &settings().feed));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let paused = Arc::new(AtomicBool::new(false));
    tokio::spawn(generate(endpoint.clone(), paused.clone()));
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
        paused,
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
async fn a_drop_ends_without_a_close_frame_and_shutdown_sends_1012() {
    let mut p = pipe(module("billing"));
    auth(&p);
    p.from_server.next().await.unwrap();
    p.endpoint.interrupt(Interrupt::Drop);
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
    assert_eq!(close_code(last), Some(1012));
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
    p.paused.store(true, Ordering::Relaxed);
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
    p.paused.store(true, Ordering::Relaxed);
    let quiet = tokio::time::timeout(Duration::from_secs(30), p.from_server.next()).await;
    assert!(quiet.is_err(), "nothing at all: {quiet:?}");
}

fn auth_claims(pipe: &Pipe, claims: &Claims) {
    let token = mint_claims("k", claims).unwrap();
    send(pipe, &format!(r#"{{"type":"auth","token":"{token}"}}"#));
}

fn claims_for(modules: Option<&[&str]>, ttl: Duration) -> Claims {
    let now = crate::unix_ms() / 1000;
    Claims {
        sub: "op".into(),
        iat: now,
        exp: now + ttl.as_secs(),
        modules: modules.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
        ..Claims::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_module_the_token_does_not_name_is_closed_with_4003() {
    let mut p = pipe(module("billing"));
    auth_claims(
        &p,
        &claims_for(Some(&["network", "sessions"]), Duration::from_secs(60)),
    );
    let msg = p.from_server.next().await;
    assert_eq!(close_code(msg), Some(4003));
    let report = p.endpoint.report();
    assert_eq!(report.auth_failures.get("forbidden"), Some(&1));

    let mut q = pipe(module("network"));
    auth_claims(
        &q,
        &claims_for(Some(&["network", "sessions"]), Duration::from_secs(60)),
    );
    let first = q.from_server.next().await;
    assert!(matches!(first, Some(Message::Text(_))), "{first:?}");
}

#[tokio::test]
async fn a_token_that_expires_while_connected_is_closed_with_4001_at_its_exp() {
    let mut p = pipe(module("support"));
    // Expiry is in whole seconds: a token with 1 s left expires within 1 s.
    auth_claims(&p, &claims_for(None, Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let mut last = None;
    while let Ok(Some(msg)) =
        tokio::time::timeout(Duration::from_secs(5), p.from_server.next()).await
    {
        last = Some(msg);
    }
    assert_eq!(close_code(last), Some(4001));
    assert!(started.elapsed() <= Duration::from_millis(1500));
    assert_eq!(p.endpoint.report().expired_while_open, 1);
}

/// One more connection to `endpoint` with `settings`: its inbound sender and what it sends.
fn connection(
    endpoint: &Arc<Endpoint>,
    settings: &Arc<Settings>,
    shutdown: &watch::Receiver<bool>,
) -> (Inbound, mpsc::UnboundedReceiver<Message>) {
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, from_server) = mpsc::unbounded();
    tokio::spawn(run(
        server_tx,
        server_rx,
        endpoint.clone(),
        settings.clone(),
        shutdown.clone(),
        0,
    ));
    (to_server, from_server)
}

#[tokio::test(start_paused = true)]
async fn a_token_over_its_socket_limit_is_closed_with_1013_and_a_slot_frees_when_one_ends() {
    let endpoint = Arc::new(Endpoint::new(module("network"), &FeedSettings::default()));
    let settings = Arc::new(settings()); // two sockets a token
    let (_shutdown, shutdown_rx) = watch::channel(false);
    let token = mint("k", "op", Duration::from_secs(60)).unwrap();
    let auth = Message::text(format!(
        r#"{{"type":"auth","token":"{token}","resume":{{}}}}"#
    ));
    let mut open = Vec::new();
    for _ in 0..2 {
        let (tx, mut rx) = connection(&endpoint, &settings, &shutdown_rx);
        tx.unbounded_send(Ok(auth.clone())).unwrap();
        assert!(matches!(rx.next().await, Some(Message::Text(_))), "a sync");
        open.push((tx, rx));
    }
    let (tx, mut rx) = connection(&endpoint, &settings, &shutdown_rx);
    tx.unbounded_send(Ok(auth.clone())).unwrap();
    assert_eq!(close_code(rx.next().await), Some(1013));
    // Another token is not affected.
    let other = mint("k", "someone-else", Duration::from_secs(60)).unwrap();
    let (tx, mut rx) = connection(&endpoint, &settings, &shutdown_rx);
    tx.unbounded_send(Ok(Message::text(format!(
        r#"{{"type":"auth","token":"{other}","resume":{{}}}}"#
    ))))
    .unwrap();
    assert!(matches!(rx.next().await, Some(Message::Text(_))));
    // One of the first two ends: its slot is free again.
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (tx, mut rx) = connection(&endpoint, &settings, &shutdown_rx);
    tx.unbounded_send(Ok(auth)).unwrap();
    assert!(matches!(rx.next().await, Some(Message::Text(_))));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_with_4008_and_holds_up_nobody() {
    use crate::feed::BROADCAST_CAPACITY;
    let endpoint = Arc::new(Endpoint::new(module("network"), &FeedSettings::default()));
    let settings = Arc::new(settings());
    // A client that reads nothing: its socket's buffer is one message.
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, slow_rx) = mpsc::channel::<Message>(0);
    let (_shutdown, shutdown_rx) = watch::channel(false);
    let slow = tokio::spawn(run(
        server_tx,
        server_rx,
        endpoint.clone(),
        settings.clone(),
        shutdown_rx.clone(),
        0,
    ));
    let token = mint("k", "slow", Duration::from_secs(60)).unwrap();
    to_server
        .unbounded_send(Ok(Message::text(format!(
            r#"{{"type":"auth","token":"{token}"}}"#
        ))))
        .unwrap();
    // A fast client of another token beside it.
    let (fast_tx, mut fast_rx) = connection(&endpoint, &settings, &shutdown_rx);
    let other = mint("k", "fast", Duration::from_secs(60)).unwrap();
    fast_tx
        .unbounded_send(Ok(Message::text(format!(
            r#"{{"type":"auth","token":"{other}"}}"#
        ))))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let total = (BROADCAST_CAPACITY / 500 + 4) * 500;
    let frame = switchboard_core::Frame::new(
        "bandwidth_update",
        &serde_json::json!({"timestamp":"2026-12-02T10:00:00Z","upload_mbps":1.0,"download_mbps":2.0,"latency_ms":3}),
        None,
        switchboard_core::Provenance::Live,
    )
    .unwrap();
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while n < total {
            match fast_rx.next().await {
                Some(Message::Text(_)) => n += 1,
                other => panic!("the fast client lost its feed after {n}: {other:?}"),
            }
        }
        n
    });
    for chunk in 0..total / 500 {
        let frames = vec![frame.clone(); 500];
        endpoint.feed().publish(frames, crate::now());
        if chunk % 4 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(
        reader.await.unwrap(),
        total,
        "the fast client got every frame"
    );
    tokio::time::timeout(Duration::from_secs(30), slow)
        .await
        .expect("the slow client's connection ended")
        .unwrap();
    assert_eq!(endpoint.report().slow_closed, 1);
    drop(slow_rx);
}

/// Carries out every action at once.
#[derive(Debug)]
struct Agree;

impl crate::action::Carrier for Agree {
    fn carry_out(
        &self,
        _call: crate::action::Call,
    ) -> futures::future::BoxFuture<'static, crate::action::Verdict> {
        Box::pin(async { crate::action::Verdict::Done(None) })
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_that_asks_for_actions_gets_its_grants_then_one_answer_per_action() {
    let mut p = pipe(module("sessions"));
    p.paused.store(true, Ordering::Relaxed);
    p.endpoint.actions.set_carrier(Arc::new(Agree));
    let now = crate::unix_ms() / 1000;
    let claims = Claims {
        sub: "ada".into(),
        iat: now,
        exp: now + 60,
        actions: Some(vec!["sessions.disconnect".into()]),
        ..Claims::default()
    };
    let token = mint_claims("k", &claims).unwrap();
    send(
        &p,
        &format!(r#"{{"type":"auth","token":"{token}","actions":true}}"#),
    );
    let grants = json(&mut p).await;
    assert_eq!(grants["type"], "grants");
    assert_eq!(grants["data"]["operator"], "ada");
    assert_eq!(
        grants["data"]["actions"],
        serde_json::json!(["disconnect", "search_sessions"])
    );
    let action =
        r#"{"type":"disconnect","data":{"session_id":"s1","reason":"abuse","request_id":"r1"}}"#;
    send(&p, action);
    send(&p, action);
    for _ in 0..2 {
        let answer = json(&mut p).await;
        assert_eq!(answer["type"], "action_result");
        assert_eq!(answer["data"]["request_id"], "r1");
        assert_eq!(answer["data"]["outcome"], "done");
    }
    let report = p.endpoint.report();
    assert_eq!(report.actions_received, 2);
    assert_eq!(report.actions_repeated, 1);
    assert_eq!(report.actions_answered, 2);
    assert_eq!(p.endpoint.actions.audit().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_ask_gets_no_grants() {
    let mut p = pipe(module("sessions"));
    p.paused.store(true, Ordering::Relaxed);
    auth(&p);
    let quiet = tokio::time::timeout(Duration::from_secs(30), p.from_server.next()).await;
    assert!(quiet.is_err(), "nothing at all: {quiet:?}");
}
