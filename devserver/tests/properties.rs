//! Property tests: whatever arrives, the devserver neither panics nor answers outside what it
//! documents. Arbitrary requests go to the control routes in process (no network), and
//! arbitrary frames to the connection handler through in-memory channels with paused time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::ws::Message;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use futures::channel::mpsc;
use proptest::prelude::*;
use switchboard_devserver::endpoint::Module;
use switchboard_devserver::{AppState, Settings, app, auth};
use switchboard_gateway::auth::Verifier;
use switchboard_gateway::{Endpoint, conn};
use tower::ServiceExt;

const SECRET: &str = "prop-secret";

fn settings() -> Settings {
    Settings {
        secret: SECRET.into(),
        auth_timeout: Duration::from_secs(5),
        rate_per_minute: 100,
        max_frame_bytes: 64 * 1024,
        seed: 5,
        world: Default::default(),
    }
}

/// The same settings, as the gateway library takes them.
fn served() -> switchboard_gateway::Settings {
    let s = settings();
    switchboard_gateway::Settings {
        auth: Arc::new(Verifier::hs256(&s.secret)),
        auth_timeout: s.auth_timeout,
        rate_per_minute: s.rate_per_minute,
        max_frame_bytes: s.max_frame_bytes,
        feed: s.world.feed(),
        per_token: Default::default(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// One control request from `peer`, answered in process.
async fn control(peer: SocketAddr, request: Request<Body>) -> StatusCode {
    let (state, _stop) = AppState::new(settings(), vec![], 4);
    let router = app(state).layer(MockConnectInfo(peer));
    router.oneshot(request).await.unwrap().status()
}

/// Query strings made of the characters that matter to a parser, and numbers at the edges.
fn query() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        Just("18446744073709551616".to_owned()),
        Just("-1".to_owned()),
        Just("1e9".to_owned()),
        "[0-9]{1,3}",
    ];
    let pair = (
        prop_oneof!["secs", "rate", "on", "[a-z]{1,4}"],
        prop_oneof![number, "[a-z%&=;]{0,6}"],
    )
        .prop_map(|(k, v)| format!("{k}={v}"));
    prop_oneof![
        prop::collection::vec(pair, 0..4).prop_map(|p| p.join("&")),
        "[ -~]{0,40}".prop_map(|s| s.replace(['#', ' '], "")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn control_answers_any_query_within_its_documented_codes(
        module in prop_oneof!["network", "sessions", "nope", "[a-z]{0,8}"],
        action in prop_oneof!["drop", "refuse", "silent", "malformed", "reject-auth", "flood", "script", "[a-z-]{0,8}"],
        q in query(),
        json in any::<bool>(),
        loopback in any::<bool>(),
    ) {
        let peer: SocketAddr = if loopback { "127.0.0.1:4000" } else { "203.0.113.9:4000" }.parse().unwrap();
        let content_type = if json { "application/json" } else { "text/plain" };
        let uri = format!("/_control/{module}/{action}?{q}");
        let request = Request::post(&uri)
            .header("host", "127.0.0.1:8090")
            .header("content-type", content_type)
            .body(Body::empty());
        // Text that is not a URI never reaches a server.
        prop_assume!(request.is_ok());
        let code = runtime().block_on(control(peer, request.unwrap()));
        let documented = [200, 400, 403, 404, 415];
        prop_assert!(documented.contains(&code.as_u16()), "{uri}: {code}");
        let routed = !module.is_empty() && !action.is_empty();
        if !loopback && routed {
            prop_assert_eq!(code, StatusCode::FORBIDDEN, "only loopback peers: {}", uri);
        }
        if loopback && !json && code != StatusCode::NOT_FOUND {
            prop_assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", uri);
        }
    }
}

/// What a client can put on the wire.
#[derive(Clone, Debug)]
enum Inbound {
    Text(String),
    Binary(Vec<u8>),
    ValidAuth,
    /// A valid auth frame asking to resume from a position (any epoch, any number).
    ResumeAuth(String, u64),
    Ping(Vec<u8>),
}

fn inbound() -> impl Strategy<Value = Inbound> {
    prop_oneof![
        any::<String>().prop_map(Inbound::Text),
        r#"\{"type":"(auth|resync|bandwidth_update|[a-z_]{0,8})","(token|data)":("[ -~]{0,20}"|null|[0-9]{1,20}|\{\}|\{"epoch":"[ -~]{0,12}","seq":-?[0-9]{1,21}\})\}"#.prop_map(Inbound::Text),
        ("[ -~]{0,12}", any::<u64>()).prop_map(|(e, s)| Inbound::ResumeAuth(e, s)),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Inbound::Binary),
        Just(Inbound::ValidAuth),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Inbound::Ping),
    ]
}

impl Inbound {
    fn message(&self) -> Message {
        match self {
            Inbound::Text(t) => Message::text(t.clone()),
            Inbound::Binary(b) => Message::Binary(b.clone().into()),
            Inbound::ResumeAuth(epoch, seq) => {
                let token = auth::mint(SECRET, "prop", Duration::from_secs(60)).unwrap();
                let resume = serde_json::json!({ "epoch": epoch, "seq": seq });
                Message::text(format!(
                    r#"{{"type":"auth","token":"{token}","resume":{resume}}}"#
                ))
            }
            Inbound::ValidAuth => {
                let token = auth::mint(SECRET, "prop", Duration::from_secs(60)).unwrap();
                Message::text(format!(r#"{{"type":"auth","token":"{token}"}}"#))
            }
            Inbound::Ping(p) => Message::Ping(p.clone().into()),
        }
    }
}

/// Feeds `frames` to one connection, ends the stream, and returns what the server sent.
async fn converse(module: Module, frames: &[Inbound]) -> Vec<Message> {
    let (to_server, server_rx) = mpsc::unbounded();
    let (server_tx, from_server) = mpsc::unbounded();
    let endpoint = Arc::new(Endpoint::new(module, &settings().world.feed()));
    let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    for f in frames {
        to_server.unbounded_send(Ok(f.message())).unwrap();
    }
    drop(to_server);
    let task = tokio::spawn(conn::run(
        server_tx,
        server_rx,
        endpoint,
        Arc::new(served()),
        shutdown_rx,
        0,
    ));
    let sent: Vec<Message> = from_server.collect().await;
    task.await.expect("the connection handler never panics");
    sent
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_connection_handler_survives_any_frames_and_closes_only_with_documented_codes(
        frames in prop::collection::vec(inbound(), 0..120),
        module in prop::sample::select(Module::all().collect::<Vec<_>>()),
    ) {
        let sent = runtime().block_on(converse(module, &frames));
        let closes: Vec<u16> = sent
            .iter()
            .filter_map(|m| match m {
                Message::Close(Some(f)) => Some(f.code),
                Message::Close(None) => Some(0),
                _ => None,
            })
            .collect();
        prop_assert!(closes.len() <= 1, "one close at most: {closes:?}");
        let authed = matches!(frames.first(), Some(Inbound::ValidAuth | Inbound::ResumeAuth(..)));
        if authed {
            // After auth, only the inbound rate limit (100 a minute) closes; otherwise the
            // client's end of the stream ends it without a close frame.
            let data = frames[1..]
                .iter()
                .filter(|f| !matches!(f, Inbound::Ping(_)))
                .count();
            let expected: &[u16] = if data > 100 { &[1008] } else { &[] };
            prop_assert_eq!(closes.as_slice(), expected);
        } else {
            // Anything but a valid auth frame first: 4001, and no data at all.
            prop_assert_eq!(closes.as_slice(), &[4001]);
            prop_assert_eq!(sent.len(), 1, "nothing but the close: {:?}", sent);
        }
    }
}
