//! `cargo xtask <command>`: the developer commands. `dev` runs the dashboard, `test` runs
//! every tier of tests, `dist` builds the CDN-ready folder. Each makes sure the toolchain is
//! installed first (see `bootstrap.rs`).

mod bootstrap;
mod budget;
mod dist;
mod steps;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Switchboard developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build and serve the dashboard on http://127.0.0.1:8080 with live reload.
    Dev {
        /// Port for the dashboard.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Run every test tier and print `N passed, N failed`.
    Test,
    /// Build the release dist with .br and .gz files, write the deployment (config.json,
    /// _headers, _redirects, an nginx server block with the CSP), and print a size table.
    Dist(dist::DeployArgs),
    /// Install whatever the toolchain lacks, and report what is there.
    Bootstrap,
    /// Measure the release build (size, boot, floods) and write docs/PERFORMANCE.md.
    Bench {
        /// One short run of each figure instead of three full ones.
        #[arg(long)]
        quick: bool,
        /// Only the floods on this page (e.g. `/sessions`), written to `target/bench-only.md`
        /// instead of docs/PERFORMANCE.md: for checking one change.
        #[arg(long)]
        only: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Dev { port } => steps::dev(port),
        Cmd::Test => steps::test(),
        Cmd::Dist(args) => dist::dist(&args).map(|_| ()),
        Cmd::Bootstrap => bootstrap::ensure(bootstrap::Need::All).map(|_| ()),
        Cmd::Bench { quick, only } => steps::bench(quick, only.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
