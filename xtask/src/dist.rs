//! `cargo xtask dist`: the release build, precompressed for a CDN, with a size table, and the
//! deployment around it (`config.json`, headers, nginx block; see `deploy.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::bootstrap::{self, Need, Toolchain};

/// Runs `trunk build --release` and returns the dist folder.
pub fn build_release(tools: &Toolchain) -> Result<PathBuf> {
    let root = bootstrap::root();
    eprintln!("\n==> trunk build --release");
    let status = tools
        .command("trunk")
        .current_dir(&root)
        .args(["build", "--release", "--offline"])
        .status()
        .context("starting trunk")?;
    if !status.success() {
        bail!("trunk build --release failed with {status}");
    }
    Ok(root.join("dist"))
}

/// One file's sizes.
pub struct Sizes {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

fn compress(path: &Path) -> Result<Sizes> {
    let data = std::fs::read(path)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&data)?;
    let gz = gz.finish()?;
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut data.as_slice(), &mut br, &params)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(path.with_file_name(format!("{name}.gz")), &gz)?;
    std::fs::write(path.with_file_name(format!("{name}.br")), &br)?;
    Ok(Sizes {
        name,
        raw: data.len(),
        gzip: gz.len(),
        brotli: br.len(),
    })
}

/// Whether a built file gets `.br` and `.gz` copies. Not `config.json`: each environment
/// replaces it, and a server that prefers a precompressed copy would go on serving the
/// build's own. Not the CDN's `_headers` and `_redirects` either.
fn precompressed(name: &str) -> bool {
    !(name == "config.json"
        || name.starts_with('_')
        || name.ends_with(".gz")
        || name.ends_with(".br"))
}

/// Writes `.gz` and `.br` beside every file in `dist` that is served as built, and returns
/// their sizes.
pub fn precompress(dist: &Path) -> Result<Vec<Sizes>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if path.is_file() && precompressed(name) {
            sizes.push(compress(&path)?);
        }
    }
    sizes.sort_by_key(|s| std::cmp::Reverse(s.raw));
    Ok(sizes)
}

/// How `cargo xtask dist` deploys: the environment's config and the nginx block's place.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The environment's config.json (e.g. `deploy/production.json`): copied into the dist,
    /// and its WebSocket origins go into the CSP. Default: the build's own.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The nginx block's `listen` parameters, e.g. `80` or `"443 ssl"`.
    #[arg(long, default_value = "80")]
    pub listen: String,
    /// The nginx block's `server_name`.
    #[arg(long, default_value = "_")]
    pub server_name: String,
    /// Where the files will live on the nginx host. Default: this dist folder.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Gateway nodes (`host:port`, comma-separated) for `/ws/` and `/publish/`: writes their
    /// `upstream` and a systemd unit beside the server block, whose locations proxy to it.
    #[arg(long, value_delimiter = ',')]
    pub gateway: Vec<String>,
}

pub fn dist(args: &DeployArgs) -> Result<Vec<Sizes>> {
    let config = match &args.config {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    // Check the config before a two-minute build, not after.
    if let Some(text) = &config {
        xtask::deploy::ws_origins(text)?;
    }
    let tools = bootstrap::ensure(Need::Build)?;
    let dist = build_release(&tools)?;
    let sizes = precompress(&dist)?;
    let source = match &args.config {
        Some(path) => path.display().to_string(),
        None => "the build's own config.json".to_owned(),
    };
    let nginx = xtask::deploy::Nginx {
        listen: args.listen.clone(),
        server_name: args.server_name.clone(),
        root: match &args.root {
            Some(root) => root.clone(),
            None => dist.canonicalize()?,
        },
        gateways: args.gateway.clone(),
    };
    let conf = bootstrap::root().join("target/nginx/switchboard.conf");
    let written = xtask::deploy::write(&dist, config.as_deref(), &source, &nginx, &conf)?;
    if !args.gateway.is_empty() {
        let folder = bootstrap::root().join("target/nginx");
        let upstream = folder.join("gateway-upstream.conf");
        std::fs::write(
            &upstream,
            xtask::deploy::gateway_upstream(&args.gateway, &source),
        )?;
        let unit = folder.join("switchboard-gateway.service");
        std::fs::write(&unit, xtask::deploy::gateway_systemd_unit())?;
        println!("gateway upstream: {}", upstream.display());
        println!("gateway unit: {}", unit.display());
    }
    let kb = |n: usize| format!("{:.1} KB", n as f64 / 1000.0);
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli 11"
    );
    for s in &sizes {
        println!(
            "{:<44} {:>10} {:>10} {:>10}",
            s.name,
            kb(s.raw),
            kb(s.gzip),
            kb(s.brotli)
        );
    }
    let total = |f: fn(&Sizes) -> usize| sizes.iter().map(f).sum::<usize>();
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "total",
        kb(total(|s| s.raw)),
        kb(total(|s| s.gzip)),
        kb(total(|s| s.brotli))
    );
    println!("dist: {} (with _headers and _redirects)", dist.display());
    println!("nginx: {}", written.nginx_conf.display());
    println!("Content-Security-Policy: {}", written.policy.csp());
    Ok(sizes)
}
