//! The part of the developer commands that other crates use: [`deploy`], which the
//! end-to-end harness calls to serve each test's build exactly as `cargo xtask dist` would
//! deploy it.

pub mod deploy;
