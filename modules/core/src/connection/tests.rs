//! Unit tests of the state machine, one rule each.

use std::time::Duration;

use super::*;
use crate::config::OutboxConfig;
use crate::rate::RateLimit;

const T0: u64 = 1_760_616_000_000;

/// Drives a connection with a clock that only moves when told to.
struct Rig {
    conn: Connection,
    now: Instant,
}

impl Rig {
    fn new(config: Config) -> Self {
        Self::new_seeded(config, 42)
    }

    fn new_seeded(config: Config, seed: u64) -> Self {
        Self {
            conn: Connection::new(config, seed),
            now: Instant::from_millis(T0),
        }
    }

    fn started() -> Self {
        let mut rig = Self::new(Config::default());
        rig.on(Event::Start);
        rig
    }

    fn on(&mut self, event: Event<'_>) -> Vec<Command> {
        self.conn.handle(self.now, event);
        std::iter::from_fn(|| self.conn.poll()).collect()
    }

    fn advance(&mut self, d: Duration) -> Vec<Command> {
        self.now = self.now.plus(d);
        self.on(Event::Tick)
    }

    fn socket(&self) -> SocketId {
        self.conn.current_socket().expect("a socket is current")
    }

    fn open(&mut self) -> Vec<Command> {
        let socket = self.socket();
        self.on(Event::Opened {
            socket,
            token: Some("tok".into()),
        })
    }

    fn close(&mut self, code: u16) -> Vec<Command> {
        let socket = self.socket();
        self.on(Event::Closed {
            socket,
            code,
            reason: "bye".into(),
        })
    }

    fn text(&mut self, text: &str) -> Vec<Command> {
        let socket = self.socket();
        self.on(Event::Text { socket, text })
    }

    fn status(&self) -> Status {
        self.conn.snapshot().status
    }

    fn retry_delay(&self) -> Duration {
        let due = self.conn.snapshot().next_retry_at.expect("a retry is due");
        self.now.until(due)
    }
}

fn sends(cmds: &[Command]) -> Vec<&str> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send(_, text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn opens(cmds: &[Command]) -> usize {
    cmds.iter()
        .filter(|c| matches!(c, Command::Open(_)))
        .count()
}

fn delivered(cmds: &[Command]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Deliver(f) => Some(f.channel().to_owned()),
            _ => None,
        })
        .collect()
}

#[test]
fn start_connects_only_with_auto_connect() {
    let mut rig = Rig::new(Config {
        auto_connect: false,
        ..Config::default()
    });
    assert_eq!(opens(&rig.on(Event::Start)), 0);
    assert_eq!(rig.status(), Status::Disconnected);
    assert_eq!(opens(&rig.on(Event::Connect)), 1);
    assert_eq!(rig.status(), Status::Connecting);
}

#[test]
fn auth_is_the_first_frame_with_the_current_token() {
    let mut rig = Rig::started();
    let cmds = rig.open();
    assert_eq!(
        sends(&cmds),
        [r#"{"type":"auth","token":"tok","resume":{"parts":true},"actions":true}"#]
    );
    assert_eq!(rig.status(), Status::Connected);
    assert_eq!(rig.conn.snapshot().connected_since, Some(rig.now));
}

#[test]
fn the_reference_backoff_sequence_with_jitter_and_then_the_probe() {
    let mut rig = Rig::started();
    let mut delays = Vec::new();
    for _ in 0..10 {
        rig.close(1006);
        assert_eq!(rig.status(), Status::Connecting);
        let delay = rig.retry_delay();
        delays.push(delay);
        assert_eq!(
            opens(&rig.advance(delay)),
            1,
            "the retry opens exactly when due"
        );
    }
    let base = [3, 6, 12, 24, 30, 30, 30, 30, 30, 30];
    for (d, b) in delays.iter().zip(base) {
        let b = Duration::from_secs(b);
        assert!(
            *d >= b && *d < b.mul_f64(1.2),
            "{d:?} not in [{b:?}, 1.2 x)"
        );
    }
    assert_eq!(rig.conn.snapshot().attempt, 10);
    rig.close(1006);
    let snap = rig.conn.snapshot().clone();
    assert_eq!(snap.status, Status::Disconnected);
    assert!(snap.gave_up);
    assert_eq!(rig.retry_delay(), Duration::from_secs(120), "slow probe");
    assert_eq!(opens(&rig.advance(Duration::from_secs(119))), 0);
    assert_eq!(opens(&rig.advance(Duration::from_secs(1))), 1);
    rig.close(1006);
    assert_eq!(
        rig.retry_delay(),
        Duration::from_secs(120),
        "probing continues at its own pace"
    );
}

#[test]
fn a_fixed_seed_gives_the_exact_delays() {
    let run = || {
        let mut rig = Rig::started();
        (0..5)
            .map(|_| {
                rig.close(1006);
                let d = rig.retry_delay();
                rig.advance(d);
                d.as_millis()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn attempts_reset_only_after_a_stable_connection() {
    let mut rig = Rig::started();
    rig.close(1006);
    rig.advance(rig.retry_delay());
    rig.open();
    assert_eq!(
        rig.conn.snapshot().attempt,
        1,
        "an open alone does not reset the counter"
    );
    rig.advance(Duration::from_secs(4));
    assert_eq!(rig.conn.snapshot().attempt, 1);
    rig.advance(Duration::from_secs(1));
    assert_eq!(rig.conn.snapshot().attempt, 0, "reset after 5 s up");
}

#[test]
fn a_flapping_server_keeps_backing_off() {
    let mut rig = Rig::started();
    for expected in 1..=4 {
        rig.close(1006);
        rig.advance(rig.retry_delay());
        rig.open();
        assert_eq!(rig.conn.snapshot().attempt, expected);
    }
}

#[test]
fn fatal_close_codes_stop_retries_until_the_token_changes() {
    for code in [4001, 4003, 1008] {
        let mut rig = Rig::started();
        rig.open();
        rig.close(code);
        let snap = rig.conn.snapshot();
        assert_eq!(snap.status, Status::Error);
        if code == 1008 {
            // A rate limit, not a token problem: the operator is told so.
            assert!(matches!(
                snap.error,
                Some(ConnectionError::PolicyViolation { .. })
            ));
        } else if code == 4003 {
            // A good token without this module: said in words, not as a bad token.
            assert!(matches!(
                snap.error,
                Some(ConnectionError::Forbidden { .. })
            ));
        } else {
            assert!(
                matches!(snap.error, Some(ConnectionError::AuthRejected { code: Some(c), .. }) if c == code)
            );
        }
        assert_eq!(snap.next_retry_at, None);
        assert_eq!(opens(&rig.advance(Duration::from_secs(3600))), 0);
        assert_eq!(
            opens(&rig.on(Event::Online)),
            0,
            "online does not retry a rejected token"
        );
        assert_eq!(opens(&rig.on(Event::TokenChanged)), 1);
        assert_eq!(rig.status(), Status::Connecting);
        assert_eq!(rig.conn.snapshot().error, None);
    }
}

#[test]
fn a_server_restart_1012_reconnects_at_once_with_jitter_not_after_the_backoff() {
    let mut delays = Vec::new();
    for seed in 0..20 {
        let mut rig = Rig::new_seeded(Config::default(), seed);
        rig.on(Event::Start);
        rig.open();
        rig.close(1012);
        let delay = rig.retry_delay();
        assert!(delay < Duration::from_millis(750), "{delay:?}");
        assert_eq!(rig.conn.snapshot().attempt, 0, "not a failure");
        assert_eq!(opens(&rig.advance(delay)), 1);
        delays.push(delay);
        // A second 1012 before the connection was stable: the backoff, not a loop.
        rig.open();
        rig.close(1012);
        assert!(rig.retry_delay() >= Duration::from_secs(3));
        // Stable again: the next 1012 is quick once more.
        rig.advance(rig.retry_delay());
        rig.open();
        rig.advance(Duration::from_secs(6));
        rig.close(1012);
        assert!(rig.retry_delay() < Duration::from_millis(750));
    }
    delays.sort();
    delays.dedup();
    assert!(delays.len() > 10, "jittered: {delays:?}");
}

#[test]
fn a_module_can_add_fatal_codes() {
    let mut rig = Rig::new(Config {
        extra_fatal_close_codes: vec![4100],
        ..Config::default()
    });
    rig.on(Event::Start);
    rig.open();
    rig.close(4100);
    assert!(matches!(
        rig.conn.snapshot().error,
        Some(ConnectionError::Fatal { code: 4100, .. })
    ));
    assert_eq!(
        opens(&rig.on(Event::Reconnect)),
        1,
        "a manual reconnect still works"
    );
}

#[test]
fn an_auth_error_frame_closes_and_stops() {
    let mut rig = Rig::started();
    rig.open();
    let socket = rig.socket();
    let cmds = rig.text(r#"{"type":"auth_error","data":{"message":"token expired"}}"#);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { socket: s, .. } if *s == socket))
    );
    assert_eq!(rig.status(), Status::Error);
    assert_eq!(
        rig.conn.snapshot().error,
        Some(ConnectionError::AuthRejected {
            code: None,
            reason: "token expired".into()
        })
    );
    assert_eq!(opens(&rig.advance(Duration::from_secs(600))), 0);
}

#[test]
fn manual_disconnect_is_never_undone_automatically() {
    let mut rig = Rig::started();
    rig.open();
    let cmds = rig.on(Event::Disconnect);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { code: 1000, .. }))
    );
    assert_eq!(rig.status(), Status::Disconnected);
    // Also while a retry is pending: the retry timer is cancelled.
    let mut waiting = Rig::started();
    waiting.close(1006);
    let cmds = waiting.on(Event::Disconnect);
    assert!(cmds.iter().any(|c| matches!(c, Command::Timer(None))));
    assert_eq!(opens(&waiting.advance(Duration::from_secs(600))), 0);
    for e in [
        Event::Online,
        Event::Visible,
        Event::TokenChanged,
        Event::Tick,
        Event::Start,
    ] {
        assert_eq!(opens(&rig.on(e)), 0);
    }
    assert_eq!(opens(&rig.advance(Duration::from_secs(3600))), 0);
    assert_eq!(opens(&rig.on(Event::Connect)), 1);
}

#[test]
fn online_and_visible_retry_at_once_while_waiting() {
    for wake in [Event::Online, Event::Visible] {
        let mut rig = Rig::started();
        rig.close(1006);
        assert_eq!(opens(&rig.on(wake)), 1);
    }
}

#[test]
fn reconnect_closes_the_current_socket_and_opens_a_new_one() {
    let mut rig = Rig::started();
    rig.open();
    let old = rig.socket();
    let cmds = rig.on(Event::Reconnect);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { socket, .. } if *socket == old))
    );
    assert_eq!(opens(&cmds), 1);
    assert_ne!(rig.socket(), old);
    // A late close from the old socket changes nothing.
    rig.on(Event::Closed {
        socket: old,
        code: 1006,
        reason: String::new(),
    });
    assert_eq!(rig.status(), Status::Connecting);
    assert_eq!(rig.conn.snapshot().next_retry_at, None);
}

#[test]
fn connect_timeout_counts_as_a_failed_attempt() {
    let mut rig = Rig::started();
    let socket = rig.socket();
    assert!(acts(&rig.advance(Duration::from_secs(9))).is_empty());
    let cmds = rig.advance(Duration::from_secs(1));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { socket: s, .. } if *s == socket))
    );
    assert_eq!(rig.conn.snapshot().attempt, 1);
    assert_eq!(
        rig.conn.snapshot().last_close.as_ref().map(|c| c.code),
        Some(1006)
    );
}

/// What a tick did besides arming the next timer (an early tick re-arms and does nothing else).
fn acts(cmds: &[Command]) -> Vec<&Command> {
    cmds.iter()
        .filter(|c| !matches!(c, Command::Timer(_)))
        .collect()
}

/// The times the timer was armed for.
fn timers(cmds: &[Command]) -> Vec<Option<Instant>> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Timer(at) => Some(*at),
            _ => None,
        })
        .collect()
}

fn stale_config() -> Config {
    Config {
        stale_after: Some(Duration::from_secs(6)),
        ..Config::default()
    }
}

#[test]
fn silence_past_the_staleness_limit_forces_a_reconnect() {
    let mut rig = Rig::new(stale_config());
    rig.on(Event::Start);
    rig.open();
    rig.advance(Duration::from_secs(4));
    rig.text(r#"{"type":"x"}"#);
    assert!(
        rig.advance(Duration::from_secs(5))
            .iter()
            .all(|c| !matches!(c, Command::Close { .. }))
    );
    let cmds = rig.advance(Duration::from_secs(1));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { code: 4000, .. }))
    );
    assert_eq!(rig.status(), Status::Connecting);
}

#[test]
fn frames_move_the_staleness_deadline_without_rearming_the_timer() {
    let mut rig = Rig::new(stale_config());
    rig.on(Event::Start);
    let opened = rig.open();
    let armed = rig.now.plus(Duration::from_secs(6));
    assert_eq!(timers(&opened), [Some(armed)]);
    // A frame a second for five seconds: each moves the deadline later, none re-arms.
    for _ in 0..5 {
        rig.now = rig.now.plus(Duration::from_secs(1));
        let cmds = rig.text(r#"{"type":"x"}"#);
        assert!(timers(&cmds).is_empty(), "{cmds:?}");
    }
    // The timer fires at its old time, finds the feed fresh, and arms the real deadline.
    let cmds = rig.advance(Duration::from_secs(1));
    assert!(acts(&cmds).is_empty(), "{cmds:?}");
    let deadline = rig.now.plus(Duration::from_secs(5));
    assert_eq!(timers(&cmds), [Some(deadline)]);
    // Silence from the last frame on is caught on time: not a moment before, not after.
    let cmds = rig.advance(Duration::from_millis(4_999));
    assert!(cmds.iter().all(|c| !matches!(c, Command::Close { .. })));
    rig.now = deadline;
    let cmds = rig.on(Event::Tick);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { code: 4000, .. })),
        "{cmds:?}"
    );
}

#[test]
fn an_earlier_deadline_rearms_the_timer_at_once() {
    let mut rig = Rig::new(stale_config());
    rig.on(Event::Start);
    rig.open();
    // The staleness deadline is 6 s away; a connect timeout or a backoff are not, so a close
    // arms the timer for the retry, earlier, at once.
    let cmds = rig.close(1006);
    let retry = rig.conn.snapshot().next_retry_at;
    assert!(retry.is_some());
    assert_eq!(timers(&cmds), [retry]);
}

#[test]
fn a_late_timer_after_sleep_starts_a_fresh_staleness_window() {
    let mut rig = Rig::new(stale_config());
    rig.on(Event::Start);
    rig.open();
    // The timer was armed for +6 s but fires an hour later: the laptop slept.
    let cmds = rig.advance(Duration::from_secs(3600));
    assert!(
        cmds.iter().all(|c| !matches!(c, Command::Close { .. })),
        "no verdict on stale evidence"
    );
    assert_eq!(rig.status(), Status::Connected);
    let cmds = rig.advance(Duration::from_secs(6));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Close { code: 4000, .. })),
        "but silence after waking counts"
    );
}

#[test]
fn frames_are_delivered_and_bad_ones_counted_without_closing() {
    let mut rig = Rig::new(Config {
        channels: vec!["a", "b"],
        max_frame_bytes: 64,
        ..Config::default()
    });
    rig.on(Event::Start);
    rig.open();
    let mut got = Vec::new();
    got.extend(delivered(&rig.text(r#"{"type":"a","data":1}"#)));
    got.extend(delivered(&rig.text("not json")));
    got.extend(delivered(&rig.text(r#"{"data":1}"#)));
    got.extend(delivered(&rig.text(r#"{"type":"zzz"}"#)));
    got.extend(delivered(
        &rig.text(&format!(r#"{{"type":"a","data":"{}"}}"#, "x".repeat(100))),
    ));
    let socket = rig.socket();
    rig.on(Event::Binary { socket });
    rig.on(Event::Oversized { socket });
    got.extend(delivered(&rig.text(r#"{"type":"b"}"#)));
    assert_eq!(got, ["a", "b"]);
    let stats = rig.conn.stats();
    assert_eq!(stats.frames_in, 8);
    for (reason, n) in [
        (DropReason::NotJson, 1),
        (DropReason::MissingType, 1),
        (DropReason::UnknownChannel, 1),
        (DropReason::TooLarge, 2),
        (DropReason::Binary, 1),
    ] {
        assert_eq!(stats.drops(reason), n, "{reason:?}");
    }
    assert_eq!(stats.channels["a"].frames, 1);
    assert_eq!(stats.channels["b"].last_at, Some(rig.now));
    assert_eq!(rig.status(), Status::Connected);
}

#[test]
fn warnings_are_rate_limited_per_reason() {
    let mut rig = Rig::started();
    rig.open();
    let warns = |cmds: &[Command]| {
        cmds.iter()
            .filter(|c| matches!(c, Command::Warn(_)))
            .count()
    };
    assert_eq!(warns(&rig.text("x")), 1);
    assert_eq!(warns(&rig.text("x")), 0);
    assert_eq!(warns(&rig.text("[]")), 1, "another reason warns on its own");
    rig.now = rig.now.plus(Duration::from_secs(5));
    assert_eq!(warns(&rig.text("x")), 1);
    assert_eq!(rig.conn.stats().drops(DropReason::NotJson), 3);
}

#[test]
fn send_while_disconnected_is_refused_by_default() {
    let mut rig = Rig::started();
    let err = rig.conn.send(rig.now, "action", &1).unwrap_err();
    assert_eq!(err, SendError::NotConnected);
    assert_eq!(rig.conn.stats().send_refused, 1);
    rig.open();
    assert_eq!(rig.conn.send(rig.now, "action", &1), Ok(SendOutcome::Sent));
    let cmds: Vec<_> = std::iter::from_fn(|| rig.conn.poll()).collect();
    assert_eq!(
        sends(&cmds),
        [r#"{"type":"action","data":1,"timestamp":"2025-10-16T12:00:00.000Z"}"#]
    );
}

#[test]
fn the_outbox_flushes_after_auth_in_order_and_expires_old_frames() {
    let outbox = OutboxConfig {
        max_len: 3,
        max_age: Duration::from_secs(30),
    };
    let mut rig = Rig::new(Config {
        outbox: Some(outbox),
        ..Config::default()
    });
    rig.on(Event::Start);
    assert_eq!(rig.conn.send(rig.now, "old", &0), Ok(SendOutcome::Queued));
    rig.now = rig.now.plus(Duration::from_secs(31));
    for i in 1..=3 {
        assert_eq!(rig.conn.send(rig.now, "m", &i), Ok(SendOutcome::Queued));
    }
    assert_eq!(rig.conn.stats().outbox_expired, 1);
    assert_eq!(rig.conn.send(rig.now, "m", &4), Err(SendError::OutboxFull));
    assert_eq!(rig.conn.stats().outbox_overflow, 1);
    let cmds = rig.open();
    let sent = sends(&cmds);
    assert_eq!(sent.len(), 4);
    assert!(sent[0].contains(r#""type":"auth""#));
    for (i, text) in sent[1..].iter().enumerate() {
        assert!(text.contains(&format!(r#""data":{}"#, i + 1)), "{text}");
    }
    assert_eq!(rig.conn.outbox_len(), 0);
}

#[test]
fn the_rate_limit_refuses_or_queues() {
    let limit = RateLimit {
        burst: 2,
        per_second: 1.0,
    };
    let mut rig = Rig::new(Config {
        rate_limit: limit.clone(),
        ..Config::default()
    });
    rig.on(Event::Start);
    rig.open();
    assert!(rig.conn.send(rig.now, "a", &1).is_ok());
    assert!(rig.conn.send(rig.now, "a", &2).is_ok());
    assert_eq!(rig.conn.send(rig.now, "a", &3), Err(SendError::RateLimited));
    assert_eq!(rig.conn.stats().rate_limited, 1);

    let outbox = OutboxConfig {
        max_len: 10,
        max_age: Duration::from_secs(60),
    };
    let mut rig = Rig::new(Config {
        rate_limit: limit,
        outbox: Some(outbox),
        ..Config::default()
    });
    rig.on(Event::Start);
    rig.open();
    for i in 0..4 {
        rig.conn.send(rig.now, "a", &i).unwrap();
    }
    assert_eq!(
        rig.conn.outbox_len(),
        2,
        "over the limit, frames wait in order"
    );
    assert_eq!(
        sends(&std::iter::from_fn(|| rig.conn.poll()).collect::<Vec<_>>()).len(),
        2
    );
    let cmds = rig.advance(Duration::from_millis(1001));
    assert_eq!(sends(&cmds).len(), 1);
    assert!(sends(&cmds)[0].contains(r#""data":2"#));
}

#[test]
fn status_changes_are_announced_once() {
    let mut rig = Rig::started();
    let changed = |cmds: &[Command]| {
        cmds.iter()
            .filter(|c| matches!(c, Command::StatusChanged))
            .count()
    };
    assert_eq!(changed(&rig.open()), 1);
    assert_eq!(
        changed(&rig.text(r#"{"type":"a"}"#)),
        0,
        "frames do not touch the status"
    );
    assert_eq!(changed(&rig.close(1006)), 1);
}

#[test]
fn the_feed_is_down_only_after_a_real_failure() {
    // A healthy load: opening is not a failure, however long it takes within the timeout.
    let mut rig = Rig::started();
    assert_eq!(rig.status(), Status::Connecting);
    assert_eq!(rig.conn.snapshot().down_since, None);
    rig.advance(Duration::from_secs(5));
    assert_eq!(rig.conn.snapshot().down_since, None);
    rig.open();
    assert_eq!(rig.conn.snapshot().down_since, None);
    // A drop: down from then until the next open, through every retry.
    let dropped_at = rig.now;
    rig.close(1006);
    assert_eq!(rig.conn.snapshot().down_since, Some(dropped_at));
    let delay = rig.retry_delay();
    rig.advance(delay);
    rig.close(1006); // the retry is refused
    assert_eq!(
        rig.conn.snapshot().down_since,
        Some(dropped_at),
        "since the first failure"
    );
    let delay = rig.retry_delay();
    rig.advance(delay);
    rig.open();
    assert_eq!(rig.conn.snapshot().down_since, None);
    // A manual disconnect of a healthy connection is not a failure.
    rig.on(Event::Disconnect);
    assert_eq!(rig.status(), Status::Disconnected);
    assert_eq!(rig.conn.snapshot().down_since, None);

    // The connect timeout is a failure.
    let mut rig = Rig::started();
    rig.advance(Duration::from_secs(10));
    assert!(rig.conn.snapshot().down_since.is_some());
    // So is a rejected token.
    let mut rig = Rig::started();
    rig.close(4001);
    assert_eq!(rig.status(), Status::Error);
    assert!(rig.conn.snapshot().down_since.is_some());
}

mod resume {
    use super::*;

    fn delivered(cmds: &[Command]) -> Vec<String> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Deliver(f) => Some(f.data().get().to_owned()),
                _ => None,
            })
            .collect()
    }

    fn data(seq: u64) -> String {
        format!(r#"{{"type":"x","data":{seq},"seq":{seq}}}"#)
    }

    fn sync(mode: &str, epoch: &str, seq: u64, state: &str) -> String {
        format!(
            r#"{{"type":"sync","data":{{"mode":"{mode}","epoch":"{epoch}","seq":{seq},"heartbeat_ms":1000,"state":[{state}]}}}}"#
        )
    }

    fn rig() -> Rig {
        let mut rig = Rig::started();
        rig.open();
        rig
    }

    #[test]
    fn the_auth_frame_carries_the_last_position() {
        let mut rig = Rig::started();
        assert_eq!(
            sends(&rig.open()),
            [r#"{"type":"auth","token":"tok","resume":{"parts":true},"actions":true}"#]
        );
        rig.text(&sync("snapshot", "e1", 4, ""));
        rig.text(&data(5));
        rig.close(1006);
        rig.advance(Duration::from_secs(60));
        assert_eq!(
            sends(&rig.open()),
            [
                r#"{"type":"auth","token":"tok","resume":{"epoch":"e1","seq":5,"parts":true},"actions":true}"#
            ]
        );
    }

    #[test]
    fn resume_off_sends_the_reference_auth_frame_and_passes_control_frames_on() {
        let mut rig = Rig::new(Config {
            resume: false,
            ..Config::default()
        });
        rig.on(Event::Start);
        assert_eq!(sends(&rig.open()), [r#"{"type":"auth","token":"tok"}"#]);
        assert_eq!(delivered(&rig.text(&sync("live", "e1", 0, ""))).len(), 1);
    }

    #[test]
    fn a_snapshot_announces_a_reset_then_delivers_its_state() {
        let mut rig = rig();
        let cmds = rig.text(&sync(
            "snapshot",
            "e1",
            9,
            r#"{"type":"x","data":"a"},{"type":"x","data":"b"},{"data":1}"#,
        ));
        let order: Vec<&str> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Resync(SyncMode::Snapshot) => Some("resync"),
                Command::Deliver(_) => Some("deliver"),
                Command::SnapshotEnd => Some("end"),
                _ => None,
            })
            .collect();
        assert_eq!(order, ["resync", "deliver", "deliver", "end"]);
        assert!(
            cmds.iter()
                .all(|c| !matches!(c, Command::Deliver(f) if !f.is_state())),
            "a snapshot's frames are state"
        );
        assert_eq!(delivered(&cmds), [r#""a""#, r#""b""#]);
        assert_eq!(rig.conn.stats().drops(DropReason::MissingType), 1);
        assert_eq!(rig.conn.stats().snapshots, 1);
        let after = rig.text(&data(10));
        assert!(
            after
                .iter()
                .any(|c| matches!(c, Command::Deliver(f) if !f.is_state())),
            "a change after it is not"
        );
    }

    #[test]
    fn duplicates_are_dropped_and_a_gap_asks_for_a_resync() {
        let mut rig = rig();
        rig.text(&sync("snapshot", "e1", 0, ""));
        assert_eq!(delivered(&rig.text(&data(1))), ["1"]);
        assert!(delivered(&rig.text(&data(1))).is_empty());
        assert_eq!(rig.conn.stats().duplicates, 1);
        assert_eq!(
            rig.conn.stats().channels["x"].frames,
            1,
            "a duplicate is not delivered"
        );
        let cmds = rig.text(&data(3));
        assert!(delivered(&cmds).is_empty());
        let sent = sends(&cmds);
        assert_eq!(sent.len(), 1);
        assert!(
            sent[0].starts_with(r#"{"type":"resync","data":{"epoch":"e1","seq":1,"parts":true},"#),
            "{sent:?}"
        );
        assert_eq!(rig.conn.stats().gaps, 1);
        assert!(
            delivered(&rig.text(&data(4))).is_empty(),
            "held while resyncing"
        );
        rig.text(&sync("replay", "e1", 1, ""));
        assert_eq!(delivered(&rig.text(&data(2))), ["2"]);
        assert_eq!(delivered(&rig.text(&data(3))), ["3"]);
    }

    #[test]
    fn heartbeats_set_the_staleness_limit_and_never_reach_subscribers() {
        let mut rig = rig();
        rig.text(&sync("live", "e1", 0, ""));
        let cmds = rig.text(r#"{"type":"heartbeat","data":{"seq":0}}"#);
        assert!(delivered(&cmds).is_empty());
        assert_eq!(rig.conn.stats().heartbeats, 1);
        assert_eq!(rig.conn.stats().in_sync_at, Some(rig.now), "proven current");
        assert_eq!(rig.status(), Status::Connected);
        rig.advance(Duration::from_millis(2_999));
        assert_eq!(rig.status(), Status::Connected);
        let cmds = rig.advance(Duration::from_millis(1));
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::Close {
                code: 4000,
                reason: "stale",
                ..
            }
        )));
        assert_ne!(rig.status(), Status::Connected);
    }

    #[test]
    fn a_heartbeat_ahead_of_the_position_is_a_gap() {
        let mut rig = rig();
        rig.text(&sync("live", "e1", 3, ""));
        let cmds = rig.text(r#"{"type":"heartbeat","data":{"seq":5}}"#);
        assert_eq!(sends(&cmds).len(), 1);
        assert_eq!(rig.conn.stats().gaps, 1);
    }

    #[test]
    fn an_unanswered_resync_reconnects() {
        let mut rig = rig();
        rig.text(&sync("live", "e1", 0, ""));
        rig.text(&data(2));
        rig.advance(Duration::from_millis(2_000));
        rig.text(r#"{"type":"heartbeat","data":{"seq":2}}"#);
        rig.advance(Duration::from_millis(2_000));
        rig.text(r#"{"type":"heartbeat","data":{"seq":2}}"#);
        let cmds = rig.advance(Duration::from_secs(6));
        assert!(
            cmds.iter().any(|c| matches!(
                c,
                Command::Close {
                    reason: "resync timeout",
                    ..
                }
            )),
            "{cmds:?}"
        );
    }

    #[test]
    fn unstamped_frames_apply_at_once_without_a_sync() {
        let mut rig = rig();
        for _ in 0..2 {
            assert_eq!(
                delivered(&rig.text(r#"{"type":"x","data":1}"#)).len(),
                1,
                "a reference server's frames"
            );
        }
        assert_eq!(rig.advance(Duration::from_secs(60)).len(), 0, "no deadline");
        assert_eq!(rig.status(), Status::Connected);
    }

    #[test]
    fn stamped_frames_before_the_sync_wait_for_it_and_are_judged_by_it() {
        let mut rig = rig();
        // A server that sends data before its answer: 3 (twice), 4, then `sync` at 3.
        for seq in [3, 3, 4] {
            assert!(delivered(&rig.text(&data(seq))).is_empty(), "held");
        }
        let cmds = rig.text(&sync("snapshot", "e1", 3, r#"{"type":"x","data":"s"}"#));
        assert_eq!(delivered(&cmds), [r#""s""#, "4"]);
        assert_eq!(rig.conn.stats().duplicates, 2, "3 is in the snapshot");
        assert_eq!(rig.conn.stats().gaps, 0);
    }

    #[test]
    fn stamped_frames_without_a_sync_reconnect_after_the_deadline() {
        let mut rig = rig();
        rig.text(&data(1));
        assert!(acts(&rig.advance(Duration::from_millis(9_999))).is_empty());
        let cmds = rig.advance(Duration::from_millis(1));
        assert!(
            cmds.iter()
                .any(|c| matches!(c, Command::Close { code: 4000, .. })),
            "{cmds:?}"
        );
        assert!(delivered(&cmds).is_empty(), "never applied unchecked");
        assert_eq!(
            rig.conn
                .snapshot()
                .last_close
                .as_ref()
                .map(|c| c.reason.as_str()),
            Some("stamped frames without a sync")
        );
    }

    fn part(epoch: &str, seq: u64, part: u32, state: &str) -> String {
        format!(
            r#"{{"type":"snapshot_part","data":{{"epoch":"{epoch}","seq":{seq},"part":{part},"state":[{state}]}}}}"#
        )
    }

    fn sync_in_parts(seq: u64, parts: u32, state: &str) -> String {
        format!(
            r#"{{"type":"sync","data":{{"mode":"snapshot","epoch":"e1","seq":{seq},"heartbeat_ms":1000,"parts":{parts},"state":[{state}]}}}}"#
        )
    }

    #[test]
    fn a_snapshot_in_parts_is_delivered_whole_when_the_last_part_arrives() {
        let mut rig = rig();
        assert!(
            delivered(&rig.text(&sync_in_parts(7, 3, r#"{"type":"x","data":"a"}"#))).is_empty()
        );
        assert!(
            delivered(&rig.text(&data(8))).is_empty(),
            "held for the snapshot"
        );
        assert!(delivered(&rig.text(&part("e1", 7, 2, r#"{"type":"x","data":"b"}"#))).is_empty());
        let cmds = rig.text(&part("e1", 7, 3, r#"{"type":"x","data":"c"}"#));
        assert!(matches!(
            cmds.first(),
            Some(Command::Resync(SyncMode::Snapshot))
        ));
        assert_eq!(delivered(&cmds), [r#""a""#, r#""b""#, r#""c""#, "8"]);
        assert!(
            cmds.iter().position(|c| matches!(c, Command::SnapshotEnd))
                < cmds.iter().rposition(|c| matches!(c, Command::Deliver(_))),
            "the snapshot ends before the frame that followed it"
        );
        assert_eq!(rig.conn.resume().position().map(|p| p.seq), Some(8));
        assert_eq!(rig.conn.stats().snapshots, 1);
    }

    #[test]
    fn a_missing_part_abandons_the_snapshot_and_asks_again() {
        let mut rig = rig();
        rig.text(&sync_in_parts(7, 3, r#"{"type":"x","data":"a"}"#));
        let cmds = rig.text(&part("e1", 7, 3, r#"{"type":"x","data":"c"}"#));
        assert!(delivered(&cmds).is_empty(), "never half a snapshot");
        assert!(
            sends(&cmds)[0].starts_with(r#"{"type":"resync""#),
            "{cmds:?}"
        );
        // The answer is a whole snapshot.
        let cmds = rig.text(&sync("snapshot", "e1", 9, r#"{"type":"x","data":"z"}"#));
        assert_eq!(delivered(&cmds), [r#""z""#]);
        // A part of the abandoned one, arriving late, changes nothing.
        assert!(delivered(&rig.text(&part("e1", 7, 2, r#"{"type":"x","data":"b"}"#))).is_empty());
    }

    #[test]
    fn parts_that_stop_arriving_reconnect_after_the_deadline() {
        let mut rig = rig();
        rig.text(&sync_in_parts(7, 2, ""));
        let cmds = rig.advance(Duration::from_secs(10));
        assert!(
            cmds.iter()
                .any(|c| matches!(c, Command::Close { code: 4000, .. })),
            "{cmds:?}"
        );
        assert!(delivered(&cmds).is_empty());
    }

    #[test]
    fn frames_the_transport_lost_ask_for_a_resync() {
        let mut rig = rig();
        rig.text(&sync("live", "e1", 0, ""));
        let socket = rig.socket();
        let cmds = rig.on(Event::Lost { socket, frames: 3 });
        assert_eq!(rig.conn.stats().lost, 3);
        assert!(
            sends(&cmds)[0].starts_with(r#"{"type":"resync""#),
            "{cmds:?}"
        );
        assert!(
            delivered(&rig.text(&data(5))).is_empty(),
            "held until the answer"
        );
    }
}

mod actions;
