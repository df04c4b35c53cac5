//! The provider and hooks in headless Chromium, against the development backend that
//! `cargo xtask test` starts: isolation, subscriptions, send, reconnects, cleanup, floods.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use support::*;
use switchboard_core::{Config, Frame, SendError, Status};
use switchboard_kit::WsHandle;
use switchboard_kit::hooks::{use_websocket, use_websocket_subscription};
use switchboard_kit::provider::{SimulatorFactory, TokenProp, WsProvider};
use switchboard_kit::token::StaticToken;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const SECS: Duration = Duration::from_secs(10);

/// Shows its provider's status and counters, and exposes the handle to the test.
#[derive(Properties, PartialEq)]
struct ProbeProps {
    name: AttrValue,
    #[prop_or_default]
    out: Option<Rc<RefCell<Option<WsHandle>>>>,
}

#[component]
fn Probe(props: &ProbeProps) -> Html {
    let ws = use_websocket(None, None);
    if let Some(out) = &props.out {
        *out.borrow_mut() = Some(ws.handle().clone());
    }
    let stats = ws.stats();
    html! {
        <p class={props.name.clone()}>
            <span class="status">{ ws.status().as_str() }</span>
            <span class="frames">{ stats.frames_in }</span>
        </p>
    }
}

fn ws_url(module: &str) -> AttrValue {
    format!("ws://{}/ws/{module}", backend()).into()
}

fn token() -> TokenProp {
    TokenProp(Rc::new(StaticToken(TOKEN.map(str::to_owned))))
}

fn network_config() -> Config {
    Config {
        channels: vec!["bandwidth_update", "network_status"],
        ..Config::default()
    }
}

/// The simulated counting tests' channel.
fn count_config() -> Config {
    Config {
        channels: vec!["count"],
        ..Config::default()
    }
}

#[derive(Properties, PartialEq)]
struct TwoProps {
    a: Rc<RefCell<Option<WsHandle>>>,
    b: Rc<RefCell<Option<WsHandle>>>,
}

#[component]
fn Two(props: &TwoProps) -> Html {
    html! {
        <>
            <WsProvider url={ws_url("network")} config={network_config()} token={token()}>
                <Probe name="a" out={props.a.clone()} />
            </WsProvider>
            // Port 9 (discard) is closed on loopback: this one can never connect.
            <WsProvider url="ws://127.0.0.1:9/ws/network" config={network_config()}
                        reconnect_interval={Some(100)} token={token()}>
                <Probe name="b" out={props.b.clone()} />
            </WsProvider>
        </>
    }
}

#[wasm_bindgen_test]
async fn two_providers_are_isolated() {
    let root = container();
    let (a, b) = (Rc::new(RefCell::new(None)), Rc::new(RefCell::new(None)));
    yew::Renderer::<Two>::with_root_and_props(
        root.clone(),
        TwoProps {
            a: a.clone(),
            b: b.clone(),
        },
    )
    .render();
    wait_for("a to be live", SECS, || {
        text(&root, ".a .status") == "connected"
            && a.borrow().as_ref().is_some_and(|h| h.stats().frames_in > 0)
    })
    .await;
    wait_for("b to have failed at least twice", SECS, || {
        b.borrow()
            .as_ref()
            .is_some_and(|h| h.stats().reconnects >= 2)
    })
    .await;
    let (a, b) = (a.borrow().clone().unwrap(), b.borrow().clone().unwrap());
    assert_ne!(a, b, "separate connections");
    assert_eq!(b.stats().frames_in, 0, "b never saw a's frames");
    assert_eq!(a.stats().reconnects, 0, "a is unaffected by b's failures");
    assert_ne!(text(&root, ".b .status"), "connected");
    assert_eq!(a.snapshot().status, Status::Connected);
}

#[derive(Properties, PartialEq)]
struct CountingProps {
    seen_all: Rc<Cell<u64>>,
    renders: Rc<Cell<u64>>,
    per_tick: usize,
    /// Where the provider connects; the discard port refuses at once.
    #[prop_or(AttrValue::Static(REFUSED))]
    url: AttrValue,
}

impl CountingProps {
    fn new(per_tick: usize, url: impl Into<AttrValue>) -> Self {
        Self {
            seen_all: Rc::new(Cell::new(0)),
            renders: Rc::new(Cell::new(0)),
            per_tick,
            url: url.into(),
        }
    }
}

/// A URL whose connection is refused at once: the feed is down, so simulation runs.
const REFUSED: &str = "ws://127.0.0.1:9/none";

#[component]
fn Counter(props: &CountingProps) -> Html {
    props.renders.set(props.renders.get() + 1);
    let latest = use_websocket_subscription::<serde_json::Value>("count");
    let seen = props.seen_all.clone();
    let ws = use_websocket(
        Some("*"),
        Some(Callback::from(move |_: Rc<Frame>| seen.set(seen.get() + 1))),
    );
    let n = latest
        .value()
        .map(|v| v["n"].to_string())
        .unwrap_or_default();
    let simulated = latest
        .as_ref()
        .is_some_and(|l| l.provenance == switchboard_core::Provenance::Simulated);
    let sent = match ws.send("ping", &1) {
        Err(SendError::NotConnected) => "refused",
        Ok(_) => "sent",
        Err(_) => "other",
    };
    html! {
        <p>
            <span class="n">{ n }</span>
            <span class="sim">{ simulated.to_string() }</span>
            <span class="send">{ sent }</span>
            <span class="status">{ ws.status().as_str() }</span>
        </p>
    }
}

#[component]
fn Simulated(props: &CountingProps) -> Html {
    let next = use_memo((), |_| Rc::new(RefCell::new(0)));
    let per_tick = props.per_tick;
    let factory = use_memo((), move |_| {
        let next = (*next).clone();
        SimulatorFactory(Rc::new(move || {
            Box::new(Counting {
                channel: "count",
                per_tick,
                every: Duration::from_millis(20),
                next: next.clone(),
            }) as Box<dyn switchboard_core::simulator::Simulator>
        }))
    });
    let config = count_config();
    html! {
        <WsProvider url={props.url.clone()} {config} token={token()} simulator={(*factory).clone()}>
            <Counter seen_all={props.seen_all.clone()} renders={props.renders.clone()} per_tick={per_tick} />
        </WsProvider>
    }
}

#[wasm_bindgen_test]
async fn subscriptions_get_typed_values_wildcards_get_everything_and_send_is_refused_offline() {
    let root = container();
    let props = CountingProps::new(1, REFUSED);
    let seen = props.seen_all.clone();
    yew::Renderer::<Simulated>::with_root_and_props(root.clone(), props).render();
    wait_for("three values", SECS, || {
        text(&root, ".n").parse::<u64>().unwrap_or(0) >= 3
    })
    .await;
    assert!(seen.get() >= 3, "the wildcard saw every frame");
    assert_eq!(text(&root, ".sim"), "true", "simulated values say so");
    assert_eq!(
        text(&root, ".send"),
        "refused",
        "send while disconnected is an error"
    );
}

#[wasm_bindgen_test]
async fn a_healthy_load_shows_no_simulated_data_and_a_failed_one_does() {
    // A reachable backend that never sends `count`: the simulator must stay silent while the
    // socket opens and once it is up.
    let root = container();
    let props = CountingProps::new(1, ws_url("billing"));
    yew::Renderer::<Simulated>::with_root_and_props(root.clone(), props).render();
    yew::scheduler::flush().await;
    assert_eq!(
        text(&root, ".n"),
        "",
        "nothing simulated while the first socket opens"
    );
    wait_for("the live connection", SECS, || {
        text(&root, ".status") == "connected"
    })
    .await;
    gloo_timers::future::TimeoutFuture::new(200).await; // ten simulator intervals
    yew::scheduler::flush().await;
    assert_eq!(text(&root, ".n"), "", "nothing simulated while connected");

    // The same provider against a refused socket simulates, labelled.
    let root = container();
    let props = CountingProps::new(1, REFUSED);
    yew::Renderer::<Simulated>::with_root_and_props(root.clone(), props).render();
    wait_for("simulated values after the refusal", SECS, || {
        !text(&root, ".n").is_empty()
    })
    .await;
    assert_eq!(text(&root, ".sim"), "true");
}

#[wasm_bindgen_test]
async fn a_flood_costs_one_render_per_animation_frame() {
    let root = container();
    let props = CountingProps::new(200, REFUSED);
    let (seen, renders) = (props.seen_all.clone(), props.renders.clone());
    // Count animation frames alongside.
    type Handles = Rc<RefCell<Vec<gloo_render::AnimationFrame>>>;
    let frames = Rc::new(Cell::new(0u64));
    let counting = Rc::new(Cell::new(true));
    let handles: Handles = Rc::default();
    // Each frame schedules the next; the handles live until the end of the test.
    fn count_frames(frames: Rc<Cell<u64>>, on: Rc<Cell<bool>>, handles: Handles) {
        if !on.get() {
            return;
        }
        let keep = handles.clone();
        let handle = gloo_render::request_animation_frame(move |_| {
            frames.set(frames.get() + 1);
            count_frames(frames, on, keep);
        });
        handles.borrow_mut().push(handle);
    }
    count_frames(frames.clone(), counting.clone(), handles.clone());
    yew::Renderer::<Simulated>::with_root_and_props(root.clone(), props).render();
    wait_for("10,000 frames", SECS, || seen.get() >= 10_000).await;
    counting.set(false);
    let (renders, animation_frames) = (renders.get(), frames.get());
    assert!(
        renders <= animation_frames + 3,
        "{renders} renders for {} frames over {animation_frames} animation frames",
        seen.get()
    );
}

#[derive(Properties, PartialEq)]
struct Toggle {
    show: Rc<RefCell<Option<Callback<bool>>>>,
    out: Rc<RefCell<Option<WsHandle>>>,
}

#[component]
fn Host(props: &Toggle) -> Html {
    let show = use_state(|| true);
    *props.show.borrow_mut() = Some({
        let show = show.clone();
        Callback::from(move |v| show.set(v))
    });
    let config = count_config();
    html! {
        <WsProvider url="ws://127.0.0.1:9/none" {config} auto_connect={false}>
            <Probe name="host" out={props.out.clone()} />
            if *show { <Counter seen_all={Rc::new(Cell::new(0))} renders={Rc::new(Cell::new(0))} per_tick={1} /> }
        </WsProvider>
    }
}

#[wasm_bindgen_test]
async fn unmounting_unsubscribes() {
    let root = container();
    let props = Toggle {
        show: Rc::new(RefCell::new(None)),
        out: Rc::new(RefCell::new(None)),
    };
    let (show, out) = (props.show.clone(), props.out.clone());
    yew::Renderer::<Host>::with_root_and_props(root, props).render();
    yew::scheduler::flush().await;
    let handle = out.borrow().clone().unwrap();
    assert_eq!(handle.subscriber_count("count"), 1);
    assert_eq!(handle.subscriber_count("*"), 1);
    show.borrow().clone().unwrap().emit(false);
    yew::scheduler::flush().await;
    assert_eq!(handle.subscriber_count("count"), 0);
    assert_eq!(handle.subscriber_count("*"), 0);
}

#[derive(Properties, PartialEq)]
struct Live {
    out: Rc<RefCell<Option<WsHandle>>>,
    module: AttrValue,
}

#[component]
fn LiveSessions(props: &Live) -> Html {
    let config = Config {
        channels: vec!["session_update"],
        ..Config::default()
    };
    html! {
        <WsProvider url={ws_url(&props.module)} {config} reconnect_interval={Some(100)}>
            <Probe name="live" out={props.out.clone()} />
        </WsProvider>
    }
}

/// Puts the backend's token where the default token source reads it; the test removes it
/// at its end.
fn store_token() -> web_sys::Storage {
    let storage = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    storage
        .set_item("switchboard.access_token", TOKEN.unwrap())
        .unwrap();
    storage
}

/// Mounts [`LiveSessions`] on `module`'s backend URL: its root, the handle it reports, the app.
fn mount_live(
    module: &str,
) -> (
    web_sys::Element,
    Rc<RefCell<Option<WsHandle>>>,
    AppHandle<LiveSessions>,
) {
    let root = container();
    let props = Live {
        out: Rc::new(RefCell::new(None)),
        module: AttrValue::from(module.to_owned()),
    };
    let out = props.out.clone();
    let app = yew::Renderer::<LiveSessions>::with_root_and_props(root.clone(), props).render();
    (root, out, app)
}

#[wasm_bindgen_test]
async fn a_real_socket_authenticates_from_session_storage_reconnects_and_closes_on_drop() {
    let storage = store_token();
    let (root, out, app) = mount_live("sessions");
    // The probe re-renders on status changes only, so frame counts are read from the handle.
    wait_for("live frames", SECS, || {
        out.borrow()
            .as_ref()
            .is_some_and(|h| h.is_connected() && h.stats().frames_in > 0)
    })
    .await;
    wait_for("the status to say connected", SECS, || {
        text(&root, ".live .status") == "connected"
    })
    .await;
    let before = report("sessions").await;
    let first = before["first_frames"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        first.starts_with(r#"{"token":"<"#) || first.contains(r#""type":"auth""#),
        "auth first: {first}"
    );
    let token_len = TOKEN.unwrap().len();
    assert!(
        first.contains(&format!("<{token_len} chars>")),
        "the sessionStorage token: {first}"
    );

    fault("sessions/drop").await;
    let handle = out.borrow().clone().unwrap();
    wait_for("a reconnect", SECS, || {
        handle.stats().reconnects >= 1 && handle.is_connected()
    })
    .await;

    let open = before["open"].as_u64().unwrap();
    app.destroy();
    wait_for_report("sessions", "the socket to close", |r| {
        r["open"].as_u64() < Some(open)
    })
    .await;
    storage.remove_item("switchboard.access_token").unwrap();
}

#[wasm_bindgen_test]
async fn a_rejected_token_is_an_error_without_retries() {
    let root = container();
    #[component]
    fn Rejected() -> Html {
        let config = Config {
            channels: vec!["ticket_update"],
            ..Config::default()
        };
        let bad = TokenProp(Rc::new(StaticToken(Some("not-a-jwt".into()))));
        html! {
            <WsProvider url={ws_url("support")} {config} token={bad} reconnect_interval={Some(100)}>
                <Probe name="rejected" />
            </WsProvider>
        }
    }
    let before = report("support").await["auth_rejected"]
        .as_u64()
        .unwrap_or(0);
    let app = yew::Renderer::<Rejected>::with_root(root.clone()).render();
    wait_for("the auth error", SECS, || {
        text(&root, ".rejected .status") == "error"
    })
    .await;
    wait_for_report("support", "the rejection", |r| {
        r["auth_rejected"].as_u64() > Some(before)
    })
    .await;
    let rejected = report("support").await["auth_rejected"].as_u64();
    // Ten reconnect intervals: a client that retried would have been rejected again.
    gloo_timers::future::TimeoutFuture::new(1_000).await;
    assert_eq!(
        report("support").await["auth_rejected"].as_u64(),
        rejected,
        "no retries after a rejected token"
    );
    assert_eq!(text(&root, ".rejected .status"), "error");
    app.destroy();
}

/// The session ids a store holds: what a sessions table would show.
type Ids = std::collections::BTreeSet<String>;

fn ids_store(handle: &WsHandle) -> switchboard_kit::store::Store<Ids> {
    use switchboard_core::payload::{SESSION_UPDATE, SessionAction};
    switchboard_kit::store::Store::new(Ids::new).fold(handle, SESSION_UPDATE, |s, u, _| {
        if u.action == SessionAction::Terminate {
            s.remove(&u.session.session_id);
        } else {
            s.insert(u.session.session_id);
        }
    })
}

/// Attaches the ids store on its first render, before the socket opens.
#[component]
fn IdsProbe(props: &ProbeProps) -> Html {
    let view = switchboard_kit::store::use_store(ids_store);
    let ws = use_websocket(None, None);
    if let Some(out) = &props.out {
        *out.borrow_mut() = Some(ws.handle().clone());
    }
    html! { <p class="ids">{ view.live().len() }</p> }
}

#[component]
fn ResumingSessions(props: &Live) -> Html {
    let config = Config {
        channels: vec!["session_update"],
        ..Config::default()
    };
    html! {
        <WsProvider url={ws_url(&props.module)} {config} reconnect_interval={Some(100)} token={token()}>
            <IdsProbe name="ids" out={props.out.clone()} />
        </WsProvider>
    }
}

/// The session ids in the devserver's world.
async fn backend_ids() -> Ids {
    world("sessions").await["state"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            f["data"]["session"]["session_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Whether the store comes to equal the backend's sessions within 4 s.
/// Every session frame a store folded in: an oracle that sees a frame applied twice, which a
/// set of ids absorbs.
#[derive(Default)]
struct Applied(u64);

fn applied_store(handle: &WsHandle) -> switchboard_kit::store::Store<Applied> {
    use switchboard_core::payload::SESSION_UPDATE;
    switchboard_kit::store::Store::new(Applied::default).fold(handle, SESSION_UPDATE, |s, _, _| {
        s.0 += 1;
    })
}

/// The sessions world's latest position.
async fn head() -> u64 {
    world("sessions").await["head"].as_u64().unwrap_or(0)
}

/// Waits until the store has applied exactly the frames the world published since
/// `(applied, head)`, and fails at once if it applied more.
async fn applied_once(store: &switchboard_kit::store::Store<Applied>, from: (u64, u64)) {
    let started = js_sys::Date::now();
    loop {
        let published = head().await - from.1;
        let applied = store.live().0 - from.0;
        assert!(
            applied <= published,
            "{applied} frames applied for {published} published: some applied twice"
        );
        if applied == published {
            return;
        }
        assert!(
            js_sys::Date::now() - started < 10_000.0,
            "{applied} frames applied for {published} published: some missed"
        );
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
}

async fn settles_to_backend(store: &switchboard_kit::store::Store<Ids>) -> bool {
    for _ in 0..40 {
        let backend = backend_ids().await;
        if *store.live() == backend {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(100).await;
    }
    false
}

/// Against the development backend, which speaks the resume extension: a store is rebuilt
/// from the server's snapshot on connect (not from the changes that happen next), and a drop
/// while the world goes on is resumed with nothing doubled and nothing missing.
#[wasm_bindgen_test]
async fn a_store_starts_from_the_snapshot_and_resumes_after_a_drop() {
    let root = container();
    let props = Live {
        out: Rc::new(RefCell::new(None)),
        module: "sessions".into(),
    };
    let out = props.out.clone();
    let app = yew::Renderer::<ResumingSessions>::with_root_and_props(root.clone(), props).render();
    wait_for("a snapshot", SECS, || {
        out.borrow()
            .as_ref()
            .is_some_and(|h| h.stats().snapshots == 1)
    })
    .await;
    let handle = out.borrow().clone().unwrap();
    let store = handle.store(ids_store);
    assert!(!store.live().is_empty(), "the snapshot filled the store");

    // A still world, so the two compare exactly.
    fault("sessions/pause?on=true").await;
    let same = settles_to_backend(&store).await;
    assert!(same, "the store equals the backend's sessions");
    let applied = handle.store(applied_store);
    let at = head().await;
    let before = (applied.live().0, at);

    // Changes happen while the socket is down; the reconnect replays them.
    fault("sessions/pause?on=false").await;
    fault("sessions/drop?secs=3").await;
    wait_for("the drop", SECS, || !handle.is_connected()).await;
    gloo_timers::future::TimeoutFuture::new(3_000).await;
    wait_for("a resumed connection", Duration::from_secs(20), || {
        let s = handle.stats();
        handle.is_connected() && s.replays + s.resumed_live + s.snapshots >= 2
    })
    .await;
    fault("sessions/pause?on=true").await;
    let same = settles_to_backend(&store).await;
    applied_once(&applied, before).await;
    // The link repeats frames: the client drops them all.
    let received = handle.stats().frames_in;
    fault("sessions/repeat?frames=20").await;
    wait_for("the repeats to arrive", SECS, || {
        handle.stats().frames_in >= received + 20
    })
    .await;
    applied_once(&applied, before).await;
    fault("sessions/pause?on=false").await;
    let stats = handle.stats();
    assert!(
        same,
        "after the drop the store equals the backend's sessions"
    );
    // "Nothing applied twice" is the applied-frames oracle above; this only says the
    // repeats were seen and dropped.
    assert!(stats.duplicates >= 1, "the repeated frames were dropped");
    assert_eq!(
        stats.snapshots, 1,
        "resumed by replay, not a second snapshot"
    );
    app.destroy();
}

/// A change-only count is drawn where its frame was taken (a replay lands in the outage it
/// fills), and a snapshot's state, which says what is rather than when it changed, at its
/// arrival.
#[wasm_bindgen_test]
async fn a_count_is_drawn_where_its_frame_was_taken_and_a_snapshot_at_its_arrival() {
    use switchboard_core::{Command, Event, Instant, Provenance, SocketId};
    use switchboard_kit::chart::History;
    let history = History::new(100, None);
    let start = switchboard_kit::handle::now();
    let taken = Instant::from_millis(start.as_millis() - 30_000);
    let replayed = Frame::new("x", &1, Some(taken), Provenance::Live).unwrap();
    history.record_frame(&replayed, &[1.0]);
    assert_eq!(history.ring().last().map(|(at, _)| *at), Some(taken));

    let mut conn = switchboard_core::Connection::new(Config::default(), 1);
    conn.handle(start, Event::Start);
    conn.handle(
        start,
        Event::Opened {
            socket: SocketId(0),
            token: None,
        },
    );
    let stamp = "2020-01-01T00:00:00Z";
    let sync = format!(
        r#"{{"type":"sync","data":{{"mode":"snapshot","epoch":"e","seq":1,"state":[{{"type":"x","data":2,"timestamp":"{stamp}"}},{{"type":"x","data":3,"timestamp":"{stamp}"}}]}}}}"#
    );
    conn.handle(
        start,
        Event::Text {
            socket: SocketId(0),
            text: &sync,
        },
    );
    let state: Vec<Frame> = std::iter::from_fn(|| conn.poll())
        .filter_map(|c| match c {
            Command::Deliver(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(state.len(), 2);
    let before = history.ring().len();
    // Applied in two slices, a moment apart: still one point, with the whole count.
    history.record_frame(&state[0], &[1.0]);
    gloo_timers::future::TimeoutFuture::new(5).await;
    history.record_frame(&state[1], &[2.0]);
    assert_eq!(
        history.ring().len(),
        before + 1,
        "one point for the snapshot"
    );
    let (at, sample) = *history.ring().last().unwrap();
    assert!(
        at >= start,
        "the snapshot is recorded at its arrival, not in {stamp}"
    );
    assert_eq!(sample.value(0), Some(2.0));
}

/// The last `n` a `count` frame carried.
fn count_store(handle: &WsHandle) -> switchboard_kit::store::Store<u64> {
    const COUNT: switchboard_core::TypedChannel<serde_json::Value> =
        switchboard_core::TypedChannel::new("count");
    switchboard_kit::store::Store::new(|| 0).fold(handle, COUNT, |s, v, _| {
        *s = v["n"].as_u64().unwrap_or(0);
    })
}

#[derive(Properties, PartialEq)]
struct SpacedProps {
    renders: Rc<Cell<u64>>,
    spacing_ms: u32,
    class: AttrValue,
}

/// Shows the latest count, counting its own renders.
#[component]
fn SpacedCount(props: &SpacedProps) -> Html {
    props.renders.set(props.renders.get() + 1);
    let view = switchboard_kit::store::use_store_spaced(count_store, props.spacing_ms);
    let (n, _) = view.pick(|n| *n > 0);
    html! { <span class={props.class.clone()}>{ *n }</span> }
}

#[derive(Properties, PartialEq)]
struct TwoPaces {
    every_frame: Rc<Cell<u64>>,
    spaced: Rc<Cell<u64>>,
    /// The flood runs while this is true.
    flooding: Rc<Cell<bool>>,
}

/// [`Counting`] while `on` says so, else quiet.
struct Switched {
    counting: Counting,
    on: Rc<Cell<bool>>,
}

impl switchboard_core::simulator::Simulator for Switched {
    fn interval(&self) -> Duration {
        self.counting.interval()
    }

    fn tick(&mut self, now: switchboard_core::Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        match self.on.get() {
            true => self.counting.tick(now, rng),
            false => Vec::new(),
        }
    }
}

/// One store flooded at 1,000 frames/s (offline, simulated), shown by a view that renders
/// every animation frame and by one spaced 250 ms apart.
#[component]
fn TwoPacesApp(props: &TwoPaces) -> Html {
    let on = props.flooding.clone();
    let factory = use_memo((), move |_| {
        let next = Rc::new(RefCell::new(0));
        SimulatorFactory(Rc::new(move || {
            Box::new(Switched {
                counting: Counting {
                    channel: "count",
                    per_tick: 20,
                    every: Duration::from_millis(20),
                    next: next.clone(),
                },
                on: on.clone(),
            }) as Box<dyn switchboard_core::simulator::Simulator>
        }))
    });
    let config = count_config();
    html! {
        // One refused attempt, then no status changes (which re-render every view) for a minute.
        <WsProvider url={REFUSED} {config} token={token()} simulator={(*factory).clone()}
                    reconnect_interval={Some(60_000)}>
            <SpacedCount renders={props.every_frame.clone()} spacing_ms={0} class="every" />
            <SpacedCount renders={props.spaced.clone()} spacing_ms={250} class="spaced" />
        </WsProvider>
    }
}

#[wasm_bindgen_test]
async fn a_spaced_view_renders_at_most_once_per_spacing_and_shows_the_latest_within_it() {
    let root = container();
    let props = TwoPaces {
        every_frame: Rc::new(Cell::new(0)),
        spaced: Rc::new(Cell::new(0)),
        flooding: Rc::new(Cell::new(true)),
    };
    let (every_frame, spaced) = (props.every_frame.clone(), props.spaced.clone());
    let flooding = props.flooding.clone();
    yew::Renderer::<TwoPacesApp>::with_root_and_props(root.clone(), props).render();
    let count = |class: &str| text(&root, class).parse::<u64>().unwrap_or(0);
    wait_for("the flood on screen", SECS, || count(".every") > 0).await;
    // Over two seconds of flood: at most one spaced render per 250 ms (and the one in
    // flight), against one per animation frame for the other view.
    let (e0, s0, started) = (every_frame.get(), spaced.get(), js_sys::Date::now());
    gloo_timers::future::TimeoutFuture::new(2_000).await;
    let elapsed = js_sys::Date::now() - started;
    let (e, s) = (every_frame.get() - e0, spaced.get() - s0);
    assert!(
        s as f64 <= elapsed / 250.0 + 2.0,
        "{s} spaced renders in {elapsed} ms"
    );
    assert!(e >= 3 * s, "{e} renders every frame against {s} spaced");
    // Spaced is not late: what the every-frame view shows now, the spaced one shows within
    // one spacing (and a frame), during the flood and after its last frame.
    for _ in 0..5 {
        let now_shown = count(".every");
        let asked = js_sys::Date::now();
        wait_for("the spaced view to catch up", SECS, || {
            count(".spaced") >= now_shown
        })
        .await;
        let waited = js_sys::Date::now() - asked;
        assert!(waited <= 250.0 + 150.0, "caught up after {waited} ms");
    }
    // The loop above ends just after a spaced render: let frames come after it, then stop.
    gloo_timers::future::TimeoutFuture::new(120).await;
    flooding.set(false);
    gloo_timers::future::TimeoutFuture::new(100).await;
    let last = count(".every");
    let asked = js_sys::Date::now();
    wait_for("the spaced view to show the last frame", SECS, || {
        count(".spaced") == last
    })
    .await;
    let waited = js_sys::Date::now() - asked;
    assert!(
        waited <= 250.0 + 150.0,
        "the last frame shown after {waited} ms"
    );
}

/// Sets `window.__switchboard` as `index.html`'s early script does, with `sockets` for `url`.
fn early_sockets(url: &str, sockets: &[web_sys::WebSocket]) {
    let list = js_sys::Array::new();
    for ws in sockets {
        list.push(ws);
    }
    let by_url = js_sys::Object::new();
    js_sys::Reflect::set(&by_url, &url.into(), &list).unwrap();
    let early = js_sys::Object::new();
    js_sys::Reflect::set(&early, &"sockets".into(), &by_url).unwrap();
    js_sys::Reflect::set(&js_sys::global(), &"__switchboard".into(), &early).unwrap();
}

#[wasm_bindgen_test]
async fn a_socket_the_page_opened_early_is_adopted_and_not_opened_again() {
    let storage = store_token();
    let url = ws_url("billing");
    // One early socket already closed, which cannot be adopted, then one open.
    let closed = web_sys::WebSocket::new(&url).unwrap();
    let open = web_sys::WebSocket::new(&url).unwrap();
    wait_for("both early sockets to open", SECS, || {
        closed.ready_state() == web_sys::WebSocket::OPEN
            && open.ready_state() == web_sys::WebSocket::OPEN
    })
    .await;
    closed.close().unwrap();
    wait_for("the first to close", SECS, || {
        closed.ready_state() == web_sys::WebSocket::CLOSED
    })
    .await;
    early_sockets(&url, &[closed.clone(), open.clone()]);
    let before = report("billing").await;

    let (root, out, app) = mount_live("billing");
    wait_for("the status to say connected", SECS, || {
        text(&root, ".live .status") == "connected"
    })
    .await;
    let count = |r: &serde_json::Value, key: &str| r[key].as_u64().unwrap();
    wait_for_report("billing", "the adopted socket's auth", |r| {
        count(r, "auth_ok") == count(&before, "auth_ok") + 1
    })
    .await;
    let after = report("billing").await;
    assert_eq!(
        count(&after, "connections"),
        count(&before, "connections"),
        "no socket opened beside the early one"
    );
    let adopted = |ws: &web_sys::WebSocket| {
        js_sys::Reflect::get(ws, &"adopted".into())
            .unwrap()
            .is_truthy()
    };
    assert!(adopted(&open), "the open early socket is the connection's");
    assert!(!adopted(&closed), "a closed early socket is not adopted");
    assert!(out.borrow().as_ref().unwrap().is_connected());

    // Dropped with the provider, as a socket it opened itself would be.
    app.destroy();
    wait_for("the adopted socket to close", SECS, || {
        open.ready_state() == web_sys::WebSocket::CLOSED
    })
    .await;
    js_sys::Reflect::delete_property(&js_sys::global(), &"__switchboard".into()).unwrap();
    storage.remove_item("switchboard.access_token").unwrap();
}
