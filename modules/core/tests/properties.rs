//! Property tests: random event sequences against the connection's invariants.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use switchboard_core::config::OutboxConfig;
use switchboard_core::frame::decode_envelope;
use switchboard_core::rate::RateLimit;
use switchboard_core::{Command, Config, Connection, Event, Instant, SocketId, Status};

#[derive(Clone, Debug)]
enum Op {
    Start,
    Connect,
    Reconnect,
    Disconnect,
    Open,
    Close(u16),
    CloseOld,
    Text(String),
    Binary,
    Wait(u64),
    Online,
    Visible,
    TokenChanged,
    Send,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Start),
        1 => Just(Op::Connect),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Disconnect),
        3 => Just(Op::Open),
        2 => prop::sample::select(vec![1000u16, 1001, 1006, 1008, 1011, 4000, 4001, 4003]).prop_map(Op::Close),
        1 => Just(Op::CloseOld),
        3 => prop_oneof![
            Just(r#"{"type":"a","data":{"v":1}}"#.to_owned()),
            Just(r#"{"type":"auth_error"}"#.to_owned()),
            ".{0,40}",
        ]
        .prop_map(Op::Text),
        1 => Just(Op::Binary),
        4 => (0u64..200_000).prop_map(Op::Wait),
        1 => Just(Op::Online),
        1 => Just(Op::Visible),
        1 => Just(Op::TokenChanged),
        3 => Just(Op::Send),
    ]
}

fn config(outbox: bool) -> Config {
    Config {
        channels: vec!["a"],
        stale_after: Some(Duration::from_secs(6)),
        outbox: outbox.then(|| OutboxConfig {
            max_len: 4,
            max_age: Duration::from_secs(20),
        }),
        rate_limit: RateLimit {
            burst: 3,
            per_second: 1.0,
        },
        ..Config::default()
    }
}

/// The transport as the invariants see it.
#[derive(Default)]
struct World {
    /// Sockets opened and neither closed by command nor by an event.
    live: BTreeSet<u64>,
    /// Sockets that reported open, and whether their first frame was sent yet.
    opened: BTreeSet<u64>,
    first_sent: BTreeSet<u64>,
    retired: Vec<SocketId>,
    timer: Option<Instant>,
    sent_seq: Vec<u64>,
}

fn run(ops: Vec<Op>, outbox: bool, seed: u64) -> Result<(), TestCaseError> {
    let mut conn = Connection::new(config(outbox), seed);
    let mut world = World::default();
    let mut now = Instant::from_millis(1_700_000_000_000);
    let mut seq = 0u64;
    let mut stopped = false;
    for op in ops {
        let current = conn.current_socket();
        match &op {
            Op::Start => conn.handle(now, Event::Start),
            Op::Connect => conn.handle(now, Event::Connect),
            Op::Reconnect => conn.handle(now, Event::Reconnect),
            Op::Disconnect => conn.handle(now, Event::Disconnect),
            Op::Open => {
                if let Some(socket) = current {
                    world.opened.insert(socket.0);
                    conn.handle(
                        now,
                        Event::Opened {
                            socket,
                            token: Some("t".into()),
                        },
                    );
                    prop_assert_eq!(
                        conn.snapshot().status,
                        Status::Connected,
                        "open means connected"
                    );
                }
            }
            Op::Close(code) => {
                if let Some(socket) = current {
                    world.live.remove(&socket.0);
                    conn.handle(
                        now,
                        Event::Closed {
                            socket,
                            code: *code,
                            reason: String::new(),
                        },
                    );
                    prop_assert_ne!(
                        conn.snapshot().status,
                        Status::Connected,
                        "closed is not connected"
                    );
                    prop_assert!(conn.current_socket().is_none());
                }
            }
            Op::CloseOld => {
                if let Some(&socket) = world.retired.last() {
                    let before = conn.snapshot().clone();
                    conn.handle(
                        now,
                        Event::Closed {
                            socket,
                            code: 1006,
                            reason: String::new(),
                        },
                    );
                    prop_assert_eq!(
                        &before.status,
                        &conn.snapshot().status,
                        "old sockets are ignored"
                    );
                }
            }
            Op::Text(text) => {
                if let Some(socket) = current {
                    conn.handle(now, Event::Text { socket, text });
                }
            }
            Op::Binary => {
                if let Some(socket) = current {
                    conn.handle(now, Event::Binary { socket });
                }
            }
            Op::Wait(ms) => {
                now = now.plus(Duration::from_millis(*ms));
                if world.timer.is_some_and(|t| t <= now) {
                    conn.handle(now, Event::Tick);
                }
            }
            Op::Online => conn.handle(now, Event::Online),
            Op::Visible => conn.handle(now, Event::Visible),
            Op::TokenChanged => conn.handle(now, Event::TokenChanged),
            Op::Send => {
                seq += 1;
                let _ = conn.send(now, "cmd", &seq);
                prop_assert!(conn.outbox_len() <= 4, "outbox bounded");
            }
        }
        match op {
            Op::Disconnect => stopped = true,
            Op::Connect | Op::Reconnect => stopped = false,
            _ => {}
        }
        while let Some(cmd) = conn.poll() {
            match cmd {
                Command::Open(socket) => {
                    prop_assert!(!stopped, "nothing reopens after a manual disconnect");
                    world.live.insert(socket.0);
                }
                Command::Close { socket, .. } => {
                    world.live.remove(&socket.0);
                    world.retired.push(socket);
                }
                Command::Send(socket, text) => {
                    prop_assert!(world.opened.contains(&socket.0), "no send before open");
                    if world.first_sent.insert(socket.0) {
                        prop_assert!(
                            text.starts_with(r#"{"type":"auth""#),
                            "auth first: {}",
                            text
                        );
                    } else if let Some(n) = text
                        .strip_prefix(r#"{"type":"cmd","data":"#)
                        .and_then(|rest| rest.split(',').next())
                        .and_then(|n| n.parse::<u64>().ok())
                    {
                        prop_assert!(
                            world.sent_seq.last().is_none_or(|last| *last < n),
                            "in order"
                        );
                        world.sent_seq.push(n);
                    }
                }
                Command::Timer(at) => world.timer = at,
                Command::Deliver(_)
                | Command::StatusChanged
                | Command::Warn(_)
                | Command::Resync(_)
                | Command::SnapshotEnd
                | Command::ActionsChanged
                | Command::Relay(_) => {}
            }
        }
        prop_assert!(
            world.live.len() <= 1,
            "at most one socket open or opening: {:?}",
            world.live
        );
        let snap = conn.snapshot();
        if snap.status == Status::Connected {
            prop_assert_eq!(snap.down_since, None, "a connected feed is not down");
        }
        if snap.status == Status::Error {
            prop_assert!(snap.down_since.is_some(), "an error is a failure");
        }
        if stopped {
            prop_assert_eq!(world.timer, None, "no timer after a manual disconnect");
            prop_assert_eq!(conn.snapshot().status, Status::Disconnected);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_without_an_outbox(ops in prop::collection::vec(op(), 0..120), seed: u64) {
        run(ops, false, seed)?;
    }

    #[test]
    fn invariants_hold_with_an_outbox(ops in prop::collection::vec(op(), 0..120), seed: u64) {
        run(ops, true, seed)?;
    }

    #[test]
    fn decode_never_panics_on_strings(text in ".{0,200}", limit in 0usize..300) {
        let _ = decode_envelope(&text, limit);
    }

    #[test]
    fn decode_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = decode_envelope(&text, 1 << 20);
    }

    #[test]
    fn decode_never_panics_on_json_like_text(
        text in r#"\{("(type|data|timestamp)":(null|1|"[a-z_*]{0,8}"|\[\]|\{\}),?){0,4}\}"#,
    ) {
        let _ = decode_envelope(&text, 1 << 20);
    }
}
