//! The end-to-end harness: the release build deployed behind Debian's nginx with the
//! generated server block and headers ([`nginx`]), the development backend in process, and
//! headless Chromium driven through chromedriver. Each test gets its own of all three, on
//! free loopback ports, and waits for conditions, never for fixed times.
//!
//! The browser records, from the first byte of every page: each Content-Security-Policy
//! violation, every console line and every request URL, WebSockets included. [`Harness::finish`]
//! fails a test that saw a violation, or the operator's token in a URL or a console line.
//!
//! The dist folder comes from `SWITCHBOARD_E2E_DIST` (set by `cargo xtask test`, which builds
//! it once), or `dist/` at the workspace root.

pub mod nginx;
pub mod page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use switchboard_devserver::endpoint::{Endpoint, Fault, Module};
use switchboard_devserver::world::WorldSettings;
use switchboard_devserver::{AppState, Settings};

pub use switchboard_devserver::endpoint::Report;

/// The backend's token secret in these tests.
pub const SECRET: &str = "e2e-secret";
/// The `sessionStorage` key the e2e configs use.
pub const TOKEN_KEY: &str = "e2e.token";

/// The backend's module named `name` (a test's own choice, so a missing one is a bug in the
/// test).
#[allow(clippy::expect_used)]
pub fn module(name: &str) -> Module {
    Module::named(name).expect("the registry has this module")
}

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

/// `n` new sessions as scripted frames, an ISP's worth: `s00000`…, with the username
/// `user{i}@isp.example.net` and the subscriber `sub_{100000 + i}` (one account each).
pub fn new_sessions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            json!({
                "type": "session_update",
                "data": { "action": "new", "session": {
                    "session_id": format!("s{i:05}"),
                    "username": format!("user{i}@isp.example.net"),
                    "ip_address": format!("100.64.{}.{}", i / 250, i % 250 + 1),
                    "nas_ip_address": "10.1.1.1",
                    "upload_bytes": i, "download_bytes": i * 10,
                    "session_time_seconds": 60, "last_update": "2025-10-16T12:00:00Z",
                    "subscriber_id": format!("sub_{}", 100_000 + i) } },
                "timestamp": "2025-10-16T12:00:00Z",
            })
            .to_string()
        })
        .collect()
}

/// One test's world.
pub struct Harness {
    /// The browser.
    pub client: Client,
    /// The devserver's state: faults and reports.
    pub backend: AppState,
    /// The devserver's address.
    pub backend_addr: SocketAddr,
    /// The site's address (nginx).
    pub site: SocketAddr,
    /// The deployed site: its folder, policy and nginx.
    pub deployment: nginx::Site,
    /// Whether the browser records requests and console lines (see [`Harness::finish`]).
    recorded: bool,
    /// What the browser's logs have given so far: console lines and request URLs (reading
    /// a WebDriver log drains it).
    record: std::sync::Mutex<Record>,
    /// Every token this harness gave a page (see [`Harness::finish`]).
    tokens: std::sync::Mutex<Vec<String>>,
    _chromedriver: Browser,
    /// Where chromedriver listens, for more browsers ([`Harness::another_browser`]).
    driver_port: u16,
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

/// Runs before any script of every page, CSP or not (DevTools scripts are exempt): records
/// each `securitypolicyviolation` in `sessionStorage`, so violations before the app starts
/// and on earlier pages of the tab are kept; and sets `window.__sbSimulatedSeen` the moment
/// anything labelled simulated appears on the page, however briefly.
const RECORD_VIOLATIONS: &str = "document.addEventListener('securitypolicyviolation', e => { \
    const k = '__sbCsp'; const v = JSON.parse(sessionStorage.getItem(k) || '[]'); \
    v.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (' + e.sourceFile + ':' + e.lineNumber + ')'); \
    sessionStorage.setItem(k, JSON.stringify(v)); }); \
    window.__sbSimulatedSeen = false; \
    new MutationObserver(() => { if (!window.__sbSimulatedSeen && \
        document.querySelector('[data-testid=simulated], [data-provenance=simulated], .sim')) \
        window.__sbSimulatedSeen = true; }) \
      .observe(document, { childList: true, subtree: true, attributes: true });";

/// A new Chromium session of the chromedriver on `port`, with its own profile named after
/// `name`, recording console lines and requests when `recorded`, and a DevTools trace of
/// `traced` categories (read with [`Harness::trace`]).
async fn browser_session(
    port: u16,
    name: &str,
    recorded: bool,
    traced: Option<&str>,
) -> Result<Client> {
    let profile = std::env::temp_dir().join(format!("sb-e2e-{port}-{name}"));
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = json!({ "goog:chromeOptions": { "args": args, "binary": "/usr/bin/chromium" } });
    if recorded {
        caps["goog:loggingPrefs"] = json!({ "browser": "ALL", "performance": "ALL" });
        caps["goog:chromeOptions"]["perfLoggingPrefs"] =
            json!({ "enableNetwork": true, "enablePage": false });
    }
    if let Some(categories) = traced {
        caps["goog:loggingPrefs"] = json!({ "performance": "ALL" });
        caps["goog:chromeOptions"]["perfLoggingPrefs"] = json!({
            "enableNetwork": false, "enablePage": false, "traceCategories": categories,
            "bufferUsageReportingInterval": 100 });
    }
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
    client
        .issue_cmd(Raw {
            path: "goog/cdp/execute",
            body: json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument",
                          "params": { "source": RECORD_VIOLATIONS } }),
        })
        .await?;
    Ok(client)
}

/// Console lines and request URLs, in order.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Every console line (any level), CSP reports and network errors included.
    pub console: Vec<String>,
    /// Every request URL: documents, scripts, the wasm, `config.json` and WebSockets.
    pub urls: Vec<String>,
}

/// A WebDriver command fantoccini has no method for: `POST /session/{id}/{path}`.
#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// chromedriver in a process group of its own, with the Chromium it starts. Dropping it kills
/// the whole group: a test that fails before [`Harness::finish`] closes the session leaves no
/// browser behind (killing chromedriver alone would orphan its Chromium).
struct Browser(tokio::process::Child);

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            // The shell's own `kill` (always there: `sh` is essential on Debian, while the
            // `kill` program comes with procps, which a minimal image may lack).
            let _ = std::process::Command::new("sh")
                .args(["-c", &format!("kill -9 -{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// How a [`Harness`] starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Record requests and console lines (off for the benchmark, whose floods the per-frame
    /// network log would distort).
    pub recorded: bool,
    /// DevTools trace categories to record from the start (for the benchmark's profile),
    /// read with [`Harness::trace`].
    pub traced: Option<&'static str>,
    /// The backend's worlds.
    pub world: WorldSettings,
    /// Gateway nodes: the site proxies `/ws/` to them (the nginx `upstream` of
    /// `cargo xtask dist --gateway`), and its config points every module there, on the
    /// site's own origin. None: the modules connect to the devserver.
    pub gateways: Vec<SocketAddr>,
    /// The site's port, when the test must know its origin before it starts; else a free one.
    pub site_port: Option<u16>,
    /// The folder the site serves: the release build under test unless another app's
    /// (the benchmark's React peer).
    pub dist: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            recorded: true,
            traced: None,
            world: WorldSettings {
                heartbeat: HEARTBEAT,
                backfill: BACKFILL,
                ..WorldSettings::default()
            },
            gateways: Vec::new(),
            site_port: None,
            dist: None,
        }
    }
}

/// How long the tests' backend has been running when a test starts: its worlds have state and
/// history, as a real backend's would, so a page load shows data at once.
pub const BACKFILL: Duration = Duration::from_secs(30);

/// The heartbeat the tests' backend announces: quiet sockets are judged stale after three.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

impl Harness {
    /// Starts everything, recording requests and console lines. The config points every
    /// module at the devserver.
    pub async fn start() -> Result<Self> {
        Self::start_with(Options::default()).await
    }

    /// Starts everything without the request and console record, whose per-frame network
    /// log would distort the benchmark's floods.
    pub async fn start_unrecorded() -> Result<Self> {
        Self::start_with(Options {
            recorded: false,
            ..Options::default()
        })
        .await
    }

    /// Starts everything with every world empty and paused from the start: nothing happens
    /// in the backend but what the test scripts (heartbeats keep the sockets judged alive).
    pub async fn start_paused() -> Result<Self> {
        let mut options = Options::default();
        options.world.paused = true;
        options.world.backfill = Duration::ZERO;
        Self::start_with(options).await
    }

    /// Starts everything as `options` say.
    pub async fn start_with(options: Options) -> Result<Self> {
        let recorded = options.recorded;
        let dist = options.dist.clone().unwrap_or_else(dist);
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
            world: options.world,
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

        let site_port = match options.site_port {
            Some(port) => port,
            None => free_port()?,
        };
        let folder = std::env::temp_dir().join(format!("sb-e2e-site-{site_port}"));
        let config = if options.gateways.is_empty() {
            Self::live_config(backend_addr)
        } else {
            Self::gateway_config()
        };
        let deployment =
            nginx::Site::start(&dist, &config, &folder, site_port, &options.gateways).await?;

        let port = free_port()?;
        let chromedriver = Browser(
            tokio::process::Command::new("/usr/bin/chromedriver")
                .arg(format!("--port={port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .context("starting /usr/bin/chromedriver")?,
        );
        let client = browser_session(port, "main", recorded, options.traced).await?;
        Ok(Self {
            driver_port: port,
            client,
            backend,
            backend_addr,
            site: deployment.addr,
            deployment,
            recorded,
            record: Default::default(),
            tokens: Default::default(),
            _chromedriver: chromedriver,
            _backend_stop: backend_stop,
        })
    }

    /// A second browser (its own Chromium, profile and storage), for a test with two
    /// operators: it is on no page yet. Not recorded.
    pub async fn another_browser(&self, name: &str) -> Result<Client> {
        browser_session(self.driver_port, name, false, None).await
    }

    /// The release build being tested.
    pub fn dist(&self) -> PathBuf {
        dist()
    }

    /// A config pointing every module at the devserver.
    pub fn live_config(backend: SocketAddr) -> String {
        let modules: Vec<String> = Module::all()
            .map(|m| format!(r#""{0}":{{"url":"ws://{backend}/ws/{0}"}}"#, m.name()))
            .collect();
        format!(
            r#"{{"token_key":"{TOKEN_KEY}","modules":{{{}}}}}"#,
            modules.join(",")
        )
    }

    /// A config pointing every module at `/ws/{module}` on the site's own origin, which
    /// nginx proxies to the gateway nodes.
    pub fn gateway_config() -> String {
        let modules: Vec<String> = Module::all()
            .map(|m| format!(r#""{0}":{{"url":"/ws/{0}"}}"#, m.name()))
            .collect();
        format!(
            r#"{{"token_key":"{TOKEN_KEY}","modules":{{{}}}}}"#,
            modules.join(",")
        )
    }

    /// Replaces the site's `config.json`, as an operator does per environment.
    pub fn set_config(&self, json: impl Into<String>) -> Result<()> {
        self.deployment.set_config(&json.into())
    }

    /// A valid operator token.
    pub fn token(&self) -> String {
        switchboard_devserver::auth::mint(SECRET, "e2e", Duration::from_secs(3600))
            .unwrap_or_default()
    }

    /// Remembers a token a page was given, so [`Harness::finish`] looks for it.
    fn gave(&self, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if !token.is_empty() && !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_owned());
        }
    }

    /// Opens `path` with `token` in `sessionStorage` (set on the origin first, then loaded).
    pub async fn open_with_token(&self, path: &str, token: &str) -> Result<()> {
        self.gave(token);
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
        let shell = self
            .wait(
                "the shell",
                Duration::from_secs(10),
                "return !!document.querySelector('[data-testid=shell]')",
            )
            .await;
        if let Err(e) = shell {
            let violations = self.csp_violations().await.unwrap_or_default();
            bail!("{e}; Content-Security-Policy violations: {violations:?}");
        }
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

    /// Clicks the navigation link to `href`: client-side routing, so the app is not reloaded
    /// and its connections and stores go on.
    pub async fn go(&self, href: &str) -> Result<()> {
        self.client
            .find(fantoccini::Locator::Css(&format!("nav a[href='{href}']")))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// A count the module page's counters carry as a data attribute (`replays`, `snapshots`,
    /// `duplicates`, `gaps`, `heartbeats`); 0 when absent. The page redraws them once a second.
    pub async fn counter(&self, name: &str) -> Result<u64> {
        let js = format!(
            "return document.querySelector('[data-testid=counters]')?.dataset['{name}'] ?? '0'"
        );
        Ok(self.eval_string(&js).await?.parse().unwrap_or(0))
    }

    /// Waits until the module page's counter `name` reads `value`.
    pub async fn wait_counter(&self, name: &str, value: u64, within: Duration) -> Result<()> {
        let js = format!(
            "return document.querySelector('[data-testid=counters]')?.dataset['{name}'] === '{value}'"
        );
        self.wait(&format!("the {name} counter to read {value}"), within, &js)
            .await
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
        self.eval_list("return window.__sbErrors || []").await
    }

    /// Runs JavaScript that returns an array, each entry as text; anything else is empty.
    async fn eval_list(&self, js: &str) -> Result<Vec<String>> {
        Ok(self
            .eval(js)
            .await?
            .as_array()
            .map(|a| a.iter().map(ToString::to_string).collect())
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

    /// Runs a Chrome DevTools Protocol command, e.g. `Emulation.setEmulatedMedia`.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        Ok(self
            .client
            .issue_cmd(Raw {
                path: "goog/cdp/execute",
                body: json!({ "cmd": cmd, "params": params }),
            })
            .await?)
    }

    /// The Content-Security-Policy violations this tab has seen, on every page.
    pub async fn csp_violations(&self) -> Result<Vec<String>> {
        self.eval_list("return JSON.parse(sessionStorage.getItem('__sbCsp') || '[]')")
            .await
    }

    /// The browser's log of `kind` (`browser`: every console line; `performance`: DevTools
    /// events) since the last call.
    async fn log(&self, kind: &str) -> Result<Vec<String>> {
        let entries = self
            .client
            .issue_cmd(Raw {
                path: "se/log",
                body: json!({ "type": kind }),
            })
            .await?;
        Ok(entries
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The DevTools trace events recorded since the browser started (for a harness started
    /// with `traced` categories). Reading it ends the trace: call it once.
    pub async fn trace(&self) -> Result<Vec<Value>> {
        Ok(self
            .devtools_messages()
            .await?
            .into_iter()
            .filter(|m| m["method"] == "Tracing.dataCollected")
            .map(|mut m| m["params"].take())
            .collect())
    }

    /// The DevTools messages in chromedriver's performance log since it was last read.
    async fn devtools_messages(&self) -> Result<Vec<Value>> {
        Ok(self
            .log("performance")
            .await?
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(m).ok())
            .map(|mut m| m["message"].take())
            .collect())
    }

    /// Everything the browser has logged since the test began (for a recorded harness).
    pub async fn record(&self) -> Result<Record> {
        let console = self.log("browser").await?;
        let urls = self
            .devtools_messages()
            .await?
            .iter()
            .filter_map(|m| {
                match m["method"].as_str()? {
                    "Network.requestWillBeSent" => m["params"]["request"]["url"].as_str(),
                    "Network.webSocketCreated" => m["params"]["url"].as_str(),
                    _ => None,
                }
                .map(str::to_owned)
            })
            .collect::<Vec<_>>();
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        record.console.extend(console);
        record.urls.extend(urls);
        Ok(record.clone())
    }

    /// Waits for one violation of `directive` that the test caused on purpose, in the event
    /// record and in the console, and forgets both so [`Harness::finish`] does not count it.
    pub async fn take_violation(&self, directive: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let events = self.csp_violations().await?;
            let console = self.record().await?.console;
            let logged = console
                .iter()
                .any(|l| l.contains("Content Security Policy"));
            if logged && events.iter().any(|e| e.contains(directive)) {
                break;
            }
            if started.elapsed() > Duration::from_secs(5) {
                bail!("no {directive} violation recorded: events {events:?}, console {console:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.eval("sessionStorage.removeItem('__sbCsp'); return true")
            .await?;
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        record
            .console
            .retain(|l| !l.contains("Content Security Policy"));
        Ok(())
    }

    /// Checks what the whole test showed the browser, then closes it: no
    /// Content-Security-Policy violation, and (when recorded) the operator's token in no
    /// request URL and no console line.
    pub async fn finish(self) -> Result<()> {
        let violations = self.csp_violations().await.unwrap_or_default();
        let mut problems = Vec::new();
        if !violations.is_empty() {
            problems.push(format!(
                "Content-Security-Policy violations: {violations:?}"
            ));
        }
        if self.recorded {
            // The tokens the page was given: by the test, and whatever it holds now.
            let held = self
                .eval(&format!("return sessionStorage.getItem('{TOKEN_KEY}')"))
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            if let Some(held) = held {
                self.gave(&held);
            }
            let Record { console, urls } = self.record().await?;
            if urls.is_empty() {
                problems.push("the request record is empty: is the log working?".into());
            }
            // A token's signature, its last part, is what must never leak; a whole token
            // contains it.
            let secrets: Vec<String> = self
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
                .filter(|s| s.len() >= 16)
                .collect();
            for line in console.iter().chain(&urls) {
                if secrets.iter().any(|s| line.contains(s.as_str())) {
                    problems.push(format!("the token appears in: {line}"));
                }
                if line.contains("Content Security Policy") {
                    problems.push(format!("console: {line}"));
                }
            }
        }
        self.client.close().await?;
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        Ok(())
    }
}
