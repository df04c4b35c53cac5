//! Helpers shared by the devserver's integration tests: a server on port 0, a client, and
//! readers that wait for conditions with timeouts (never fixed sleeps).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use switchboard_devserver::{AppState, Control, Settings, auth, serve};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "test-secret";
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Server {
    pub addr: SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub fn settings() -> Settings {
    Settings {
        secret: SECRET.into(),
        auth_timeout: Duration::from_millis(500),
        rate_per_minute: 100,
        max_frame_bytes: 64 * 1024,
        seed: 7,
        world: Default::default(),
    }
}

pub async fn start_with(settings: Settings, origins: Vec<String>, max: usize) -> Server {
    start_controlled(settings, origins, max, Control::Loopback).await
}

/// A server whose `/_control` and `/dev` are open as `control` says.
pub async fn start_controlled(
    settings: Settings,
    origins: Vec<String>,
    max: usize,
    control: Control,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (state, stop_tx) = AppState::new(settings, origins, max);
    let state = state.with_control(control);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, stop_tx, async move {
        let _ = rx.await;
    }));
    Server { addr, stop, task }
}

pub async fn start() -> Server {
    start_with(settings(), vec![], 64).await
}

pub fn token() -> String {
    auth::mint(SECRET, "tester", Duration::from_secs(600)).unwrap()
}

pub async fn connect(server: &Server, module: &str) -> Client {
    let url = format!("ws://{}/ws/{module}", server.addr);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

pub async fn connect_with_origin(
    server: &Server,
    module: &str,
    origin: &str,
) -> Result<Client, String> {
    let mut req = format!("ws://{}/ws/{module}", server.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("Origin", origin.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(c, _)| c)
        .map_err(|e| e.to_string())
}

/// Tries to connect to `module` and returns why it failed (the HTTP status is in the text).
pub async fn refused(server: &Server, module: &str) -> String {
    let url = format!("ws://{}/ws/{module}", server.addr);
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the connection to {module} was accepted"),
        Err(e) => e.to_string(),
    }
}

pub async fn authed(server: &Server, module: &str) -> Client {
    let mut client = connect(server, module).await;
    let auth = format!(r#"{{"type":"auth","token":"{}"}}"#, token());
    client.send(Message::text(auth)).await.unwrap();
    client
}

/// The next message, or `None` on timeout or end of stream.
pub async fn next(client: &mut Client, within: Duration) -> Option<Message> {
    match tokio::time::timeout(within, client.next()).await {
        Ok(Some(Ok(m))) => Some(m),
        _ => None,
    }
}

/// Reads until the server closes; returns the close code.
pub async fn close_code(client: &mut Client, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| u16::from(f.code));
        }
    }
    None
}

pub async fn control(server: &Server, path: &str) -> String {
    control_body(server, path, "").await
}

/// A minimal HTTP/1.1 request to the control endpoint (no HTTP client crate needed), as a
/// tool on this machine would send it: posts say `Content-Type: application/json`. Asserts
/// a 200.
pub async fn control_body(server: &Server, path: &str, body: &str) -> String {
    let method = if path.contains("report") || path.ends_with("/audit") {
        "GET"
    } else {
        "POST"
    };
    let content_type = if method == "POST" {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let out = http(server, method, path, content_type, body).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{method} {path}: {out}");
    out
}

/// Sends one HTTP/1.1 request with these extra header lines (each ending in `\r\n`) and
/// returns the whole response.
pub async fn http(server: &Server, method: &str, path: &str, headers: &str, body: &str) -> String {
    http_to(server, "127.0.0.1", method, path, headers, body).await
}

/// As [`http`], for the `Host` named.
pub async fn http_to(
    server: &Server,
    host: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

pub async fn report(server: &Server) -> serde_json::Value {
    let raw = control(server, "/_control/report").await;
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("{}");
    serde_json::from_str(body).unwrap()
}

/// The body of a `GET` of the control endpoint, as JSON.
pub async fn control_json(server: &Server, path: &str) -> serde_json::Value {
    let raw = control(server, path).await;
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("null");
    serde_json::from_str(body).unwrap()
}
