//! Helpers for the gateway's tests against real processes: `nats-server` (one node, or a
//! three-node JetStream cluster) on loopback ports, gateway nodes in process, and a
//! WebSocket client. Every process dies with its handle.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use switchboard_gateway::auth::{Claims, Verifier, mint_claims};
use switchboard_gateway::broker::Broker;
use switchboard_gateway::broker::nats::Nats;
use switchboard_gateway::config::Config;
use switchboard_gateway::{Gateway, app, serve};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
pub const SEC: Duration = Duration::from_secs(1);
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `nats-server` from PATH, or where `cargo xtask bootstrap` puts it.
pub fn nats_server_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("nats-server"))
            .find(|p| p.is_file())
    });
    let cached = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/switchboard/tools/bin/nats-server"))
        .filter(|p| p.is_file());
    on_path.or(cached).expect(
        "nats-server is not installed: run `cargo xtask bootstrap` (it installs 2.15.1), \
         or put one on PATH",
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `nats-server` with JetStream, its store in a folder of its own.
pub struct NatsNode {
    pub name: String,
    pub port: u16,
    pub cluster_port: u16,
    pub store: PathBuf,
    routes: Vec<u16>,
    child: Option<Child>,
}

impl NatsNode {
    fn spawn(&mut self) {
        let mut cmd = Command::new(nats_server_binary());
        cmd.args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&self.store)
            .args(["-n", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !self.routes.is_empty() {
            let routes: Vec<String> = self
                .routes
                .iter()
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            cmd.args(["--cluster_name", "switchboard-test", "--cluster"])
                .arg(format!("nats://127.0.0.1:{}", self.cluster_port))
                .arg("--routes")
                .arg(routes.join(","));
        }
        self.child = Some(cmd.spawn().expect("nats-server starts"));
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Starts it again with its store wiped: a node that lost its storage.
    pub fn restart_fresh(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
        self.spawn();
    }
}

impl Drop for NatsNode {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// `n` nodes: one standalone server, or a cluster of them routed to each other.
pub async fn nats(n: usize) -> Vec<NatsNode> {
    let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let mut nodes: Vec<NatsNode> = (0..n)
        .map(|i| NatsNode {
            name: format!("n{i}-{}", std::process::id()),
            port: free_port(),
            cluster_port: cluster_ports[i],
            store: std::env::temp_dir().join(format!(
                "sb-nats-{}-{}",
                std::process::id(),
                free_port()
            )),
            routes: if n > 1 {
                cluster_ports.clone()
            } else {
                Vec::new()
            },
            child: None,
        })
        .collect();
    for node in &mut nodes {
        node.spawn();
    }
    for node in &nodes {
        wait_for_port(node.port).await;
    }
    nodes
}

pub async fn wait_for_port(port: u16) {
    let deadline = tokio::time::Instant::now() + 20 * SEC;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "port {port} never opened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn urls(nodes: &[NatsNode]) -> String {
    nodes
        .iter()
        .map(NatsNode::url)
        .collect::<Vec<_>>()
        .join(",")
}

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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /publish/{module} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
