//! The resume extension on an open socket: the server's `sync` (whole, or a snapshot in
//! parts), stamped frames that arrive before it, gaps, frames lost on the way in, and the
//! deadline for every answer the client waits for.

use serde_json::value::RawValue;

use super::*;
use crate::resume::{SnapshotPart, SocketSync};

/// Most stamped frames held while a socket waits for its `sync`. Beyond it they are dropped
/// and counted as held; the gap they leave is seen after the `sync` and asked for again.
pub const MAX_EARLY_FRAMES: usize = 4096;
/// Most bytes of state a snapshot sent in parts may gather. Beyond it the snapshot is
/// abandoned (and asked for again), so a broken server cannot exhaust the page's memory.
pub const MAX_SNAPSHOT_BYTES: usize = 256 << 20;

/// A snapshot whose parts are still arriving. Nothing of it is delivered before the last.
#[derive(Debug)]
pub(super) struct PendingSnapshot {
    epoch: String,
    seq: u64,
    heartbeat_ms: Option<u64>,
    parts: u32,
    received: u32,
    frames: Vec<Frame>,
    bytes: usize,
    since: Instant,
}

impl Connection {
    /// The server's `sync`. A whole one is acted on at once; the first part of a snapshot
    /// in parts is kept until the rest has arrived. Any unfinished snapshot is superseded.
    pub(super) fn on_sync(&mut self, now: Instant, data: &RawValue) -> Result<(), DropReason> {
        let sync: resume::Sync<'_> =
            serde_json::from_str(data.get()).map_err(|_| DropReason::BadPosition)?;
        self.pending = None;
        let parts = sync.parts.unwrap_or(1);
        let mut state = Vec::with_capacity(sync.state.len());
        let bytes = self.gather(now, &sync.state, &mut state);
        if sync.mode == SyncMode::Snapshot && parts > 1 {
            self.pending = Some(PendingSnapshot {
                epoch: sync.epoch,
                seq: sync.seq,
                heartbeat_ms: sync.heartbeat_ms,
                parts,
                received: 1,
                frames: state,
                bytes,
                since: now,
            });
            return Ok(());
        }
        self.synced(now, &sync, state);
        Ok(())
    }

    /// A further part of the pending snapshot. The last one completes it.
    pub(super) fn on_snapshot_part(
        &mut self,
        now: Instant,
        data: &RawValue,
    ) -> Result<(), DropReason> {
        let part: SnapshotPart<'_> =
            serde_json::from_str(data.get()).map_err(|_| DropReason::BadPosition)?;
        let Some(mut pending) = self.pending.take() else {
            // No snapshot is waiting for it: it belongs to one already abandoned.
            self.stats.held += 1;
            return Ok(());
        };
        if part.epoch != pending.epoch
            || part.seq != pending.seq
            || part.part != pending.received + 1
        {
            self.abandon_snapshot(now, "a snapshot part is missing or out of order");
            return Ok(());
        }
        pending.received += 1;
        pending.bytes += self.gather(now, &part.state, &mut pending.frames);
        if pending.bytes > MAX_SNAPSHOT_BYTES {
            self.abandon_snapshot(now, "a snapshot is larger than this client accepts");
            return Ok(());
        }
        if pending.received < pending.parts {
            self.pending = Some(pending);
            return Ok(());
        }
        let sync = resume::Sync {
            mode: SyncMode::Snapshot,
            epoch: pending.epoch,
            seq: pending.seq,
            heartbeat_ms: pending.heartbeat_ms,
            state: Vec::new(),
            parts: None,
        };
        self.synced(now, &sync, pending.frames);
        Ok(())
    }

    /// Decodes a snapshot's state frames into `into`, counting the ones that are not frames
    /// of this module. Returns the bytes read.
    fn gather(&mut self, now: Instant, raw: &[&RawValue], into: &mut Vec<Frame>) -> usize {
        let mut bytes = 0;
        for raw in raw {
            bytes += raw.get().len();
            let frame = decode_envelope(raw.get(), self.config.max_frame_bytes)
                .and_then(|env| self.data_frame(env));
            match frame {
                Ok((frame, _)) => into.push(frame),
                Err(reason) => self.dropped(now, reason),
            }
        }
        bytes
    }

    /// A complete answer: position checked, the state delivered (for a snapshot, between
    /// [`Command::Resync`] and [`Command::SnapshotEnd`]), then the frames that came early.
    fn synced(&mut self, now: Instant, sync: &resume::Sync<'_>, state: Vec<Frame>) {
        match self.tracker.sync(now, sync) {
            None => self.on_gap(now),
            Some(mode) => {
                match mode {
                    SyncMode::Replay => self.stats.replays += 1,
                    SyncMode::Snapshot => self.stats.snapshots += 1,
                    SyncMode::Live => self.stats.resumed_live += 1,
                }
                if self.relaying {
                    self.commands.push_back(Command::Relay(Relayed::Sync {
                        mode,
                        epoch: sync.epoch.clone(),
                        seq: sync.seq,
                        heartbeat_ms: sync.heartbeat_ms,
                    }));
                }
                self.commands.push_back(Command::Resync(mode));
                for frame in state {
                    self.deliver(now, frame.into_state(now));
                }
                if mode == SyncMode::Snapshot {
                    self.commands.push_back(Command::SnapshotEnd);
                }
            }
        }
        self.early_since = None;
        while let Some((frame, seq)) = self.early.pop_front() {
            let verdict = self.tracker.frame(now, seq);
            self.judged(now, frame, verdict);
        }
    }

    /// Keeps a stamped frame that came before this socket's `sync`.
    pub(super) fn hold_early(&mut self, now: Instant, frame: Frame, seq: u64) {
        if self.early.len() >= MAX_EARLY_FRAMES {
            self.stats.held += 1;
            return;
        }
        self.early_since.get_or_insert(now);
        self.early.push_back((frame, seq));
    }

    /// Gives up on a snapshot in parts and asks for the state again.
    fn abandon_snapshot(&mut self, now: Instant, why: &'static str) {
        self.pending = None;
        self.warn(now, Cow::Borrowed("snapshot"), || {
            format!("{why}; asking the server again")
        });
        self.tracker.await_answer(now);
        self.on_gap(now);
    }

    /// The transport dropped frames unread: count them, and repair the gap they leave.
    pub(super) fn on_lost(&mut self, now: Instant, frames: u64) {
        self.stats.lost += frames;
        self.warn(now, Cow::Borrowed("lost"), || {
            format!("{frames} inbound frames dropped unread: the page could not keep up")
        });
        if self.tracker.lost(now) {
            self.on_gap(now);
        }
    }

    /// Forgets what belonged to the socket that just opened or closed.
    pub(super) fn forget_socket(&mut self) {
        self.early.clear();
        self.early_since = None;
        self.pending = None;
    }

    /// When the client stops waiting for the server's answer, and what it was waiting for:
    /// an answer to a `resync`, the rest of a snapshot, or the `sync` that stamped frames
    /// promise. Past it the socket is closed and the reconnect asks again.
    pub(super) fn answer_due(&self) -> Option<(Instant, &'static str)> {
        let timeout = self.config.resync_timeout;
        let resync = match self.tracker.socket() {
            SocketSync::Awaiting(asked) => Some((asked, "no answer to a resync request")),
            _ => None,
        };
        let parts = self
            .pending
            .as_ref()
            .map(|p| (p.since, "a snapshot's parts stopped arriving"));
        let early = self
            .early_since
            .map(|at| (at, "stamped frames without a sync"));
        [resync, parts, early]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
            .map(|(at, why)| (at.plus(timeout), why))
    }

    /// A gap: count it and ask the server for what is missing. When the rate limit holds the
    /// request back, the answer deadline reconnects instead, and the auth frame asks.
    pub(super) fn on_gap(&mut self, now: Instant) {
        self.stats.gaps += 1;
        let Phase::Open { socket, .. } = self.phase else {
            return;
        };
        self.warn(now, Cow::Borrowed("gap"), || {
            "frames are missing from the live feed; asking the server to resync".to_owned()
        });
        let request = resume::ResumeRequest::at(self.tracker.position());
        if let Ok(text) = encode_frame(resume::RESYNC, &request, now)
            && self.bucket.try_take(now)
        {
            self.commands.push_back(Command::Send(socket, text));
            self.stats.frames_out += 1;
        }
    }
}
