//! `nats-server` processes for tests: one JetStream server, or a cluster of them, on loopback
//! ports, each with its store in a folder of its own; every process dies with its handle.
//! The gateway's tests and the end-to-end suite (by `#[path]`) share it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;

const SEC: Duration = Duration::from_secs(1);

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
