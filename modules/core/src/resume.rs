//! The resume extension (docs/PROTOCOL.md, "Resume"): positions, de-duplication and gaps.
//!
//! A supporting server stamps every data frame with `seq`, a number within an *epoch* (one
//! history; a restarted server starts a new one). The client puts its last applied position
//! in the auth frame; after auth the server answers with one `sync` frame saying what follows:
//! a **replay** of the frames after that position, a **snapshot** of the current state, or
//! **live** frames because nothing was missed. While a socket is quiet the server sends a
//! `heartbeat` with its latest position, at the interval the `sync` announced.
//!
//! [`Tracker`] is the client's side: it decides for every stamped frame whether to apply it,
//! drop it as a duplicate, or ask for a snapshot because a gap opened. It never applies a
//! position twice and never skips a gap it can see. A server that never sends `sync` (the
//! reference server) leaves the tracker [`SocketSync::Unsynced`], and every frame is applied
//! as before.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::time::Instant;

/// Server → client, once after auth: what the server will send.
pub const SYNC: &str = "sync";
/// Server → client, while a socket is quiet: the latest position sent.
pub const HEARTBEAT: &str = "heartbeat";
/// Client → server, after a gap: "send me what follows this position, or a snapshot".
pub const RESYNC: &str = "resync";
/// Server → client, right after a `sync` that announced `parts`: the next part of its state.
pub const SNAPSHOT_PART: &str = "snapshot_part";

/// The shortest heartbeat interval the client accepts; faster announcements are read as this.
pub const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
/// The longest; slower announcements are read as this.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(600);
/// How many announced intervals of silence make a socket stale.
pub const HEARTBEATS_BEFORE_STALE: u32 = 3;

/// A place in the server's history: the last frame applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Names one history. A different epoch means the positions are not comparable.
    pub epoch: String,
    /// The sequence number within the epoch.
    pub seq: u64,
}

/// What the server said it will do, in its `sync` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// The frames after the client's position follow, then live frames.
    Replay,
    /// The `state` in this frame replaces the client's; live frames follow.
    Snapshot,
    /// Nothing was missed; live frames follow.
    Live,
}

impl SyncMode {
    /// `replay`, `snapshot` or `live`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncMode::Replay => "replay",
            SyncMode::Snapshot => "snapshot",
            SyncMode::Live => "live",
        }
    }
}

/// The `data` of a `sync` frame.
#[derive(Debug, Deserialize)]
pub struct Sync<'a> {
    /// What follows.
    pub mode: SyncMode,
    /// The server's epoch.
    pub epoch: String,
    /// The position the stream continues from: the next data frame is `seq + 1`. For a
    /// snapshot, the position the state reflects.
    pub seq: u64,
    /// The idle heartbeat interval, in milliseconds, if the server sends heartbeats.
    #[serde(default)]
    pub heartbeat_ms: Option<u64>,
    /// For a snapshot: frames that rebuild the state from empty, in order. When `parts` is
    /// more than 1, only the first part of them.
    #[serde(borrow, default)]
    pub state: Vec<&'a RawValue>,
    /// For a snapshot sent in parts: how many parts the state has, this one included. The
    /// others follow at once as [`SNAPSHOT_PART`] frames. Absent: 1.
    #[serde(default)]
    pub parts: Option<u32>,
}

/// The `data` of a [`SNAPSHOT_PART`] frame.
#[derive(Debug, Deserialize)]
pub struct SnapshotPart<'a> {
    /// The snapshot's epoch, as in its `sync`.
    pub epoch: String,
    /// The snapshot's position, as in its `sync`.
    pub seq: u64,
    /// Which part this is: the `sync` is part 1, so the first of these is 2.
    pub part: u32,
    /// More of the state's frames, in order.
    #[serde(borrow, default)]
    pub state: Vec<&'a RawValue>,
}

/// The `data` of a `heartbeat` frame.
#[derive(Debug, Deserialize)]
pub struct Heartbeat {
    /// The position of the last data frame the server sent on this socket.
    pub seq: u64,
}

/// Where one socket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketSync {
    /// No `sync` yet: a reference server, or one that has not answered. Unstamped frames
    /// are applied as they come, as without the extension; stamped ones wait for the `sync`
    /// ([`Verdict::Early`]).
    Unsynced,
    /// Positions are checked.
    Synced,
    /// A gap was seen and a `resync` sent at this instant; stamped frames are held back until
    /// the answer comes.
    Awaiting(Instant),
}

/// What to do with a stamped data frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it.
    Apply,
    /// Already applied: drop it.
    Duplicate,
    /// Frames are missing before it: drop it and ask for a resync (sent by the caller).
    Gap,
    /// A resync is under way: drop it; the answer covers it.
    Held,
    /// No `sync` yet on this socket: keep it, and judge it once the `sync` has set the
    /// position (a server that sends data before its answer).
    Early,
}

/// The client's resume state for one connection: the position survives sockets, the rest is
/// per socket. Pure: the connection feeds it frames and acts on its answers.
#[derive(Clone, Debug)]
pub struct Tracker {
    position: Option<Position>,
    socket: SocketSync,
    heartbeat: Option<Duration>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    /// No position yet (a cold load).
    pub const fn new() -> Self {
        Self {
            position: None,
            socket: SocketSync::Unsynced,
            heartbeat: None,
        }
    }

    /// The last applied position, sent in the next auth frame.
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }

    /// Where the current socket stands.
    pub fn socket(&self) -> SocketSync {
        self.socket
    }

    /// The heartbeat interval the current socket's server announced.
    pub fn heartbeat(&self) -> Option<Duration> {
        self.heartbeat
    }

    /// The staleness limit the announced heartbeat implies.
    pub fn stale_limit(&self) -> Option<Duration> {
        self.heartbeat.map(|h| h * HEARTBEATS_BEFORE_STALE)
    }

    /// A new socket opened: nothing is known about it yet.
    pub fn opened(&mut self) {
        self.socket = SocketSync::Unsynced;
        self.heartbeat = None;
    }

    /// The server's `sync`. Returns the mode to act on, or `None` when the sync itself shows a
    /// gap (the caller asks for a resync, as for [`Verdict::Gap`]).
    pub fn sync(&mut self, now: Instant, sync: &Sync<'_>) -> Option<SyncMode> {
        self.heartbeat = sync
            .heartbeat_ms
            .map(|ms| Duration::from_millis(ms).clamp(MIN_HEARTBEAT, MAX_HEARTBEAT));
        let continues = match (&self.position, sync.mode) {
            (_, SyncMode::Snapshot) => true,
            // A cold load the server answers without state: there is nothing to replace.
            (None, _) => true,
            // Frames up to `sync.seq` were applied here already; later ones are the stream.
            (Some(p), _) => p.epoch == sync.epoch && sync.seq <= p.seq,
        };
        if !continues {
            self.socket = SocketSync::Awaiting(now);
            return None;
        }
        if sync.mode == SyncMode::Snapshot || self.position.is_none() {
            self.position = Some(Position {
                epoch: sync.epoch.clone(),
                seq: sync.seq,
            });
        }
        self.socket = SocketSync::Synced;
        Some(sync.mode)
    }

    /// A stamped data frame at `seq`.
    pub fn frame(&mut self, now: Instant, seq: u64) -> Verdict {
        match (self.socket, self.position.as_mut()) {
            (SocketSync::Unsynced, _) => Verdict::Early,
            (SocketSync::Synced, None) => Verdict::Apply,
            (SocketSync::Awaiting(_), _) => Verdict::Held,
            (SocketSync::Synced, Some(p)) => {
                if seq <= p.seq {
                    Verdict::Duplicate
                } else if seq == p.seq + 1 {
                    p.seq = seq;
                    Verdict::Apply
                } else {
                    self.socket = SocketSync::Awaiting(now);
                    Verdict::Gap
                }
            }
        }
    }

    /// Frames were lost on the way in (the client's own inbox overflowed). `true` when that
    /// is a gap to repair (the caller asks for a resync): the socket is synced.
    pub fn lost(&mut self, now: Instant) -> bool {
        if self.socket == SocketSync::Synced && self.position.is_some() {
            self.socket = SocketSync::Awaiting(now);
            return true;
        }
        false
    }

    /// The client asked for an answer (a `resync`) without a gap in the positions: a
    /// snapshot in parts it had to abandon. Stamped frames are held until the answer.
    pub fn await_answer(&mut self, now: Instant) {
        self.socket = SocketSync::Awaiting(now);
    }

    /// Whether a heartbeat at `seq` proves the feed current: the socket is synced and `seq`
    /// is the last position applied, so nothing has happened since.
    pub fn is_current(&self, seq: u64) -> bool {
        self.socket == SocketSync::Synced && self.position.as_ref().is_some_and(|p| p.seq == seq)
    }

    /// A heartbeat saying the server has sent up to `seq` on this socket. `true` when that
    /// shows a gap (the caller asks for a resync).
    pub fn heartbeat_at(&mut self, now: Instant, seq: u64) -> bool {
        match (self.socket, &self.position) {
            (SocketSync::Synced, Some(p)) if seq > p.seq => {
                self.socket = SocketSync::Awaiting(now);
                true
            }
            _ => false,
        }
    }
}

/// The resume fields the auth frame carries: `{"parts":true}` on a cold load, plus the last
/// position once there is one.
#[derive(Debug, Serialize)]
pub struct ResumeRequest<'a> {
    /// The last applied position's epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<&'a str>,
    /// The last applied position's sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// This client takes a snapshot in parts ([`Sync::parts`]); a server sends one only to
    /// clients that say so, so an older client never mistakes a first part for the whole.
    pub parts: bool,
}

impl<'a> ResumeRequest<'a> {
    /// The request for `position`.
    pub fn at(position: Option<&'a Position>) -> Self {
        Self {
            epoch: position.map(|p| p.epoch.as_str()),
            seq: position.map(|p| p.seq),
            parts: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Instant = Instant::from_millis(1_000);

    fn sync(mode: SyncMode, epoch: &str, seq: u64) -> Sync<'static> {
        Sync {
            mode,
            epoch: epoch.into(),
            seq,
            heartbeat_ms: Some(5_000),
            state: vec![],
            parts: None,
        }
    }

    fn synced_at(seq: u64) -> Tracker {
        let mut t = Tracker::new();
        assert_eq!(
            t.sync(T, &sync(SyncMode::Snapshot, "e1", seq)),
            Some(SyncMode::Snapshot)
        );
        t
    }

    #[test]
    fn before_the_sync_stamped_frames_wait_for_it() {
        let mut t = Tracker::new();
        for seq in [5, 5, 3, 90] {
            assert_eq!(t.frame(T, seq), Verdict::Early);
        }
        assert_eq!(t.position(), None);
        assert_eq!(t.stale_limit(), None);
        assert!(!t.lost(T), "nothing to repair before a sync");
    }

    #[test]
    fn frames_lost_on_a_synced_socket_ask_for_a_resync() {
        let mut t = synced_at(10);
        assert!(t.lost(T));
        assert_eq!(t.frame(T, 11), Verdict::Held);
        assert!(!t.lost(T), "one resync at a time");
    }

    #[test]
    fn in_order_frames_apply_once_and_repeats_are_duplicates() {
        let mut t = synced_at(10);
        assert_eq!(t.frame(T, 11), Verdict::Apply);
        assert_eq!(t.frame(T, 12), Verdict::Apply);
        assert_eq!(t.frame(T, 12), Verdict::Duplicate);
        assert_eq!(t.frame(T, 3), Verdict::Duplicate);
        assert_eq!(t.position().map(|p| p.seq), Some(12));
    }

    #[test]
    fn a_gap_holds_everything_until_the_next_sync() {
        let mut t = synced_at(10);
        assert_eq!(t.frame(T, 12), Verdict::Gap);
        assert_eq!(t.socket(), SocketSync::Awaiting(T));
        assert_eq!(t.frame(T, 11), Verdict::Held);
        assert_eq!(t.frame(T, 13), Verdict::Held);
        assert_eq!(
            t.sync(T, &sync(SyncMode::Replay, "e1", 10)),
            Some(SyncMode::Replay)
        );
        assert_eq!(t.frame(T, 11), Verdict::Apply);
    }

    #[test]
    fn a_heartbeat_ahead_of_the_position_is_a_gap() {
        let mut t = synced_at(10);
        assert!(!t.heartbeat_at(T, 10));
        assert!(t.heartbeat_at(T, 11));
        assert_eq!(t.frame(T, 11), Verdict::Held);
    }

    #[test]
    fn a_replay_from_elsewhere_or_another_epoch_is_refused() {
        let mut t = synced_at(10);
        t.opened();
        assert_eq!(t.sync(T, &sync(SyncMode::Replay, "e2", 10)), None);
        t.opened();
        assert_eq!(t.sync(T, &sync(SyncMode::Live, "e1", 11)), None);
        t.opened();
        // Replaying from before the position only repeats frames, which are dropped.
        assert_eq!(
            t.sync(T, &sync(SyncMode::Replay, "e1", 8)),
            Some(SyncMode::Replay)
        );
        assert_eq!(t.frame(T, 9), Verdict::Duplicate);
        assert_eq!(t.frame(T, 11), Verdict::Apply);
    }

    #[test]
    fn a_snapshot_moves_the_position_even_to_a_new_epoch() {
        let mut t = synced_at(10);
        t.opened();
        assert_eq!(
            t.sync(T, &sync(SyncMode::Snapshot, "e2", 3)),
            Some(SyncMode::Snapshot)
        );
        assert_eq!(
            t.position(),
            Some(&Position {
                epoch: "e2".into(),
                seq: 3
            })
        );
        assert_eq!(t.frame(T, 4), Verdict::Apply);
    }

    #[test]
    fn the_heartbeat_sets_the_staleness_limit_within_bounds() {
        let mut t = synced_at(0);
        assert_eq!(t.stale_limit(), Some(Duration::from_secs(15)));
        let mut fast = sync(SyncMode::Live, "e1", 0);
        fast.heartbeat_ms = Some(1);
        t.sync(T, &fast);
        assert_eq!(t.stale_limit(), Some(MIN_HEARTBEAT * 3));
        t.opened();
        assert_eq!(t.stale_limit(), None);
    }

    #[test]
    fn the_resume_request_is_empty_on_a_cold_load() {
        let cold = serde_json::to_string(&ResumeRequest::at(None)).unwrap();
        assert_eq!(cold, r#"{"parts":true}"#);
        let p = Position {
            epoch: "e1".into(),
            seq: 7,
        };
        let warm = serde_json::to_string(&ResumeRequest::at(Some(&p))).unwrap();
        assert_eq!(warm, r#"{"epoch":"e1","seq":7,"parts":true}"#);
    }
}
