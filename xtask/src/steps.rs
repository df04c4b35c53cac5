//! `dev` and `test`: the two commands a newcomer needs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};

use crate::bootstrap::{self, Need, Toolchain};

/// Crates whose tests run in headless Chromium.
const BROWSER_CRATES: &[&str] = &["switchboard", "switchboard-kit"];
/// The shell's feature that adds the fifth, test-only module (see `modules/registry`).
const FIXTURE_SHELL: &str = "switchboard/fixture";
/// The crates linted for wasm32: everything that ships in the page, which is the shell (the
/// workspace root) and every crate under `modules/`, read from `cargo metadata` so a new
/// module is linted without editing this file.
fn wasm_crates(tools: &Toolchain) -> Result<Vec<String>> {
    let out = cargo(tools, &["metadata", "--no-deps", "--format-version", "1"]).output()?;
    if !out.status.success() {
        bail!("cargo metadata failed");
    }
    let root = bootstrap::root().canonicalize()?;
    Ok(shipped_crates(&serde_json::from_slice(&out.stdout)?, &root))
}

/// The packages of `metadata` whose manifest is `root/Cargo.toml` or under `root/modules/`.
fn shipped_crates(metadata: &serde_json::Value, root: &std::path::Path) -> Vec<String> {
    let modules = root.join("modules");
    let mut names: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            let manifest = std::path::Path::new(p["manifest_path"].as_str().unwrap_or(""));
            manifest == root.join("Cargo.toml") || manifest.starts_with(&modules)
        })
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Kills the child process when dropped, so Ctrl-C on `dev` stops the backend too.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A devserver on a free loopback port, for the browser tests. Stops when dropped.
struct Backend {
    addr: String,
    token: String,
    _child: KillOnDrop,
}

impl Backend {
    fn start(tools: &Toolchain) -> Result<Self> {
        let build = cargo(
            tools,
            &[
                "build",
                "--quiet",
                "-p",
                "switchboard-devserver",
                "--features",
                "switchboard-devserver/fixture",
            ],
        )
        .status()?;
        if !build.success() {
            bail!("building the devserver failed");
        }
        let bin = bootstrap::root().join("target/debug/switchboard-devserver");
        let token = Command::new(&bin).args(["token", "--ttl", "2h"]).output()?;
        let token = String::from_utf8(token.stdout)?.trim().to_owned();
        let mut child = Command::new(&bin)
            .args(["serve", "--port", "0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let child = KillOnDrop(child);
        let addr = line.trim().strip_prefix("listening on ").map(str::to_owned);
        let Some(addr) = addr else {
            bail!("the devserver printed {line:?} instead of its address")
        };
        eprintln!("devserver for browser tests on {addr}");
        Ok(Self {
            addr,
            token,
            _child: child,
        })
    }
}

/// The development backend's port; `Trunk.toml` proxies `/ws/*` and `/config.json` to it.
const DEVSERVER_PORT: &str = "8090";

pub fn dev(port: u16) -> Result<()> {
    let tools = bootstrap::ensure(Need::Build)?;
    let build = cargo(&tools, &["build", "--quiet", "-p", "switchboard-devserver"]).status()?;
    if !build.success() {
        bail!("building the devserver failed");
    }
    let devserver = bootstrap::root().join("target/debug/switchboard-devserver");
    let _backend = KillOnDrop(
        Command::new(devserver)
            .args(["serve", "--port", DEVSERVER_PORT])
            .spawn()?,
    );
    println!("Switchboard: http://127.0.0.1:{port}/ (backend on 127.0.0.1:{DEVSERVER_PORT})");
    let status = tools
        .command("trunk")
        .current_dir(bootstrap::root())
        .args([
            "serve",
            "--offline",
            "--address",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .status()?;
    if !status.success() {
        bail!("trunk serve exited with {status}");
    }
    Ok(())
}

/// Counts checks and test cases over the whole run.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    /// Runs a command that passes or fails as one check.
    fn check(&mut self, name: &str, mut cmd: Command) {
        eprintln!("\n==> {name}");
        let started = Instant::now();
        let ok = cmd.status().is_ok_and(|s| s.success());
        self.record(name, ok, started);
    }

    fn record(&mut self, name: &str, ok: bool, started: Instant) {
        let secs = started.elapsed().as_secs_f32();
        if ok {
            self.passed += 1;
            eprintln!("<== {name}: ok ({secs:.0} s)");
        } else {
            self.failed += 1;
            self.failures.push(name.to_owned());
            eprintln!("<== {name}: FAILED ({secs:.0} s)");
        }
    }

    /// Runs a test command, echoing its output and adding up its `test result:` lines.
    fn tests(&mut self, name: &str, mut cmd: Command) {
        eprintln!("\n==> {name}");
        let started = Instant::now();
        cmd.stdout(Stdio::piped());
        let (mut passed, mut failed) = (0, 0);
        let ok = match cmd.spawn() {
            Ok(mut child) => {
                if let Some(out) = child.stdout.take() {
                    for line in BufReader::new(out).lines().map_while(Result::ok) {
                        println!("{line}");
                        if let Some((p, f)) = parse_result(&line) {
                            passed += p;
                            failed += f;
                        }
                    }
                }
                child.wait().is_ok_and(|s| s.success())
            }
            Err(e) => {
                eprintln!("could not start {cmd:?}: {e}");
                false
            }
        };
        self.passed += passed;
        self.failed += failed;
        if ok && failed == 0 {
            eprintln!(
                "<== {name}: {passed} passed ({:.0} s)",
                started.elapsed().as_secs_f32()
            );
        } else {
            // A build failure has no `test result:` line; count it so it cannot look green.
            self.failed += u64::from(failed == 0);
            self.failures.push(name.to_owned());
            eprintln!(
                "<== {name}: FAILED ({:.0} s)",
                started.elapsed().as_secs_f32()
            );
        }
    }
}

/// Reads `test result: ok. 12 passed; 0 failed; ...` as (12, 0).
fn parse_result(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |label: &str| -> Option<u64> {
        rest.split(';').find_map(|part| {
            part.trim()
                .strip_suffix(label)?
                .trim()
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
    };
    Some((count("passed")?, count("failed")?))
}

fn cargo(tools: &Toolchain, args: &[&str]) -> Command {
    let mut cmd = tools.command("cargo");
    cmd.current_dir(bootstrap::root()).args(args);
    cmd
}

pub fn test() -> Result<()> {
    let started = Instant::now();
    let tools = bootstrap::ensure(Need::All)?;
    let mut tally = Tally::default();

    tally.check("rustfmt", cargo(&tools, &["fmt", "--all", "--", "--check"]));
    tally.check(
        "clippy (host)",
        cargo(
            &tools,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    // The browser crates with their tests; every shipped library without its (native-only)
    // dev-dependencies.
    let shipped = wasm_crates(&tools)?;
    let shipped: Vec<&str> = shipped.iter().map(String::as_str).collect();
    for (name, crates, scope) in [
        (
            "clippy (wasm32, browser tests)",
            BROWSER_CRATES,
            "--all-targets",
        ),
        ("clippy (wasm32, libraries)", &shipped, "--lib"),
    ] {
        let mut args = vec!["clippy", "--target", "wasm32-unknown-unknown", scope];
        for krate in crates {
            args.extend(["-p", krate]);
        }
        if scope == "--all-targets" {
            args.extend(["--features", FIXTURE_SHELL]);
        }
        args.extend(["--", "-D", "warnings"]);
        tally.check(name, cargo(&tools, &args));
    }

    // The end-to-end suite needs the release build; it runs last.
    tally.tests(
        "native tests",
        cargo(
            &tools,
            &["test", "--workspace", "--exclude", "switchboard-e2e"],
        ),
    );

    // With a fifth, test-only module in the registry (tests/fixture-module), served by the
    // tests' backend too: every registry-wide check runs with a module nobody hard-coded.
    let mut browser = vec!["test", "--target", "wasm32-unknown-unknown"];
    for krate in BROWSER_CRATES {
        browser.extend(["-p", krate]);
    }
    browser.extend(["--features", FIXTURE_SHELL]);
    let mut cmd = cargo(&tools, &browser);
    // chromedriver gets 60 s to bind its port, not the runner's 5: on a loaded 2-core machine
    // it took longer once, and the runner killed it (SIGKILL) and failed the whole tier.
    cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60");
    match Backend::start(&tools) {
        Ok(backend) => {
            // The browser tests read these at compile time (`option_env!`).
            cmd.env("SWITCHBOARD_TEST_BACKEND", &backend.addr)
                .env("SWITCHBOARD_TEST_TOKEN", &backend.token);
            tally.tests("browser tests (headless Chromium)", cmd);
        }
        Err(e) => {
            eprintln!("could not start the devserver: {e:#}");
            tally.record("browser tests (headless Chromium)", false, Instant::now());
        }
    }

    // The release build, precompressed as for a CDN; the end-to-end suite first checks that
    // it loads its wasm, then drives it.
    let release = Instant::now();
    match crate::dist::build_release(&tools)
        .and_then(|dist| crate::dist::precompress(&dist).map(|sizes| (dist, sizes)))
    {
        Ok((dist, sizes)) => {
            tally.record("release build", true, release);
            // The whole dist may not grow past the budget recorded in the repository.
            let measured = Instant::now();
            let within = crate::budget::check(&bootstrap::root(), &sizes);
            tally.record("size budget", within, measured);
            // The gateway scenarios run the gateway as its own processes (SIGKILL, SIGTERM).
            tally.check(
                "gateway binary",
                cargo(
                    &tools,
                    &[
                        "build",
                        "-p",
                        "switchboard-gateway",
                        "--bin",
                        "switchboard-gateway",
                    ],
                ),
            );
            let mut e2e = cargo(
                &tools,
                &["test", "-p", "switchboard-e2e", "--", "--test-threads=2"],
            );
            e2e.env("SWITCHBOARD_E2E_DIST", &dist);
            tally.tests(
                "end-to-end tests (release build behind nginx, WebDriver, devserver, gateway on NATS)",
                e2e,
            );
        }
        Err(e) => {
            eprintln!("release build: {e:#}");
            tally.record("release build", false, release);
        }
    }

    eprintln!("\nxtask test: {:.0} s", started.elapsed().as_secs_f32());
    if !tally.failures.is_empty() {
        eprintln!("failed: {}", tally.failures.join(", "));
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        bail!("{} failed", tally.failed);
    }
    Ok(())
}

/// `cargo xtask bench`: native figures, then the browser benchmark on a fresh release build.
pub fn bench(quick: bool, only: Option<&str>) -> Result<()> {
    let tools = bootstrap::ensure(Need::All)?;
    let root = bootstrap::root();
    let native = cargo(
        &tools,
        &[
            "bench",
            "-q",
            "-p",
            "switchboard-core",
            "-p",
            "switchboard-kit",
        ],
    )
    .output()?;
    let native_path = root.join("target/bench-native.txt");
    std::fs::write(&native_path, &native.stdout)?;
    // The gateway under load: its release binary, run as its own process by the bench.
    let gateway_path = root.join("target/bench-gateway.txt");
    let built = cargo(
        &tools,
        &["build", "-q", "--release", "-p", "switchboard-gateway"],
    )
    .status()?;
    if built.success() {
        let gateway = cargo(
            &tools,
            &[
                "bench",
                "-q",
                "-p",
                "switchboard-gateway",
                "--bench",
                "load",
            ],
        )
        .output()?;
        std::fs::write(&gateway_path, &gateway.stdout)?;
    }
    let dist = crate::dist::build_release(&tools)?;
    crate::dist::precompress(&dist)?;
    // The React peer (bench/peer): its pinned packages, its Vite build, precompressed as ours.
    let peer = root.join("bench/peer");
    let npm = |args: &[&str]| {
        Command::new("npm")
            .args(args)
            .current_dir(&peer)
            .status()
            .is_ok_and(|s| s.success())
    };
    let peer_dist = peer.join("dist");
    let peer_built = npm(&["ci", "--no-audit", "--no-fund"]) && npm(&["run", "build"]);
    if peer_built {
        crate::dist::precompress(&peer_dist)?;
    } else {
        eprintln!("bench: the React peer did not build (npm ci, then npm run build in bench/peer)");
    }
    let commit = Command::new("git")
        .current_dir(&root)
        .args(["rev-parse", "--short", "HEAD"])
        .output()?;
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    // Only a full run writes the tracked figures; a quick or partial one goes elsewhere.
    let out = root.join(match (only, quick) {
        (Some(_), _) => "target/bench-only.md",
        (None, true) => "target/bench-quick.md",
        (None, false) => "docs/PERFORMANCE.md",
    });
    let json = root.join("target/bench.json");
    let mut args = vec![
        "run",
        "-q",
        "--release",
        "-p",
        "switchboard-e2e",
        "--bin",
        "bench",
        "--",
    ];
    let gateway_arg = gateway_path.display().to_string();
    let (native_arg, out_arg, json_arg) = (
        native_path.display().to_string(),
        out.display().to_string(),
        json.display().to_string(),
    );
    args.extend([
        "--native",
        &native_arg,
        "--gateway",
        &gateway_arg,
        "--out",
        &out_arg,
        "--json",
        &json_arg,
        "--commit",
        &commit,
    ]);
    let peer_arg = peer_dist.display().to_string();
    if peer_built {
        args.extend(["--peer", &peer_arg]);
    }
    if quick {
        args.push("--quick");
    }
    if let Some(page) = only {
        args.extend(["--only", page]);
    }
    let status = cargo(&tools, &args)
        .env("SWITCHBOARD_E2E_DIST", &dist)
        .status()?;
    if !status.success() {
        bail!("the benchmark failed with {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_result, shipped_crates};

    #[test]
    fn the_shipped_crates_are_the_shell_and_everything_under_modules() {
        let metadata = serde_json::json!({ "packages": [
            { "name": "switchboard", "manifest_path": "/w/Cargo.toml" },
            { "name": "switchboard-core", "manifest_path": "/w/modules/core/Cargo.toml" },
            { "name": "switchboard-climate", "manifest_path": "/w/modules/climate/Cargo.toml" },
            { "name": "xtask", "manifest_path": "/w/xtask/Cargo.toml" },
            { "name": "switchboard-devserver", "manifest_path": "/w/devserver/Cargo.toml" },
            { "name": "switchboard-e2e", "manifest_path": "/w/tests/e2e/Cargo.toml" },
        ]});
        assert_eq!(
            shipped_crates(&metadata, std::path::Path::new("/w")),
            ["switchboard", "switchboard-climate", "switchboard-core"]
        );
    }

    #[test]
    fn reads_cargo_and_wasm_bindgen_result_lines() {
        assert_eq!(
            parse_result(
                "test result: ok. 38 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s"
            ),
            Some((38, 0))
        );
        assert_eq!(
            parse_result("test result: FAILED. 3 passed; 2 failed; 0 ignored"),
            Some((3, 2))
        );
        assert_eq!(parse_result("running 3 tests"), None);
    }
}
