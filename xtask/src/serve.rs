//! A static file server that behaves like a CDN in front of the dist folder: unknown paths get
//! `index.html` (so deep links work), and `.br` or `.gz` files are served when the client
//! accepts them. Used by the release smoke check; one thread per connection is plenty.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn respond(root: &Path, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut accept = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("accept-encoding:") {
            accept = v.trim().to_owned();
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let target = target.split(['?', '#']).next().unwrap_or("/");
    let mut path: PathBuf = root.join(target.trim_start_matches('/'));
    if target.contains("..") || !path.is_file() {
        path = root.join("index.html");
    }
    let (mut file, mut encoding) = (path.clone(), None);
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        let candidate = PathBuf::from(format!("{}.{ext}", path.display()));
        if accept.contains(enc) && candidate.is_file() {
            (file, encoding) = (candidate, Some(enc));
            break;
        }
    }
    let body = std::fs::read(&file)?;
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        content_type(&path),
        body.len()
    )?;
    if let Some(enc) = encoding {
        write!(out, "Content-Encoding: {enc}\r\nVary: Accept-Encoding\r\n")?;
    }
    write!(out, "Connection: close\r\n\r\n")?;
    out.write_all(&body)
}

/// Serves `root` on a free loopback port for as long as the process lives; returns the port.
pub fn spawn(root: &Path) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let root = root.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let root = root.clone();
            std::thread::spawn(move || respond(&root, stream));
        }
    });
    Ok(port)
}

/// Loads the built page in headless Chromium and checks that the wasm rendered the shell.
pub fn smoke(dist: &Path) -> Result<()> {
    let index = std::fs::read_to_string(dist.join("index.html")).context("dist/index.html")?;
    let wasm = std::fs::read_dir(dist)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".wasm"))
        .context("no .wasm in dist")?;
    if !index.contains(&wasm) {
        bail!("index.html does not reference {wasm}");
    }
    let port = spawn(dist)?;
    let profile = std::env::temp_dir().join(format!("switchboard-smoke-{}", std::process::id()));
    let out = Command::new("/usr/bin/chromium")
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .context("starting chromium")?;
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&out.stdout);
    if !dom.contains(r#"data-testid="shell""#) {
        bail!(
            "the page did not render the shell; Chromium printed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("release smoke check: {wasm} loaded and rendered the shell");
    Ok(())
}

/// The flags that keep headless Chromium quiet on a machine with no network.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];
