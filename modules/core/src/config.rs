//! Per-connection settings. Every field has the reference's default where the reference has
//! one, and a stated default where it does not.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::frame::DEFAULT_MAX_FRAME_BYTES;
use crate::rate::RateLimit;

/// Whether a configured WebSocket URL is a path on the page's own origin (`/ws/network`),
/// which the shell resolves to `ws(s)://<page host><path>` and a Content-Security-Policy's
/// `'self'` covers. `//host/ws` is not: it names another host.
///
/// ```
/// use switchboard_core::config::is_page_path;
/// assert!(is_page_path("/ws/network"));
/// assert!(!is_page_path("//evil.example/ws"));
/// assert!(!is_page_path("wss://ops.example.net/ws"));
/// ```
pub fn is_page_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//")
}

/// Close codes after which reconnecting cannot help until the token changes: 4001 and 4003
/// (the devserver's "unauthorised" and "forbidden") and 1008 (policy violation).
pub const DEFAULT_FATAL_CLOSE_CODES: [u16; 3] = [4001, 4003, CLOSE_POLICY];
/// Policy violation: the server refused what the client sent (for example, too many frames).
pub const CLOSE_POLICY: u16 = 1008;
/// The token is good but does not include this module.
pub const CLOSE_FORBIDDEN: u16 = 4003;
/// Service restart: the server (one gateway node) is going away and another will take the
/// connection; reconnecting at once is right, with a little jitter so that every client of
/// the node does not arrive in the same millisecond.
pub const CLOSE_RESTART: u16 = 1012;

/// A bounded queue for frames sent while disconnected.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxConfig {
    /// Frames held at most; a send beyond it is refused with `SendError::OutboxFull`.
    pub max_len: usize,
    /// Frames older than this are dropped unsent and counted.
    pub max_age: Duration,
}

/// Settings for one connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Channels this connection accepts. A frame for any other `type` is dropped and counted
    /// as `unknown_channel`. Empty means "accept every channel".
    pub channels: Vec<&'static str>,
    /// Reconnect policy.
    pub backoff: Backoff,
    /// Connect on start. With `false`, nothing happens until a `Connect` event.
    pub auto_connect: bool,
    /// A socket still opening after this long counts as a failed attempt. Default 10 s.
    pub connect_timeout: Duration,
    /// The attempt counter resets only after the connection has been up this long, so a
    /// server that accepts and drops at once is not hammered. Default 5 s.
    pub stable_after: Duration,
    /// After the last automatic attempt, a probe tries this often. Default 2 min.
    pub probe_interval: Duration,
    /// Silence longer than this on an open socket forces a reconnect. `None` (the default)
    /// for modules whose traffic is bursty. A server that announces a heartbeat (resume
    /// extension) sets a limit of three intervals, and the tighter of the two applies.
    pub stale_after: Option<Duration>,
    /// A timer that fires this much later than it was armed for means the machine slept or
    /// the tab was throttled; staleness then starts a fresh window instead of judging the
    /// connection dead on stale evidence. Default 5 s.
    pub wake_gap: Duration,
    /// Largest inbound frame, in bytes. Default 1 MiB.
    pub max_frame_bytes: usize,
    /// Close codes that stop automatic reconnects, in addition to
    /// [`DEFAULT_FATAL_CLOSE_CODES`].
    pub extra_fatal_close_codes: Vec<u16>,
    /// `None` (the default, as in the reference): a send while disconnected is refused.
    pub outbox: Option<OutboxConfig>,
    /// Outbound rate limit.
    pub rate_limit: RateLimit,
    /// The same warning is logged at most once per this period. Default 5 s.
    pub warn_every: Duration,
    /// Offer the resume extension (docs/PROTOCOL.md): the auth frame carries the last
    /// position, and a server that answers with `sync` gets positions checked, heartbeats
    /// and its announced staleness limit. A reference server ignores it. Default on.
    pub resume: bool,
    /// After a gap, a `resync` not answered within this long closes the socket, and the
    /// reconnect asks again in its auth frame. Default 10 s.
    pub resync_timeout: Duration,
    /// After a close with 1012 (a server restarting), reconnect after a random delay below
    /// this, not after the backoff. Once per stable connection: a server that keeps sending
    /// 1012 gets the backoff from the second time. Default 750 ms.
    pub restart_jitter: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            backoff: Backoff::default(),
            auto_connect: true,
            connect_timeout: Duration::from_secs(10),
            stable_after: Duration::from_secs(5),
            probe_interval: Duration::from_secs(120),
            stale_after: None,
            wake_gap: Duration::from_secs(5),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            extra_fatal_close_codes: Vec::new(),
            outbox: None,
            rate_limit: RateLimit::default(),
            warn_every: Duration::from_secs(5),
            resume: true,
            restart_jitter: Duration::from_millis(750),
            resync_timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Whether a close with `code` stops automatic reconnects.
    pub fn is_fatal(&self, code: u16) -> bool {
        DEFAULT_FATAL_CLOSE_CODES.contains(&code) || self.extra_fatal_close_codes.contains(&code)
    }

    /// Whether this connection accepts frames on `channel`.
    pub fn declares(&self, channel: &str) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }
}
