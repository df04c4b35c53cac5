//! The gateway under load: 1,000 WebSocket clients on one node, and a publisher that raises
//! its rate until delivery stops keeping up (fewer than 95 % of the frames owed arrive, or
//! the p99 publish-to-client latency passes 200 ms). Run with
//! `cargo bench -p switchboard-gateway --bench load` (or `cargo xtask bench`); prints a
//! table, asserts nothing.
//!
//! The gateway runs as its own process (the release binary), so its CPU time and memory are
//! its own, read from `/proc`. The clients and the publisher share this process; NATS, when
//! used, is one more process on the same 2-core machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/nats.rs"]
mod nats;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use switchboard_gateway::auth::{Claims, mint_claims};
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "bench-secret-0123456789abcdef0123456789";
const CLIENTS: usize = 1_000;
const STEP: Duration = Duration::from_secs(5);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn token(aud: &str) -> String {
    let now = now_ms() / 1000;
    mint_claims(
        SECRET,
        &Claims {
            sub: "bench".into(),
            iat: now,
            exp: now + 3600,
            aud: Some(aud.into()),
            ..Claims::default()
        },
    )
    .unwrap()
}

fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    for profile in ["release", "debug"] {
        let bin = target.join(profile).join("switchboard-gateway");
        if bin.is_file() {
            return bin;
        }
    }
    panic!("build the gateway first: cargo build --release -p switchboard-gateway");
}

struct Node {
    port: u16,
    child: Child,
    config: PathBuf,
}

impl Node {
    async fn start(nats: Option<&str>) -> Self {
        let port = nats::free_port();
        let config = std::env::temp_dir().join(format!("sb-bench-gateway-{port}.toml"));
        let nats = nats
            .map(|u| format!("[nats]\nurl = \"{u}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\n[auth]\nhs256_secret = \"{SECRET}\"\n\
                 audience = \"switchboard\"\npublisher_audience = \"switchboard-publisher\"\n\
                 [limits]\nmax_connections_per_ip = 5000\nmax_connections_per_token = 5000\n\
                 publishes_per_minute = 1000000\n\
                 max_publish_bytes = 4194304\n{nats}"
            ),
        )
        .unwrap();
        let child = Command::new(binary())
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let node = Self {
            port,
            child,
            config,
        };
        let started = Instant::now();
        loop {
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let _ = s
                    .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .await;
                let mut out = String::new();
                let _ = s.read_to_string(&mut out).await;
                if out.starts_with("HTTP/1.1 200") {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "never ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        node
    }

    /// Sockets open, from `/metrics`.
    async fn open_sockets(&self) -> u64 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else {
            return 0;
        };
        let _ = s
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out.lines()
            .filter(|l| l.starts_with("switchboard_connections{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// CPU seconds (user + system) the process has used.
    fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of stat; 11 and 12 after the name.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Resident memory, MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// The slowest latency the histogram tells apart, in ms; slower ones count here.
const MAX_MS: usize = 5_000;

/// What the clients have received: a count, and a histogram of publish-to-client latency by
/// millisecond (lock-free, so that counting does not slow the clients down).
struct Received {
    frames: AtomicU64,
    latency: Vec<AtomicU64>,
}

impl Received {
    fn new() -> Self {
        Self {
            frames: AtomicU64::new(0),
            latency: (0..=MAX_MS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn reset(&self) {
        self.frames.store(0, Ordering::Relaxed);
        for bucket in &self.latency {
            bucket.store(0, Ordering::Relaxed);
        }
    }

    /// The latency at quantile `q` (0 to 1), in ms.
    fn quantile(&self, q: f64) -> u32 {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let want = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= want.max(1) {
                return ms as u32;
            }
        }
        MAX_MS as u32
    }
}

async fn client(port: u16, received: Arc<Received>) {
    let url = format!("ws://127.0.0.1:{port}/ws/network");
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    let auth = format!(r#"{{"type":"auth","token":"{}"}}"#, token("switchboard"));
    if ws.send(Message::text(auth)).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        // The envelope's timestamp is the publish time (ms): `"timestamp":"…"` at the end.
        let at = text
            .rsplit("\"timestamp\":\"")
            .next()
            .and_then(|t| t.split('"').next())
            .and_then(switchboard_core::Instant::parse_rfc3339);
        received.frames.fetch_add(1, Ordering::Relaxed);
        if let Some(at) = at {
            let ms = (now_ms().saturating_sub(at.as_millis()) as usize).min(MAX_MS);
            received.latency[ms].fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn frame() -> String {
    let at = switchboard_core::Instant::from_millis(now_ms()).to_rfc3339();
    format!(
        r#"{{"type":"bandwidth_update","data":{{"timestamp":"{at}","upload_mbps":75.5,"download_mbps":150.2,"latency_ms":15}},"timestamp":"{at}"}}"#
    )
}

/// Publishes `rate` frames a second for `STEP`, in 10 ms batches, through `POST /publish`.
async fn publish_for(port: u16, rate: u32) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let publisher = token("switchboard-publisher");
    let started = Instant::now();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while started.elapsed() < STEP {
        tick.tick().await;
        let owed = (f64::from(rate) * started.elapsed().as_secs_f64()) as u64;
        let n = owed.saturating_sub(sent);
        if n == 0 {
            continue;
        }
        let body = format!("[{}]", vec![frame(); n as usize].join(","));
        let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            continue;
        };
        let req = format!(
            "POST /publish/network HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {publisher}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.write_all(req.as_bytes()).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        sent += n;
    }
}

struct Row {
    rate: u32,
    delivered_per_sec: f64,
    kept_up: f64,
    per_cpu_sec: f64,
    p50: u32,
    p99: u32,
    rss: f64,
}

async fn run(label: &str, nodes: &[Node]) -> Vec<Row> {
    let received = Arc::new(Received::new());
    let per_node = CLIENTS / nodes.len();
    for node in nodes {
        for _ in 0..per_node {
            tokio::spawn(client(node.port, received.clone()));
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for node in nodes {
        eprintln!(
            "{label}: {} sockets open on :{}",
            node.open_sockets().await,
            node.port
        );
    }
    let mut rows = Vec::new();
    for rate in [10u32, 25, 50, 100, 200, 400, 800, 1600, 3200] {
        received.reset();
        let cpu0: f64 = nodes.iter().map(Node::cpu_secs).sum();
        let started = Instant::now();
        publish_for(nodes[0].port, rate).await;
        tokio::time::sleep(Duration::from_millis(500)).await; // the last frames in flight
        let secs = started.elapsed().as_secs_f64();
        let cpu = nodes.iter().map(Node::cpu_secs).sum::<f64>() - cpu0;
        let frames = received.frames.load(Ordering::Relaxed) as f64;
        let owed = f64::from(rate) * STEP.as_secs_f64() * (per_node * nodes.len()) as f64;
        let q = |p: f64| received.quantile(p);
        let row = Row {
            rate,
            delivered_per_sec: frames / secs / nodes.len() as f64,
            kept_up: frames / owed,
            per_cpu_sec: if cpu > 0.0 { frames / cpu } else { 0.0 },
            p50: q(0.5),
            p99: q(0.99),
            rss: nodes.iter().map(Node::rss_mib).fold(0.0, f64::max),
        };
        println!(
            "{label:<22} {:>6}/s  {:>10.0}  {:>6.1} %  {:>10.0}  {:>5} ms  {:>5} ms  {:>7.1} MiB",
            row.rate,
            row.delivered_per_sec,
            row.kept_up * 100.0,
            row.per_cpu_sec,
            row.p50,
            row.p99,
            row.rss
        );
        let done = row.kept_up < 0.95 || row.p99 > 200;
        rows.push(row);
        if done {
            break;
        }
    }
    rows
}

#[tokio::main]
async fn main() {
    println!(
        "{:<22} {:>8}  {:>10}  {:>8}  {:>10}  {:>8}  {:>8}  {:>11}",
        "broker, nodes",
        "publish",
        "deliv/s/node",
        "kept up",
        "per CPU-s",
        "p50",
        "p99",
        "gateway RSS"
    );
    {
        let node = Node::start(None).await;
        run("memory, 1 node", std::slice::from_ref(&node)).await;
    }
    let cluster = nats::nats(1).await;
    let urls = nats::urls(&cluster);
    let a = Node::start(Some(&urls)).await;
    let b = Node::start(Some(&urls)).await;
    run("nats, 2 nodes", &[a, b]).await;
}
