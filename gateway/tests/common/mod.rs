//! Helpers for the gateway's tests against real processes: `nats-server` (one node, or a
//! three-node JetStream cluster) on loopback ports, gateway nodes in process, and a
//! WebSocket client. Every process dies with its handle.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod nats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use switchboard_gateway::auth::{Claims, Verifier, mint_claims};
use switchboard_gateway::broker::Broker;
use switchboard_gateway::broker::nats::Nats;
use switchboard_gateway::config::Config;
use switchboard_gateway::{Gateway, app, serve};

pub use nats::*;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
pub const SEC: Duration = Duration::from_secs(1);
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A gateway node in process.
pub struct Node {
    pub addr: SocketAddr,
    pub gateway: Gateway,
    pub broker: Broker,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Node {
    /// Stops it as SIGTERM would: every socket closed with 1012.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(10 * SEC, task).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub fn config(nats: Option<&str>, replicas: usize) -> Config {
    let nats = nats
        .map(|url| format!("[nats]\nurl = \"{url}\"\nreplicas = {replicas}\n"))
        .unwrap_or_default();
    let text = format!(
        "listen = \"127.0.0.1:0\"\norigins = [\"*\"]\n\
         [auth]\nhs256_secret = \"{SECRET}\"\naudience = \"switchboard\"\n\
         publisher_audience = \"switchboard-publisher\"\n\
         [limits]\npublishes_per_minute = 100000\n\
         [streams]\nheartbeat = \"1s\"\n{nats}"
    );
    Config::parse(&text, &[]).unwrap()
}

/// A gateway node on a free port, with the broker `config` names, serving once its feeds
/// are complete. `RUST_LOG` shows its logs in a failing test's output.
pub async fn start_node(config: Config) -> Node {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let verifier = Arc::new(Verifier::new(config.auth.clone()).unwrap());
    let (gateway, stop_tx) = app::gateway(&config, verifier);
    let broker = match &config.nats {
        None => Broker::Memory,
        Some(nats) => {
            let nats = Nats::connect(nats, &config.streams).await.unwrap();
            nats.follow_all(&gateway);
            Broker::Nats(nats)
        }
    };
    let router = app::router(&gateway, &broker, &config);
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
        2 * SEC,
    ));
    let deadline = tokio::time::Instant::now() + 20 * SEC;
    while broker.ready().is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {:?}",
            broker.ready()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node {
        addr,
        gateway,
        broker,
        stop: Some(stop),
        task: Some(task),
    }
}

pub fn token(aud: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mint_claims(
        SECRET,
        &Claims {
            sub: format!("{aud}-test"),
            iat: now,
            exp: now + 3600,
            aud: Some(aud.into()),
            ..Claims::default()
        },
    )
    .unwrap()
}

/// A client of `module` on `addr`, authenticated, offering resume from `from`
/// (`(epoch, seq)`), or cold.
pub async fn connect(addr: SocketAddr, module: &str, from: Option<(&str, u64)>) -> Client {
    let url = format!("ws://{addr}/ws/{module}");
    let mut client = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let resume = match from {
        Some((epoch, seq)) => serde_json::json!({ "epoch": epoch, "seq": seq, "parts": true }),
        None => serde_json::json!({ "parts": true }),
    };
    let auth =
        serde_json::json!({ "type": "auth", "token": token("switchboard"), "resume": resume });
    client.send(Message::text(auth.to_string())).await.unwrap();
    client
}

/// The next JSON frame that is not a heartbeat, or `None` on a close or timeout.
pub async fn next_frame(client: &mut Client, within: Duration) -> Option<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "heartbeat" {
                    return Some(v);
                }
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) | Ok(Some(Err(_))) => {
                return None;
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// The close code the server sends next, skipping frames.
pub async fn close_code(client: &mut Client, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| u16::from(f.code));
        }
    }
    None
}

/// POSTs frames to `/publish/{module}`; the status and body.
pub async fn publish(addr: SocketAddr, module: &str, body: &str) -> (u16, String) {
    publish_keyed(addr, module, body, None).await
}

/// [`publish`] with an `Idempotency-Key`.
pub async fn publish_keyed(
    addr: SocketAddr,
    module: &str,
    body: &str,
    key: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let key = key.map_or(String::new(), |k| format!("Idempotency-Key: {k}\r\n"));
    let req = format!(
        "POST /publish/{module} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         {key}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token("switchboard-publisher"),
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
    (
        status,
        out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned(),
    )
}

/// A `session_update` frame.
pub fn session(id: &str, action: &str, bytes: u64) -> String {
    format!(
        r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"{id}","username":"{id}@example.net","ip_address":"10.0.0.1","nas_ip_address":"10.1.1.1","upload_bytes":{bytes},"download_bytes":{bytes},"session_time_seconds":3,"last_update":"2026-12-02T10:00:00Z"}}}}}}"#
    )
}
