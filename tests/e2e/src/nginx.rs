//! The release build behind Debian's nginx, deployed exactly as `cargo xtask dist` deploys
//! it: each test gets a copy of the dist with its own `config.json`, the `server` block that
//! `xtask::deploy` generates for it, and an nginx on a free loopback port that
//! stops with the test.
//!
//! Only the `http {}` wrapper below is the test's own: it loads the brotli module and keeps
//! every file nginx writes inside the test's folder, so it runs without root.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xtask::deploy::{self, Policy};

/// Where Debian's `libnginx-mod-http-brotli-static` puts its module.
const BROTLI_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";

/// One test's site: its folder, its policy and the nginx serving it.
#[derive(Debug)]
pub struct Site {
    /// The site's address.
    pub addr: SocketAddr,
    /// The served folder: a copy of the dist with the test's `config.json`.
    pub root: PathBuf,
    /// The CSP and headers nginx sends.
    pub policy: Policy,
    _nginx: tokio::process::Child,
}

fn nginx_binary() -> Result<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .context("nginx is not installed (`cargo xtask bootstrap` installs Debian's nginx)")
}

fn copy_dist(dist: &Path, root: &Path) -> Result<()> {
    std::fs::create_dir_all(root)?;
    for entry in std::fs::read_dir(dist)? {
        let entry = entry?;
        let name = entry.file_name();
        // The test writes its own deployment files.
        if entry.path().is_file() && !name.to_string_lossy().starts_with('_') {
            std::fs::copy(entry.path(), root.join(&name))?;
        }
    }
    Ok(())
}

impl Site {
    /// Deploys `dist` with `config` into a fresh folder under `dir` and starts nginx on
    /// `port`; with `gateways`, `/ws/` and `/publish/` go to their upstream, as
    /// `cargo xtask dist --gateway` deploys them.
    pub async fn start(
        dist: &Path,
        config: &str,
        dir: &Path,
        port: u16,
        gateways: &[SocketAddr],
    ) -> Result<Self> {
        let nginx = nginx_binary()?;
        if !Path::new(BROTLI_MODULE).is_file() {
            bail!("{BROTLI_MODULE} is missing (apt install libnginx-mod-http-brotli-static)");
        }
        let _ = std::fs::remove_dir_all(dir);
        let root = dir.join("site");
        copy_dist(dist, &root)?;
        let server_conf = dir.join("switchboard.conf");
        let written = deploy::write(
            &root,
            Some(config),
            "the end-to-end harness",
            &deploy::Nginx {
                listen: format!("127.0.0.1:{port}"),
                server_name: "_".into(),
                root: root.clone(),
                gateways: gateways.iter().map(ToString::to_string).collect(),
            },
            &server_conf,
        )?;
        let upstream = if gateways.is_empty() {
            String::new()
        } else {
            let path = dir.join("gateway-upstream.conf");
            let nodes: Vec<String> = gateways.iter().map(ToString::to_string).collect();
            std::fs::write(
                &path,
                deploy::gateway_upstream(&nodes, "the end-to-end harness"),
            )?;
            format!("  include {};\n", path.display())
        };
        let d = dir.display();
        let main_conf = dir.join("nginx.conf");
        std::fs::write(
            &main_conf,
            format!(
                "load_module {BROTLI_MODULE};\n\
                 daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 256; }}\n\
                 http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n\
                 \x20 access_log {d}/access.log;\n\
                 \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
                 \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
                 {upstream}\x20 include {};\n}}\n",
                server_conf.display()
            ),
        )?;
        let child = tokio::process::Command::new(nginx)
            .arg("-c")
            .arg(&main_conf)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting nginx")?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if started.elapsed() > Duration::from_secs(5) {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                bail!("nginx did not listen on {addr}: {log}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Self {
            addr,
            root,
            policy: written.policy,
            _nginx: child,
        })
    }

    /// Replaces `config.json`, as an operator does per environment.
    pub fn set_config(&self, json: &str) -> Result<()> {
        Ok(std::fs::write(self.root.join("config.json"), json)?)
    }
}

/// A response as it came off the wire.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names in lower case, with their values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as sent (still compressed when `Content-Encoding` says so).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` over HTTP/1.1 (nginx serves precompressed files to 1.1 clients only) with
/// these extra header lines, read to the end of the connection.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Result<Response> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .context("no status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// The headers a `_headers` file (Netlify / Cloudflare Pages rules) gives `path`: every rule
/// whose pattern matches, in file order, `*` matching any run of characters.
pub fn headers_for(headers_file: &str, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut applies = false;
    for line in headers_file.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with('/') {
            applies = glob(line.trim(), path);
        } else if applies && let Some((name, value)) = line.trim().split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn glob(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, tail)) => path.strip_prefix(head).is_some_and(|rest| {
            (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_rules_match_like_the_cdns_read_them() {
        let file = "# c\n/*\n  A: 1\n/index.html\n  B: 2\n/x-*.js\n  C: 3\n";
        let names =
            |p| -> Vec<String> { headers_for(file, p).into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names("/index.html"), ["a", "b"]);
        assert_eq!(names("/x-12.js"), ["a", "c"]);
        assert_eq!(names("/sessions"), ["a"]);
    }
}
