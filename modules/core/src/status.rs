//! What the UI shows about a connection: its status with details, and its counters.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use crate::frame::DropReason;
use crate::time::Instant;

/// The four status values of the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Opening a socket, or waiting for the next retry.
    Connecting,
    /// Open and authenticated as far as the client can tell.
    Connected,
    /// Not connected and not retrying soon: never started, stopped by hand, or past the last
    /// automatic attempt (a slow probe may still run).
    Disconnected,
    /// Stopped by a fatal condition, such as a rejected token. No automatic retries.
    Error,
}

impl Status {
    /// The reference's string: `connecting`, `connected`, `disconnected` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Disconnected => "disconnected",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the last socket ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The WebSocket close code (1006 when the browser saw no close frame).
    pub code: u16,
    /// The close reason, possibly empty.
    pub reason: String,
    /// When it closed.
    pub at: Instant,
}

/// Why a connection is in [`Status::Error`]. Each variant means: show it to the user, and
/// wait for a new token or a manual reconnect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The server rejected the auth frame (close 4001/4003, or an `auth_error` frame).
    #[error("authentication rejected: {reason}")]
    AuthRejected {
        /// The close code, or `None` for an `auth_error` frame.
        code: Option<u16>,
        /// The server's reason.
        reason: String,
    },
    /// The server closed with 4003: the token is good, but this operator may not see this
    /// module. The other modules are not affected.
    #[error("this operator may not see this module ({})", or_unstated(reason))]
    Forbidden {
        /// The server's reason.
        reason: String,
    },
    /// The server closed with 1008 (policy violation): it refused what this client sent,
    /// for example more frames a minute than it allows. The token is not the problem.
    #[error("closed by the server for a policy violation: {}", or_unstated(reason))]
    PolicyViolation {
        /// The server's reason.
        reason: String,
    },
    /// The server closed with a code the module declared fatal.
    #[error("closed by the server with code {code}: {reason}")]
    Fatal {
        /// The close code.
        code: u16,
        /// The server's reason.
        reason: String,
    },
}

impl ConnectionError {
    /// What the operator should do about it, as a sentence.
    pub const fn advice(&self) -> &'static str {
        match self {
            ConnectionError::AuthRejected { .. } => "Fix the token, then reconnect.",
            ConnectionError::Forbidden { .. } => {
                "Ask an administrator to add it to your access; the other modules are not affected."
            }
            ConnectionError::PolicyViolation { .. } => {
                "Nothing retries on its own; reconnect when the cause is fixed."
            }
            ConnectionError::Fatal { .. } => "Reconnect when the server accepts connections again.",
        }
    }
}

fn or_unstated(reason: &str) -> &str {
    if reason.is_empty() {
        "no reason given"
    } else {
        reason
    }
}

/// Status with the details an operator needs to judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSnapshot {
    /// The status.
    pub status: Status,
    /// Consecutive failed attempts so far.
    pub attempt: u32,
    /// Automatic attempts before giving up.
    pub max_attempts: u32,
    /// When the next automatic attempt (retry or probe) is due.
    pub next_retry_at: Option<Instant>,
    /// True once the automatic attempts are used up and only the slow probe runs.
    pub gave_up: bool,
    /// How the last socket closed.
    pub last_close: Option<CloseInfo>,
    /// When the current connection opened.
    pub connected_since: Option<Instant>,
    /// Why the status is `error`.
    pub error: Option<ConnectionError>,
    /// Since when the feed has been down because something failed: the first close before
    /// open, refusal, connect timeout, drop or staleness close of an open socket, or fatal
    /// error since the last successful open. `None` on a healthy load (the first attempt
    /// still opening), while connected, and after a manual disconnect of a healthy
    /// connection. Simulated data runs only while this is set.
    pub down_since: Option<Instant>,
}

impl StatusSnapshot {
    /// Whether the module should show simulated data now: its feed is down after it was up
    /// or tried, and not because the server refused this operator the module (4003). An
    /// operator told "you may not see billing" is not shown invoices, simulated or not.
    pub fn wants_simulation(&self) -> bool {
        self.status != Status::Connected
            && self.down_since.is_some()
            && !matches!(self.error, Some(ConnectionError::Forbidden { .. }))
    }
}

/// Per-channel counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Frames delivered on this channel.
    pub frames: u64,
    /// When the last one arrived (for staleness displays).
    pub last_at: Option<Instant>,
    /// Payloads that did not fit the channel's type.
    pub decode_errors: u64,
}

/// Counters for one connection. They only grow, until the provider is dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Text frames received on an open socket, good or bad.
    pub frames_in: u64,
    /// Frames sent, including auth frames.
    pub frames_out: u64,
    /// Frames dropped, by reason (indexed like [`DropReason::ALL`]).
    drops: [u64; DropReason::ALL.len()],
    /// Sockets opened after the first.
    pub reconnects: u64,
    /// Sends refused because the socket was not connected.
    pub send_refused: u64,
    /// Sends refused by the rate limit.
    pub rate_limited: u64,
    /// Queued frames dropped unsent because they grew too old.
    pub outbox_expired: u64,
    /// Sends refused because the outbox was full.
    pub outbox_overflow: u64,
    /// Per channel.
    pub channels: BTreeMap<Cow<'static, str>, ChannelStats>,
    /// Resume extension: stamped frames dropped because their position was applied already.
    pub duplicates: u64,
    /// Resume extension: gaps seen (each asks for a resync).
    pub gaps: u64,
    /// Resume extension: stamped frames held back while a resync was under way.
    pub held: u64,
    /// Resume extension: `sync` answers by mode: replays, snapshots, live.
    pub replays: u64,
    /// See [`Stats::replays`].
    pub snapshots: u64,
    /// See [`Stats::replays`].
    pub resumed_live: u64,
    /// Resume extension: heartbeats received.
    pub heartbeats: u64,
    /// Resume extension: when a heartbeat last proved the feed current (its position was the
    /// last one applied): a quiet feed is in sync, not down.
    pub in_sync_at: Option<Instant>,
    /// Frames the transport dropped unread because its inbox was full (each loss of a
    /// stamped frame is repaired by a resync).
    pub lost: u64,
}

impl Stats {
    /// Frames dropped for `reason`.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()]
    }

    /// Frames dropped for any reason.
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Decode errors over all channels.
    pub fn total_decode_errors(&self) -> u64 {
        self.channels.values().map(|c| c.decode_errors).sum()
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        self.drops[reason.index()] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_that_is_down_simulates_unless_the_module_is_forbidden() {
        let mut s = StatusSnapshot {
            status: Status::Connecting,
            attempt: 1,
            max_attempts: 10,
            next_retry_at: None,
            gave_up: false,
            last_close: None,
            connected_since: None,
            error: None,
            down_since: Some(Instant::from_millis(1)),
        };
        assert!(s.wants_simulation());
        s.status = Status::Error;
        s.error = Some(ConnectionError::AuthRejected {
            code: Some(4001),
            reason: "expired".into(),
        });
        assert!(
            s.wants_simulation(),
            "a bad token: the module still shows labelled simulation"
        );
        s.error = Some(ConnectionError::Forbidden {
            reason: "module not in the token's modules claim".into(),
        });
        assert!(!s.wants_simulation());
        s.error = None;
        s.status = Status::Connected;
        assert!(!s.wants_simulation());
        s.status = Status::Disconnected;
        s.down_since = None;
        assert!(
            !s.wants_simulation(),
            "never connected, never tried: nothing to stand in for"
        );
    }
}
