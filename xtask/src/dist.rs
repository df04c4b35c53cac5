//! `cargo xtask dist`: the release build, precompressed for a CDN, with a size table.

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

/// Writes `.gz` and `.br` beside every file in `dist` and returns their sizes.
pub fn precompress(dist: &Path) -> Result<Vec<Sizes>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if path.is_file() && ext != "gz" && ext != "br" {
            sizes.push(compress(&path)?);
        }
    }
    sizes.sort_by_key(|s| std::cmp::Reverse(s.raw));
    Ok(sizes)
}

pub fn dist() -> Result<Vec<Sizes>> {
    let tools = bootstrap::ensure(Need::Build)?;
    let dist = build_release(&tools)?;
    let sizes = precompress(&dist)?;
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
    println!("dist: {}", dist.display());
    Ok(sizes)
}
