//! The end-to-end harness: the release build served like a CDN, the development backend in
//! process, and headless Chromium driven through chromedriver. Each test gets its own of all
//! three, on free loopback ports, and waits for conditions, never for fixed times.
//!
//! The dist folder comes from `SWITCHBOARD_E2E_DIST` (set by `cargo xtask test`, which builds
//! it once), or `dist/` at the workspace root.

mod cdn;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use switchboard_devserver::endpoint::{Endpoint, Fault, Module};
use switchboard_devserver::{AppState, Settings};

pub use switchboard_devserver::endpoint::Report;

const SECRET: &str = "e2e-secret";
/// The `sessionStorage` key the e2e configs use.
pub const TOKEN_KEY: &str = "e2e.token";

/// Chromium's flags for a closed network (see `shared/TOOLCHAIN.md`).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    // Exact `performance.memory` figures, and `gc()`, for the benchmark's memory readings.
    "--enable-precise-memory-info",
    "--js-flags=--expose-gc",
];

/// One test's world.
pub struct Harness {
    /// The browser.
    pub client: Client,
    /// The devserver's state: faults and reports.
    pub backend: AppState,
    /// The devserver's address.
    pub backend_addr: SocketAddr,
    /// The CDN's address.
    pub site: SocketAddr,
    config: Arc<Mutex<String>>,
    _chromedriver: tokio::process::Child,
    /// Dropping it shuts the devserver down.
    _backend_stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("site", &self.site)
            .field("backend", &self.backend_addr)
            .finish_non_exhaustive()
    }
}

fn dist() -> PathBuf {
    std::env::var_os("SWITCHBOARD_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dist"))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Harness {
    /// Starts everything. The config points every module at the devserver.
    pub async fn start() -> Result<Self> {
        let dist = dist();
        if !dist.join("index.html").is_file() {
            bail!(
                "no release build at {} (run `cargo xtask test`, which builds it)",
                dist.display()
            );
        }
        let settings = Settings {
            secret: SECRET.into(),
            auth_timeout: Duration::from_secs(5),
            rate_per_minute: 100,
            max_frame_bytes: 64 * 1024,
            seed: 11,
        };
        let (backend, stop) = AppState::new(settings, vec![], 64);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let backend_addr = listener.local_addr()?;
        let (backend_stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(switchboard_devserver::serve(
            listener,
            backend.clone(),
            stop,
            async move {
                let _ = stop_rx.await;
            },
        ));

        let config = Arc::new(Mutex::new(Self::live_config(backend_addr)));
        let site = cdn::serve(dist, config.clone()).await?;

        let port = free_port()?;
        let chromedriver = tokio::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting /usr/bin/chromedriver")?;
        let profile = std::env::temp_dir().join(format!("sb-e2e-{port}"));
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({ "goog:chromeOptions": { "args": args, "binary": "/usr/bin/chromium" } });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() < Duration::from_secs(10) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => bail!("chromedriver did not start a session: {e}"),
            }
        };
        Ok(Self {
            client,
            backend,
            backend_addr,
            site,
            config,
            _chromedriver: chromedriver,
            _backend_stop: backend_stop,
        })
    }

    /// The release build being tested.
    pub fn dist(&self) -> PathBuf {
        dist()
    }

    /// A config pointing every module at the devserver.
    pub fn live_config(backend: SocketAddr) -> String {
        let modules: Vec<String> = Module::ALL
            .iter()
            .map(|m| format!(r#""{0}":{{"url":"ws://{backend}/ws/{0}"}}"#, m.name()))
            .collect();
        format!(
            r#"{{"token_key":"{TOKEN_KEY}","modules":{{{}}}}}"#,
            modules.join(",")
        )
    }

    /// Replaces the `config.json` the CDN serves.
    pub fn set_config(&self, json: impl Into<String>) {
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = json.into();
    }

    /// A valid operator token.
    pub fn token(&self) -> String {
        switchboard_devserver::auth::mint(SECRET, "e2e", Duration::from_secs(3600))
            .unwrap_or_default()
    }

    /// Opens `path` with `token` in `sessionStorage` (set on the origin first, then loaded).
    pub async fn open_with_token(&self, path: &str, token: &str) -> Result<()> {
        self.client
            .goto(&format!("http://{}/config.json", self.site))
            .await?;
        self.eval(&format!(
            "sessionStorage.setItem('{TOKEN_KEY}', {}); return true",
            json!(token)
        ))
        .await?;
        self.open(path).await
    }

    /// Opens `path` and waits for the shell, then records console errors from then on.
    pub async fn open(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("http://{}{path}", self.site))
            .await?;
        self.wait(
            "the shell",
            Duration::from_secs(10),
            "return !!document.querySelector('[data-testid=shell]')",
        )
        .await?;
        self.eval(
            "window.__sbErrors = []; const e = console.error; \
             console.error = (...a) => { window.__sbErrors.push(a.join(' ')); e(...a); }; \
             window.addEventListener('error', ev => window.__sbErrors.push(String(ev.message))); return true",
        )
        .await?;
        Ok(())
    }

    /// Runs JavaScript and returns its value.
    pub async fn eval(&self, js: &str) -> Result<Value> {
        Ok(self.client.execute(js, vec![]).await?)
    }

    /// Polls `js` (which returns a boolean) every 50 ms until it is true or `within` passes.
    pub async fn wait(&self, what: &str, within: Duration, js: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            if self.eval(js).await? == Value::Bool(true) {
                return Ok(());
            }
            if started.elapsed() > within {
                bail!("timed out after {within:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs JavaScript that returns a string; anything else reads as "".
    async fn eval_string(&self, js: &str) -> Result<String> {
        Ok(self.eval(js).await?.as_str().unwrap_or_default().to_owned())
    }

    /// The JavaScript expression for a module's status badge on the current page.
    fn badge(module: &str) -> String {
        format!("document.querySelector('[data-module={module}] [data-testid=status]')")
    }

    /// The `data-status` of a module's badge on the current page.
    pub async fn status(&self, module: &str) -> Result<String> {
        let badge = Self::badge(module);
        self.eval_string(&format!(
            "const e = {badge}; return e ? e.dataset.status : ''"
        ))
        .await
    }

    /// Waits until a module's badge says `status`.
    pub async fn wait_status(&self, module: &str, status: &str, within: Duration) -> Result<()> {
        let badge = Self::badge(module);
        let js = format!("const e = {badge}; return !!e && e.dataset.status === '{status}'");
        self.wait(&format!("{module} to be {status}"), within, &js)
            .await
    }

    /// The text of the first element matching `css`, or "".
    pub async fn text(&self, css: &str) -> Result<String> {
        let css = json!(css);
        self.eval_string(&format!(
            "const e = document.querySelector({css}); return e ? e.textContent : ''"
        ))
        .await
    }

    /// Console errors and uncaught exceptions since the page was opened.
    pub async fn console_errors(&self) -> Result<Vec<String>> {
        let v = self.eval("return window.__sbErrors || []").await?;
        Ok(v.as_array()
            .map(|a| a.iter().map(|e| e.to_string()).collect())
            .unwrap_or_default())
    }

    /// A module's endpoint on the devserver.
    pub fn endpoint(&self, module: Module) -> &Arc<Endpoint> {
        match self.backend.endpoint(module) {
            Some(e) => e,
            None => unreachable!("the devserver serves every module"),
        }
    }

    /// Injects a one-shot fault.
    pub fn fault(&self, module: Module, fault: Fault) {
        let _ = self.endpoint(module).faults.send(fault);
    }

    /// A copy of a module's counters.
    pub fn report(&self, module: Module) -> Report {
        self.endpoint(module)
            .report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until `cond` holds for a module's report.
    pub async fn wait_report(
        &self,
        module: Module,
        what: &str,
        within: Duration,
        cond: impl Fn(&Report) -> bool,
    ) -> Result<()> {
        let started = Instant::now();
        while !cond(&self.report(module)) {
            if started.elapsed() > within {
                bail!("timed out after {within:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Milliseconds since the Unix epoch, as the devserver stamps accepts.
    pub fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// Closes the browser.
    pub async fn finish(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}
