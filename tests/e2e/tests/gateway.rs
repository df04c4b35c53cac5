//! The production path, whole: the built dashboard in Chromium, behind nginx with the
//! `upstream` that `cargo xtask dist --gateway` writes, on two `switchboard-gateway` processes
//! in front of a three-node NATS JetStream cluster (streams at replication 3). What is on the
//! screen is compared with what was published, through node kills, a rolling restart, a NATS
//! node lost, and a cluster that lost its storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../gateway/tests/common/nats.rs"]
mod nats;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use serde_json::Value;
use switchboard_e2e::{Harness, Options};
use switchboard_gateway::auth::{Claims, mint_claims};

const SEC: Duration = Duration::from_secs(1);
/// The gateways' HS256 secret (the test's own).
const SECRET: &str = "e2e-gateway-secret-0123456789abcdef";

fn gateway_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug/switchboard-gateway");
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p switchboard-gateway` (cargo xtask test builds it)",
        bin.display()
    );
    bin
}

/// One gateway process.
struct Gateway {
    addr: SocketAddr,
    config: PathBuf,
    child: Option<Child>,
}

impl Gateway {
    fn write_config(port: u16, nats: Option<&str>, site: SocketAddr) -> PathBuf {
        let nats = nats
            .map(|url| format!("[nats]\nurl = \"{url}\"\nreplicas = 3\n"))
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("sb-e2e-gateway-{port}.toml"));
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:{port}\"\norigins = [\"http://{site}\"]\n\
                 trusted_proxy_header = \"X-Forwarded-For\"\nshutdown_grace = \"3s\"\n\
                 [auth]\nhs256_secret = \"{SECRET}\"\naudience = \"switchboard\"\n\
                 publisher_audience = \"switchboard-publisher\"\n\
                 [streams]\nheartbeat = \"2s\"\n{nats}"
            ),
        )
        .unwrap();
        path
    }

    fn start(port: u16, nats: Option<&str>, site: SocketAddr) -> Self {
        let config = Self::write_config(port, nats, site);
        let mut g = Self {
            addr: ([127, 0, 0, 1], port).into(),
            config,
            child: None,
        };
        g.spawn();
        g
    }

    fn spawn(&mut self) {
        let child = Command::new(gateway_binary())
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.config.with_extension("log"))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .expect("the gateway starts");
        self.child = Some(child);
    }

    /// Waits until `/readyz` answers 200.
    async fn ready(&self, within: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(r) = switchboard_e2e::nginx::get(self.addr, "/readyz", &[]).await
                && r.status == 200
            {
                return Ok(());
            }
            ensure!(started.elapsed() < within, "{} never ready", self.addr);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&mut self, signal: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("sh")
                .args(["-c", &format!("kill -{signal} {}", child.id())])
                .status();
        }
    }

    fn kill(&mut self) {
        self.signal("KILL");
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// SIGTERM; returns how long the process took to exit.
    fn terminate(&mut self) -> Duration {
        let started = Instant::now();
        self.signal("TERM");
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        started.elapsed()
    }

    /// Sockets open per module, from `/metrics`.
    async fn connections(&self) -> u64 {
        let Ok(r) = switchboard_e2e::nginx::get(self.addr, "/metrics", &[]).await else {
            return 0;
        };
        String::from_utf8_lossy(&r.body)
            .lines()
            .filter(|l| l.starts_with("switchboard_connections{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(self.config.with_extension("log"));
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Rust client of `module` straight on a gateway node, authenticated and resuming cold.
async fn ws(addr: SocketAddr, module: &str, token: &str) -> Ws {
    use futures_util::SinkExt;
    let url = format!("ws://{addr}/ws/{module}");
    let mut client = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let auth = serde_json::json!({ "type": "auth", "token": token, "resume": { "parts": true } });
    client
        .send(tokio_tungstenite::tungstenite::Message::text(
            auth.to_string(),
        ))
        .await
        .unwrap();
    client
}

/// The next JSON frame that is not a heartbeat, or `None`.
async fn next_json(client: &mut Ws, within: Duration) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).ok()?;
                if v["type"] != "heartbeat" {
                    return Some(v);
                }
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// The close code the server sends next, skipping frames.
async fn close_code(client: &mut Ws, within: Duration) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| u16::from(f.code));
        }
    }
    None
}

fn token(aud: &str, modules: Option<&[&str]>) -> String {
    let now = Harness::now_ms() / 1000;
    mint_claims(
        SECRET,
        &Claims {
            sub: "e2e-operator".into(),
            iat: now,
            exp: now + 3600,
            aud: Some(aud.into()),
            modules: modules.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
            ..Claims::default()
        },
    )
    .unwrap()
}

/// What the test published: the sessions live now, and the bandwidth samples.
#[derive(Default)]
struct Log {
    live: BTreeSet<String>,
    next_id: u64,
    samples: u64,
}

async fn publish(site: SocketAddr, module: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(site).await else {
        return (0, String::new());
    };
    let req = format!(
        "POST /publish/{module} HTTP/1.1\r\nHost: {site}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token("switchboard-publisher", None),
        body.len()
    );
    let _ = stream.write_all(req.as_bytes()).await;
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out).await;
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

fn session(id: &str, action: &str) -> String {
    format!(
        r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"{id}","username":"{id}@example.net","ip_address":"10.0.0.1","nas_ip_address":"10.1.1.1","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2026-12-02T10:00:00Z"}}}}}}"#
    )
}

fn sample() -> String {
    let at = switchboard_core::Instant::from_millis(Harness::now_ms()).to_rfc3339();
    format!(
        r#"{{"type":"bandwidth_update","data":{{"timestamp":"{at}","upload_mbps":75.5,"download_mbps":150.2,"latency_ms":15}},"timestamp":"{at}"}}"#
    )
}

/// One round of traffic through nginx: a sample, a new session, and every third round the
/// oldest session ends. A refused publish (a node or a stream leader down) is retried until
/// it lands, so the log is exactly what the streams hold.
async fn round(site: SocketAddr, log: &mut Log) {
    let mut frames = vec![("network", sample())];
    let id = format!("s{}", log.next_id);
    frames.push(("sessions", session(&id, "new")));
    let ended = (log.next_id % 3 == 2)
        .then(|| log.live.iter().next().cloned())
        .flatten();
    if let Some(old) = &ended {
        frames.push(("sessions", session(old, "terminate")));
    }
    for (module, frame) in frames {
        let started = Instant::now();
        while publish(site, module, &frame).await.0 != 200 {
            assert!(
                started.elapsed() < 60 * SEC,
                "{module} could not be published for 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    log.samples += 1;
    log.live.insert(id);
    log.next_id += 1;
    if let Some(old) = ended {
        log.live.remove(&old);
    }
}

async fn screen_sessions(h: &Harness) -> Result<BTreeSet<String>> {
    let js = "return Array.from(document.querySelectorAll('tr[data-session]:not(.leaving)')).map(r => r.dataset.session)";
    Ok(h.eval(js)
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// Waits until the sessions table shows exactly the sessions published as live.
async fn table_is(h: &Harness, log: &Log, within: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let screen = screen_sessions(h).await?;
        if screen == log.live {
            return Ok(());
        }
        ensure!(
            started.elapsed() < within,
            "the sessions table never matched what was published:\n  screen:    {screen:?}\n  published: {:?}",
            log.live
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The bandwidth chart's `(runs, samples)` (see the kit's chart).
async fn chart(h: &Harness) -> Result<(u64, u64)> {
    let js = "const c = document.querySelector('[data-testid=bandwidth] canvas[role=img]'); return c ? [c.dataset.runs, c.dataset.samples] : ['-1','-1']";
    let v: Value = h.eval(js).await?;
    let n = |i: usize| {
        v[i].as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX)
    };
    Ok((n(0), n(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_two_gateway_nodes_behind_nginx_on_a_nats_cluster_lose_and_double_nothing() -> Result<()>
{
    let mut cluster = nats::nats(3).await;
    let urls = nats::urls(&cluster);
    let (port_a, port_b) = (nats::free_port(), nats::free_port());
    let site_port = nats::free_port();
    let site: SocketAddr = ([127, 0, 0, 1], site_port).into();
    let mut a = Gateway::start(port_a, Some(&urls), site);
    a.ready(60 * SEC).await?;
    let h = Harness::start_with(Options {
        gateways: vec![a.addr, ([127, 0, 0, 1], port_b).into()],
        site_port: Some(site_port),
        ..Options::default()
    })
    .await?;
    let mut log = Log::default();
    for _ in 0..6 {
        round(site, &mut log).await;
    }

    // The dashboard goes through nginx to A (B is not up yet); a Rust client on B later.
    h.open_with_token("/sessions", &token("switchboard", None))
        .await?;
    h.wait_status("sessions", "connected", 20 * SEC).await?;
    table_is(&h, &log, 20 * SEC).await?;
    let mut b = Gateway::start(port_b, Some(&urls), site);
    b.ready(60 * SEC).await?;
    let mut rust = ws(b.addr, "sessions", &token("switchboard", None)).await;
    let sync = next_json(&mut rust, 10 * SEC).await.expect("a sync on B");
    round(site, &mut log).await;
    // The frames the client on B gets continue from its sync, one position at a time.
    let epoch = sync["data"]["epoch"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut last = sync["data"]["seq"].as_u64().unwrap_or(0);
    while let Some(frame) = next_json(&mut rust, SEC).await {
        ensure!(
            frame["seq"].as_u64() == Some(last + 1),
            "{frame} after {last}"
        );
        last += 1;
    }
    table_is(&h, &log, 10 * SEC).await?;
    // The dashboard on A applied exactly as far, in the same epoch: the same stream, read by
    // two nodes, gives the same frames at the same positions.
    let want = format!("{epoch}:{last}");
    h.wait(
        &format!("the dashboard's sessions position to read {want}"),
        5 * SEC,
        &format!(
            "return document.querySelector('[data-testid=counters]')?.dataset.position === '{want}'"
        ),
    )
    .await?;

    // SIGKILL A: the dashboard reconnects through nginx to B and resumes. Traffic goes on
    // meanwhile; nothing is missed or doubled.
    a.kill();
    let killed = Instant::now();
    for _ in 0..4 {
        round(site, &mut log).await;
    }
    h.wait_status("sessions", "connected", 20 * SEC).await?;
    table_is(&h, &log, 20 * SEC).await?;
    eprintln!(
        "g1: after SIGKILL of A, the table matched again {:?} later",
        killed.elapsed()
    );
    ensure!(b.connections().await >= 2, "the dashboard is on B now");
    h.go("/network").await?;
    h.wait_status("network", "connected", 10 * SEC).await?;
    let started = Instant::now();
    loop {
        let (runs, samples) = chart(&h).await?;
        if runs == 1 && samples == log.samples.min(50) {
            break;
        }
        ensure!(
            started.elapsed() < 20 * SEC,
            "the chart shows {samples} samples in {runs} line(s); {} were published",
            log.samples
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A rolling restart: A comes back, then B gets SIGTERM: every socket closed with 1012,
    // and the dashboard is live on A in under 2 s.
    a.spawn();
    a.ready(60 * SEC).await?;
    h.go("/sessions").await?;
    let sigterm = Instant::now();
    let took = b.terminate();
    ensure!(took < 5 * SEC, "B exited {took:?} after SIGTERM");
    ensure!(
        close_code(&mut rust, 5 * SEC).await == Some(1012),
        "1012 from B"
    );
    // Live again means the dashboard's four modules have sockets on A (the backend's count,
    // not the badge, which still reads "connected" in the instant before the close lands).
    let modules = switchboard_devserver::endpoint::Module::all().count() as u64;
    while a.connections().await < modules {
        ensure!(
            sigterm.elapsed() < 2 * SEC,
            "after B's SIGTERM only {} of {modules} modules were on A within 2 s",
            a.connections().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "g1: every module live on A {:?} after B's SIGTERM",
        sigterm.elapsed()
    );
    h.wait_status("sessions", "connected", 2 * SEC).await?;
    round(site, &mut log).await;
    table_is(&h, &log, 10 * SEC).await?;

    // One NATS node dies: no frame is lost, and the dashboard stays connected throughout.
    cluster[2].kill();
    for _ in 0..5 {
        round(site, &mut log).await;
        ensure!(
            h.status("sessions").await? == "connected",
            "the dashboard noticed"
        );
    }
    table_is(&h, &log, 20 * SEC).await?;

    // The whole cluster comes back with fresh storage: new streams, a new epoch. The
    // dashboard takes a snapshot (of streams that hold nothing yet) and marks the gap.
    let snapshots = h.counter("snapshots").await?;
    for node in &mut cluster {
        node.kill();
    }
    for node in &mut cluster {
        node.restart_fresh();
    }
    log.live.clear();
    h.wait_counter("snapshots", snapshots + 1, 60 * SEC).await?;
    table_is(&h, &log, 10 * SEC).await?;
    round(site, &mut log).await;
    table_is(&h, &log, 20 * SEC).await?;
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_an_operator_without_billing_and_a_bad_batch_through_nginx() -> Result<()> {
    let (port, site_port) = (nats::free_port(), nats::free_port());
    let site: SocketAddr = ([127, 0, 0, 1], site_port).into();
    let node = Gateway::start(port, None, site);
    node.ready(20 * SEC).await?;
    let h = Harness::start_with(Options {
        gateways: vec![node.addr],
        site_port: Some(site_port),
        ..Options::default()
    })
    .await?;
    let mut log = Log::default();
    round(site, &mut log).await;
    // A token that names every module but billing.
    let limited = token("switchboard", Some(&["network", "sessions", "support"]));
    h.open_with_token("/billing", &limited).await?;
    h.wait(
        "the billing page to say this operator may not see it",
        10 * SEC,
        "return (document.querySelector('[data-testid=forbidden]')?.textContent ?? '')\
         .startsWith('Not allowed: this operator may not see Billing.')",
    )
    .await?;
    ensure!(h.status("billing").await? == "error");
    // Nothing of billing is shown instead, not even simulated: this operator may not see it.
    // (The billing simulator makes its first frames 3 s after it starts.)
    tokio::time::sleep(4 * SEC).await;
    let simulated = h
        .eval(
            "return !!document.querySelector('[data-module=billing] [data-testid=simulated], \
             [data-module=billing] [data-provenance=simulated], [data-module=billing] .sim')",
        )
        .await?;
    ensure!(
        simulated == Value::Bool(false),
        "the forbidden billing page shows simulated data"
    );
    h.go("/sessions").await?;
    h.wait_status("sessions", "connected", 10 * SEC).await?;
    table_is(&h, &log, 10 * SEC).await?;
    // One bad frame in a batch of three, through nginx: 422, and nothing of it on screen.
    let batch = format!(
        "[{},{},{}]",
        session("batch-1", "new"),
        r#"{"type":"session_update","data":{"action":"new"}}"#,
        session("batch-2", "new")
    );
    let (status, body) = publish(site, "sessions", &batch).await;
    ensure!(status == 422 && body.contains("frame 1"), "{status} {body}");
    round(site, &mut log).await;
    table_is(&h, &log, 10 * SEC).await?;
    ensure!(!screen_sessions(&h).await?.contains("batch-1"));
    h.finish().await
}
