//! The resume extension under random interleavings: a model server with a bounded history
//! and epochs, a lossy and repeating link, drops, reconnects, heartbeats and resyncs, answers
//! that race their own data (frames sent before the `sync`), and snapshots in parts, some cut
//! off by a drop. Whatever happens, the client applies each position at most once and never
//! skips one silently: every frame it applies is the one right after the last it applied or
//! the last snapshot, and a snapshot's state is delivered whole or not at all.

use std::time::Duration;

use proptest::prelude::*;
use switchboard_core::resume::SyncMode;
use switchboard_core::{Command, Config, Connection, Event, Instant, SocketId};

#[derive(Clone, Debug)]
enum Op {
    /// The world changes and the frame reaches the client.
    Send,
    /// The world changes and the frame is lost on the way.
    Lose,
    /// An old frame arrives again (`k` back from the newest).
    Repeat(u64),
    /// The server reports its position.
    Heartbeat,
    /// The socket dies; the client reconnects.
    Drop,
    /// The server restarts its history: a new epoch.
    NewEpoch,
    /// The server's next answer races its data: frames go out before the `sync`.
    Early,
    /// The server's next snapshot in parts is cut off by a drop after its first part.
    Cut,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Send),
        2 => Just(Op::Lose),
        2 => (0u64..6).prop_map(Op::Repeat),
        1 => Just(Op::Heartbeat),
        1 => Just(Op::Drop),
        1 => Just(Op::NewEpoch),
        1 => Just(Op::Early),
        1 => Just(Op::Cut),
    ]
}

/// The model server: one epoch at a time, a history of the last `keep` positions, a state of
/// [`STATE_LEN`] frames sent in `parts` parts.
struct Server {
    epoch: u64,
    head: u64,
    keep: u64,
    parts: usize,
    /// See [`Op::Early`].
    early: bool,
    /// See [`Op::Cut`].
    cut: bool,
}

const STATE_LEN: usize = 3;

impl Server {
    fn frame(&self, seq: u64) -> String {
        format!(
            r#"{{"type":"x","data":[{},{seq}],"seq":{seq}}}"#,
            self.epoch
        )
    }

    /// What the server sends after auth or a resync from `from` (`None`: a cold load). With
    /// [`Server::early`], its live broadcast races the answer: the frames a replay holds (and
    /// a repeat of the client's own last one) also go out before the `sync`, and so does the
    /// newest frame a snapshot already holds.
    fn answer(&self, from: Option<(u64, u64)>) -> Vec<String> {
        let oldest = self.head.saturating_sub(self.keep);
        match from {
            Some((epoch, seq)) if epoch == self.epoch && seq >= oldest && seq <= self.head => {
                let mode = if seq == self.head { "live" } else { "replay" };
                let sync = format!(
                    r#"{{"type":"sync","data":{{"mode":"{mode}","epoch":"e{}","seq":{seq},"heartbeat_ms":1000}}}}"#,
                    self.epoch
                );
                let frames: Vec<String> = (seq + 1..=self.head).map(|s| self.frame(s)).collect();
                let mut out = Vec::new();
                if self.early {
                    out.extend((seq > 0).then(|| self.frame(seq)));
                    out.extend(frames.iter().cloned());
                }
                out.push(sync);
                out.extend(frames);
                out
            }
            _ => {
                let state = [r#"{"type":"x","data":"state"}"#; STATE_LEN];
                let chunks: Vec<String> = state
                    .chunks(STATE_LEN.div_ceil(self.parts))
                    .map(|c| c.join(","))
                    .collect();
                let mut out: Vec<String> = (self.early && self.head > 0)
                    .then(|| self.frame(self.head))
                    .into_iter()
                    .collect();
                out.push(format!(
                    r#"{{"type":"sync","data":{{"mode":"snapshot","epoch":"e{}","seq":{},"heartbeat_ms":1000,"parts":{},"state":[{}]}}}}"#,
                    self.epoch,
                    self.head,
                    chunks.len(),
                    chunks[0]
                ));
                for (i, chunk) in chunks.iter().enumerate().skip(1) {
                    out.push(format!(
                        r#"{{"type":"snapshot_part","data":{{"epoch":"e{}","seq":{},"part":{},"state":[{chunk}]}}}}"#,
                        self.epoch,
                        self.head,
                        i + 1
                    ));
                }
                out
            }
        }
    }
}

/// Reads `{"epoch":"eN","seq":S}` out of an auth or resync frame.
fn position(text: &str) -> Option<(u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let p = v.get("resume").or_else(|| v.get("data"))?;
    let epoch = p.get("epoch")?.as_str()?.strip_prefix('e')?.parse().ok()?;
    Some((epoch, p.get("seq")?.as_u64()?))
}

struct Client {
    conn: Connection,
    now: Instant,
    socket: Option<SocketId>,
    /// The client's view: the epoch and the last position applied.
    applied: Option<(u64, u64)>,
    /// A snapshot was announced; its frames are state, not positions. Counts them.
    in_snapshot: Option<usize>,
    /// The position of the last snapshot the server sent, which applies at its end.
    snapshot_at: Option<(u64, u64)>,
    /// Replies the server owes (to an auth or a resync), sent on the next step.
    owed: Vec<Option<(u64, u64)>>,
    applied_frames: u64,
}

impl Client {
    fn step(&mut self, event: Event<'_>) -> Result<(), TestCaseError> {
        self.conn.handle(self.now, event);
        while let Some(cmd) = self.conn.poll() {
            match cmd {
                Command::Open(s) => self.socket = Some(s),
                Command::Send(_, text) => {
                    if text.starts_with(r#"{"type":"auth""#)
                        || text.starts_with(r#"{"type":"resync""#)
                    {
                        self.owed.push(position(&text));
                    }
                }
                Command::Resync(mode) => {
                    prop_assert_eq!(self.in_snapshot, None, "a snapshot inside a snapshot");
                    if mode == SyncMode::Snapshot {
                        self.in_snapshot = Some(0);
                    }
                }
                Command::SnapshotEnd => {
                    prop_assert_eq!(
                        self.in_snapshot.take(),
                        Some(STATE_LEN),
                        "a snapshot's state, whole"
                    );
                    self.applied = self.snapshot_at;
                }
                Command::Deliver(frame) => {
                    let data: serde_json::Value =
                        serde_json::from_str(frame.data().get()).unwrap_or_default();
                    if data == "state" {
                        let Some(n) = self.in_snapshot.as_mut() else {
                            return Err(TestCaseError::fail("state frames only in a snapshot"));
                        };
                        *n += 1;
                        continue;
                    }
                    prop_assert_eq!(self.in_snapshot, None, "data inside a snapshot's state");
                    let (epoch, seq) = (
                        data[0].as_u64().unwrap_or(u64::MAX),
                        data[1].as_u64().unwrap_or(0),
                    );
                    let expected = self.applied.map(|(e, s)| (e, s + 1));
                    prop_assert_eq!(
                        Some((epoch, seq)),
                        expected,
                        "applied out of turn (a repeat or a skipped position)"
                    );
                    self.applied = Some((epoch, seq));
                    self.applied_frames += 1;
                }
                Command::Close { .. } => self.socket = None,
                Command::Timer(_)
                | Command::StatusChanged
                | Command::Warn(_)
                | Command::ActionsChanged
                | Command::Relay(_) => {}
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), TestCaseError> {
        let Some(socket) = self.socket else {
            return Ok(());
        };
        self.step(Event::Text { socket, text })
    }

    /// Sends what the server owes, in order, as the server would. A snapshot in parts that
    /// the server is to cut is followed by a drop after its first part.
    fn settle(&mut self, server: &mut Server) -> Result<(), TestCaseError> {
        while !self.owed.is_empty() {
            let from = self.owed.remove(0);
            let answer = server.answer(from);
            server.early = false;
            for text in answer {
                if text.contains(r#""type":"snapshot_part""#) && server.cut {
                    server.cut = false;
                    self.owed.clear();
                    self.drop_socket()?;
                    prop_assert_eq!(self.in_snapshot, None, "no part of a cut snapshot");
                    return self.reconnect(server);
                }
                if text.contains(r#""mode":"snapshot""#) {
                    // The state reflects the head: the next frame to apply follows it.
                    self.snapshot_at = Some((server.epoch, server.head));
                }
                self.text(&text)?;
            }
        }
        Ok(())
    }

    fn drop_socket(&mut self) -> Result<(), TestCaseError> {
        if let Some(socket) = self.socket {
            self.step(Event::Closed {
                socket,
                code: 1006,
                reason: String::new(),
            })?;
        }
        Ok(())
    }

    fn reconnect(&mut self, server: &mut Server) -> Result<(), TestCaseError> {
        self.now = self.now.plus(Duration::from_secs(120));
        self.step(Event::Tick)?;
        if let Some(socket) = self.socket {
            self.step(Event::Opened {
                socket,
                token: Some("t".into()),
            })?;
        }
        self.settle(server)
    }
}

fn run(ops: Vec<Op>, keep: u64, parts: usize) -> Result<(), TestCaseError> {
    let mut server = Server {
        epoch: 1,
        head: 0,
        keep,
        parts,
        early: false,
        cut: false,
    };
    let mut c = Client {
        conn: Connection::new(Config::default(), 7),
        now: Instant::from_millis(1_760_616_000_000),
        socket: None,
        applied: None,
        in_snapshot: None,
        snapshot_at: None,
        owed: Vec::new(),
        applied_frames: 0,
    };
    c.step(Event::Start)?;
    let socket = c.socket.ok_or_else(|| TestCaseError::fail("no socket"))?;
    c.step(Event::Opened {
        socket,
        token: Some("t".into()),
    })?;
    c.settle(&mut server)?;
    let mut sent = 0u64; // the last position sent on the current socket
    for op in ops {
        c.now = c.now.plus(Duration::from_millis(100));
        match op {
            Op::Send => {
                server.head += 1;
                sent = server.head;
                c.text(&server.frame(server.head))?;
            }
            Op::Lose => server.head += 1,
            Op::Repeat(k) => {
                if sent > k {
                    c.text(&server.frame(sent - k))?;
                }
            }
            Op::Heartbeat => c.text(&format!(
                r#"{{"type":"heartbeat","data":{{"seq":{sent}}}}}"#
            ))?,
            Op::Drop => {
                c.drop_socket()?;
                c.reconnect(&mut server)?;
                sent = server.head;
            }
            Op::Early => server.early = true,
            Op::Cut => server.cut = true,
            Op::NewEpoch => {
                server.epoch += 1;
                server.head = 0;
                sent = 0;
                if let Some(socket) = c.socket {
                    c.step(Event::Closed {
                        socket,
                        code: 1012,
                        reason: String::new(),
                    })?;
                }
                c.reconnect(&mut server)?;
            }
        }
        c.settle(&mut server)?;
        if c.socket.is_none() {
            c.reconnect(&mut server)?;
            sent = server.head;
        }
    }
    // Liveness: a heartbeat at the head makes any loss visible, and the answer repairs it.
    c.text(&format!(
        r#"{{"type":"heartbeat","data":{{"seq":{}}}}}"#,
        server.head
    ))?;
    c.settle(&mut server)?;
    prop_assert_eq!(
        c.applied,
        Some((server.epoch, server.head)),
        "caught up with the server"
    );
    let stats = c.conn.stats();
    prop_assert!(
        stats.gaps >= u64::from(stats.held > 0),
        "frames are held only after a gap"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_position_applies_twice_and_no_gap_goes_unnoticed(
        ops in prop::collection::vec(op(), 0..150),
        keep in 0u64..20,
        parts in 1usize..=3,
    ) {
        run(ops, keep, parts)?;
    }
}
