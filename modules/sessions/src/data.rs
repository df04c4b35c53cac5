//! The sessions module's channel and payload: the reference's `SessionUpdate`.

pub use switchboard_core::payload::{SESSION_UPDATE, Session, SessionAction, SessionUpdate};

/// Every channel this module receives.
pub const CHANNELS: &[&str] = &[SESSION_UPDATE.name()];
