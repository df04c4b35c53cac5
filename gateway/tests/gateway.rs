//! The production gateway in process, with the in-memory broker, on a loopback port: what
//! a publisher, an operator's dashboard and an operator of the gateway see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use switchboard_gateway::auth::{Claims, Verifier, mint_claims};
use switchboard_gateway::broker::Broker;
use switchboard_gateway::config::Config;
use switchboard_gateway::{app, serve};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Node {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A configuration with `top` lines before the tables and `limits` lines in `[limits]`.
fn config_with(top: &str, limits: &str) -> Config {
    let text = format!(
        "listen = \"127.0.0.1:0\"\norigins = [\"https://noc.example.net\"]\n{top}\n\
         [auth]\nhs256_secret = \"{SECRET}\"\naudience = \"switchboard\"\n\
         publisher_audience = \"switchboard-publisher\"\n\
         [limits]\npublishes_per_minute = 5\nmax_publish_bytes = 4096\n{limits}\n"
    );
    Config::parse(&text, &[]).unwrap()
}

fn config() -> Config {
    config_with("", "")
}

async fn start(config: Config) -> Node {
    let verifier = Arc::new(Verifier::new(config.auth.clone()).unwrap());
    let (gateway, stop_tx) = app::gateway(&config, verifier);
    let router = app::router(&gateway, &Broker::Memory, &config);
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        gateway.clone(),
        listener,
        router,
        stop_tx,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(2),
    ));
    Node {
        addr,
        stop: Some(stop),
        task,
    }
}

fn token(aud: &str, modules: Option<&[&str]>) -> String {
    token_for(&format!("{aud}-user"), aud, modules)
}

fn token_for(sub: &str, aud: &str, modules: Option<&[&str]>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mint_claims(
        SECRET,
        &Claims {
            sub: sub.to_owned(),
            iat: now,
            exp: now + 600,
            aud: Some(aud.into()),
            modules: modules.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
            ..Claims::default()
        },
    )
    .unwrap()
}

fn operator() -> String {
    token("switchboard", None)
}

fn publisher() -> String {
    token("switchboard-publisher", None)
}

async fn http(node: &Node, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(node.addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

async fn publish(node: &Node, module: &str, token: &str, body: &str) -> (u16, String) {
    let headers = format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n");
    http(node, "POST", &format!("/publish/{module}"), &headers, body).await
}

async fn connect(node: &Node, module: &str, token: &str) -> Client {
    let url = format!("ws://{}/ws/{module}", node.addr);
    let mut client = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let auth = format!(r#"{{"type":"auth","token":"{token}","resume":{{"parts":true}}}}"#);
    client.send(Message::text(auth)).await.unwrap();
    client
}

async fn next_json(client: &mut Client, within: Duration) -> Option<serde_json::Value> {
    loop {
        match tokio::time::timeout(within, client.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) => return None,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) => return None,
        }
    }
}

async fn close_code(client: &mut Client, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| u16::from(f.code));
        }
    }
    None
}

fn session(id: &str, action: &str) -> String {
    format!(
        r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"{id}","username":"u@example.net","ip_address":"10.0.0.1","nas_ip_address":"10.1.1.1","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2026-12-02T10:00:00Z"}}}}}}"#
    )
}

const SEC: Duration = Duration::from_secs(1);

#[tokio::test]
async fn published_frames_reach_every_client_at_their_positions_and_a_bad_batch_reaches_none() {
    let node = start(config()).await;
    let mut client = connect(&node, "sessions", &operator()).await;
    let sync = next_json(&mut client, 5 * SEC).await.unwrap();
    assert_eq!(sync["type"], "sync");
    assert_eq!(sync["data"]["mode"], "snapshot");

    // One bad frame in three: 422 naming it, and nothing of the batch published.
    let bad = format!(
        "[{},{},{}]",
        session("s1", "new"),
        r#"{"type":"session_update","data":{"action":"new","session":{"session_id":7}}}"#,
        session("s2", "new")
    );
    let (status, body) = publish(&node, "sessions", &publisher(), &bad).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("frame 1"), "{body}");
    let (status, body) = publish(
        &node,
        "sessions",
        &publisher(),
        r#"{"type":"bandwidth_update","data":{}}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("not a channel of sessions"), "{body}");

    // A good batch: published in order, at positions 1 and 2.
    let good = format!("[{},{}]", session("s1", "new"), session("s2", "new"));
    let (status, body) = publish(&node, "sessions", &publisher(), &good).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["published"], 2);
    assert_eq!(answer["seq"], serde_json::json!([1, 2]));
    for (seq, id) in [(1, "s1"), (2, "s2")] {
        let frame = next_json(&mut client, 5 * SEC).await.unwrap();
        assert_eq!(frame["seq"], seq, "{frame}");
        assert_eq!(frame["data"]["session"]["session_id"], id);
    }
    // Nothing from the refused batches came before them.
    assert!(next_json(&mut client, SEC / 2).await.is_none());
}

#[tokio::test]
async fn tokens_for_one_purpose_never_serve_the_other() {
    let node = start(config()).await;
    // An operator token cannot publish; a publisher token cannot open a socket.
    let (status, body) = publish(&node, "sessions", &operator(), &session("s", "new")).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("audience"), "{body}");
    let mut client = connect(&node, "sessions", &publisher()).await;
    assert_eq!(close_code(&mut client, 5 * SEC).await, Some(4001));
    // A publisher limited to network may not publish sessions.
    let network_only = token("switchboard-publisher", Some(&["network"]));
    let (status, _) = publish(&node, "sessions", &network_only, &session("s", "new")).await;
    assert_eq!(status, 403);
    // No token at all.
    let (status, _) = http(&node, "POST", "/publish/sessions", "", "[]").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_operator_without_billing_gets_4003_there_and_the_rest_works() {
    let node = start(config()).await;
    let limited = token("switchboard", Some(&["network", "sessions", "support"]));
    let mut billing = connect(&node, "billing", &limited).await;
    assert_eq!(close_code(&mut billing, 5 * SEC).await, Some(4003));
    let mut sessions = connect(&node, "sessions", &limited).await;
    let sync = next_json(&mut sessions, 5 * SEC).await.unwrap();
    assert_eq!(sync["type"], "sync");
    let (_, metrics) = http(&node, "GET", "/metrics", "", "").await;
    assert!(
        metrics
            .contains(r#"switchboard_auth_failures_total{module="billing",reason="forbidden"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn publishing_is_bounded_by_size_and_by_rate_per_token() {
    let node = start(config()).await;
    let huge = format!("[{}]", vec![session("s", "update"); 40].join(","));
    let (status, _) = publish(&node, "sessions", &publisher(), &huge).await;
    assert_eq!(status, 413, "over max_publish_bytes");
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            publish(&node, "sessions", &publisher(), &session("s", "update"))
                .await
                .0,
        );
    }
    assert_eq!(&statuses[..4], &[200; 4], "{statuses:?}");
    assert!(statuses[4..].contains(&429), "{statuses:?}");
    // Another publisher has its own budget.
    let other = token_for("billing-system", "switchboard-publisher", None);
    let (status, _) = publish(&node, "sessions", &other, &session("s", "update")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_page_from_an_origin_not_listed_is_refused_and_a_listed_one_is_not() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let node = start(config()).await;
    for (origin, ok) in [
        ("https://noc.example.net", true),
        ("https://evil.example", false),
        ("http://localhost:8000", false),
    ] {
        let mut req = format!("ws://{}/ws/network", node.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        let result = tokio_tungstenite::connect_async(req).await;
        assert_eq!(result.is_ok(), ok, "{origin}");
    }
}

#[tokio::test]
async fn behind_a_proxy_the_limit_per_address_counts_the_address_the_proxy_saw() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let node = start(config_with(
        "trusted_proxy_header = \"X-Forwarded-For\"",
        "max_connections_per_ip = 1",
    ))
    .await;
    let open = |forwarded: &'static str| {
        let mut req = format!("ws://{}/ws/network", node.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("X-Forwarded-For", forwarded.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    // Two clients behind one proxy (one TCP peer) count apart.
    let a = open("10.0.0.1").await;
    let b = open("10.0.0.2").await;
    assert!(a.is_ok() && b.is_ok());
    // A second socket from 10.0.0.1 is over its limit, even when the client puts another
    // address first in the header (only the proxy's own entry, the last, counts).
    assert!(open("10.0.0.1").await.is_err());
    assert!(open("10.9.9.9, 10.0.0.1").await.is_err());
    drop(a);
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1012_and_readyz_says_so_first() {
    let mut node = start(config()).await;
    let (status, body) = http(&node, "GET", "/readyz", "", "").await;
    assert_eq!((status, body.as_str()), (200, "ready (memory)"));
    let mut a = connect(&node, "network", &operator()).await;
    let mut b = connect(&node, "support", &operator()).await;
    assert!(next_json(&mut a, 5 * SEC).await.is_some());
    assert!(next_json(&mut b, 5 * SEC).await.is_some());
    let _ = node.stop.take().unwrap().send(());
    assert_eq!(close_code(&mut a, 5 * SEC).await, Some(1012));
    assert_eq!(close_code(&mut b, 5 * SEC).await, Some(1012));
    let stopped = tokio::time::timeout(5 * SEC, node.task).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}
