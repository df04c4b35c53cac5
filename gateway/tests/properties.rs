//! Property tests: whatever a publisher sends, and whatever a client sends, the gateway
//! neither panics nor answers outside what docs/GATEWAY.md documents. Publish requests go
//! to the router in process (no network); client frames to the connection handler through
//! in-memory channels with paused time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::ws::Message;
use axum::http::Request;
use futures::StreamExt;
use futures::channel::mpsc;
use proptest::prelude::*;
use switchboard_gateway::auth::{Claims, Verifier, mint_claims};
use switchboard_gateway::broker::Broker;
use switchboard_gateway::config::Config;
use switchboard_gateway::{Endpoint, Module, app, conn};
use tower::ServiceExt;

const SECRET: &str = "0123456789abcdef0123456789abcdef-prop";

fn config() -> Config {
    Config::parse(
        &format!(
            "[auth]\nhs256_secret = \"{SECRET}\"\naudience = \"switchboard\"\n\
             publisher_audience = \"switchboard-publisher\"\n\
             [limits]\nmax_publish_bytes = 2048\npublishes_per_minute = 1000000\n"
        ),
        &[],
    )
    .unwrap()
}

fn token(aud: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mint_claims(
        SECRET,
        &Claims {
            sub: "prop".into(),
            iat: now,
            exp: now + 600,
            aud: Some(aud.into()),
            ..Claims::default()
        },
    )
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// A body: raw bytes, JSON-ish text, or frames assembled from valid and broken pieces.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let frame = prop_oneof![
        Just(r#"{"type":"ticket_update","data":{"ticket_id":"T","subject":"s","priority":"high","status":"open","assignee":null,"created_at":"2026-12-02T09:30:00Z","updated_at":"2026-12-02T10:00:00Z"}}"#.to_owned()),
        Just(r#"{"type":"ticket_update","data":{"ticket_id":7}}"#.to_owned()),
        Just(r#"{"type":"bandwidth_update","data":{}}"#.to_owned()),
        Just(r#"{"data":{}}"#.to_owned()),
        Just("null".to_owned()),
        "[a-z\":{},\\[\\] 0-9]{0,40}",
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "[\\[\\]{}\":,a-z0-9 ]{0,200}".prop_map(String::into_bytes),
        prop::collection::vec(frame, 0..8).prop_map(|f| format!("[{}]", f.join(",")).into_bytes()),
        prop::collection::vec(any::<u8>(), 2000..2200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_publish_body_gets_a_documented_status_and_a_refused_one_publishes_nothing(
        body in body(),
        module in prop::sample::select(vec!["support", "network", "nope"]),
        auth in prop::sample::select(vec!["publisher", "operator", "none", "garbage"]),
    ) {
        let config = config();
        let verifier = Arc::new(Verifier::new(config.auth.clone()).unwrap());
        let (gateway, _stop) = app::gateway(&config, verifier);
        let router = app::router(&gateway, &Broker::Memory, &config)
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        let mut request = Request::post(format!("/publish/{module}"))
            .header("Content-Type", "application/json");
        match auth {
            "publisher" => request = request.header("Authorization", format!("Bearer {}", token("switchboard-publisher"))),
            "operator" => request = request.header("Authorization", format!("Bearer {}", token("switchboard"))),
            "garbage" => request = request.header("Authorization", "Bearer x.y.z"),
            _ => {}
        }
        let heads = || Module::all().map(|m| gateway.endpoint(m).unwrap().feed().head()).sum::<u64>();
        let before = heads();
        let response = runtime().block_on(router.oneshot(request.body(Body::from(body.clone())).unwrap())).unwrap();
        let status = response.status().as_u16();
        prop_assert!([200, 401, 403, 404, 413, 422].contains(&status), "{status}");
        if status == 200 {
            prop_assert!(auth == "publisher" && module != "nope");
            prop_assert!(heads() > before);
        } else {
            prop_assert_eq!(heads(), before, "a refused request published nothing");
        }
    }
}

#[derive(Clone, Debug)]
enum Inbound {
    Text(String),
    Binary(Vec<u8>),
    Auth,
    Resync(u64),
}

fn inbound() -> impl Strategy<Value = Inbound> {
    prop_oneof![
        ".{0,80}".prop_map(Inbound::Text),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Inbound::Binary),
        Just(Inbound::Auth),
        any::<u64>().prop_map(Inbound::Resync),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_client_frames_close_only_with_documented_codes(
        frames in prop::collection::vec(inbound(), 0..120),
    ) {
        let config = config();
        let verifier = Arc::new(Verifier::new(config.auth.clone()).unwrap());
        let (gateway, _stop) = app::gateway(&config, verifier);
        let module = Module::named("sessions").unwrap();
        let endpoint: Arc<Endpoint> = gateway.endpoint(module).unwrap().clone();
        let settings = Arc::new(gateway.settings().clone());
        let sent = runtime().block_on(async move {
            let (to_server, server_rx) = mpsc::unbounded();
            let (server_tx, from_server) = mpsc::unbounded();
            let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
            for f in &frames {
                let message = match f {
                    Inbound::Text(t) => Message::text(t.clone()),
                    Inbound::Binary(b) => Message::Binary(b.clone().into()),
                    Inbound::Auth => Message::text(format!(
                        r#"{{"type":"auth","token":"{}","resume":{{}}}}"#,
                        token("switchboard")
                    )),
                    Inbound::Resync(seq) => Message::text(format!(
                        r#"{{"type":"resync","data":{{"epoch":"x","seq":{seq}}}}}"#
                    )),
                };
                to_server.unbounded_send(Ok(message)).unwrap();
            }
            drop(to_server);
            let task = tokio::spawn(conn::run(server_tx, server_rx, endpoint, settings, shutdown_rx, 0));
            let sent: Vec<Message> = from_server.collect().await;
            task.await.expect("the connection handler never panics");
            sent
        });
        let closes: Vec<u16> = sent
            .iter()
            .filter_map(|m| match m {
                Message::Close(Some(f)) => Some(f.code),
                Message::Close(None) => Some(0),
                _ => None,
            })
            .collect();
        prop_assert!(closes.len() <= 1, "{closes:?}");
        prop_assert!(closes.iter().all(|c| [4001, 1008].contains(c)), "{closes:?}");
    }
}
