//! The election and the relay, with every tab's real connection, a fake lock manager, a fake
//! bus and a server that speaks the resume extension (the core's own feed): what a browser
//! with several tabs does, step by step, with a clock that moves only when told to.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::config::Config;
use crate::connection::{Connection, Event};
use crate::status::Status;

const T0: u64 = 1_760_616_000_000;
const CHANNEL: &str = "tick";

/// The test module's state: entry `id` holds `v`; `gone` removes it.
fn keep(frame: &Frame) -> Keep {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(frame.data().get()) else {
        return Keep::Skip;
    };
    let id = v["id"].to_string();
    if v["gone"] == true {
        Keep::Remove(id)
    } else {
        Keep::Put(id, frame.clone())
    }
}

/// What a tab's store would show: id → value, a snapshot replacing it whole.
#[derive(Debug, Default)]
struct View {
    shown: BTreeMap<String, i64>,
    staging: Option<BTreeMap<String, i64>>,
    /// Positions of the changes applied, in order.
    seqs: Vec<u64>,
}

impl View {
    fn apply(&mut self, command: &Command) {
        match command {
            Command::Resync(SyncMode::Snapshot) => self.staging = Some(BTreeMap::new()),
            Command::SnapshotEnd => {
                if let Some(staged) = self.staging.take() {
                    self.shown = staged;
                }
            }
            Command::Deliver(frame) => {
                let v: serde_json::Value =
                    serde_json::from_str(frame.data().get()).expect("test frames are JSON");
                let target = match self.staging.as_mut() {
                    Some(staged) if frame.is_state() => staged,
                    _ => &mut self.shown,
                };
                let id = v["id"].to_string();
                if v["gone"] == true {
                    target.remove(&id);
                } else {
                    target.insert(id, v["v"].as_i64().unwrap_or_default());
                }
                if let Some(seq) = frame.position().filter(|_| !frame.is_state()) {
                    self.seqs.push(seq);
                }
            }
            _ => {}
        }
    }
}

/// One tab: its machine, its connection, and what it shows.
struct Browser {
    tab: Tab,
    conn: Connection,
    view: View,
    alive: bool,
    /// Runs nothing (frozen or hung); what reaches it waits.
    paused: bool,
    forwarded: Vec<String>,
}

enum Ev {
    Input(String),
    Lock(Input<'static>),
    Opened(SocketId),
    Closed(SocketId, u16, String),
    Text(SocketId, String),
}

#[derive(Debug)]
struct ServerSocket {
    tab: usize,
    socket: SocketId,
    open: bool,
}

#[derive(Default)]
struct Locks {
    holder: Option<usize>,
    queue: VecDeque<usize>,
}

struct World {
    now: Instant,
    server: Feed,
    server_up: bool,
    sockets: Vec<ServerSocket>,
    /// Sockets the server accepted, ever.
    accepted: usize,
    tabs: Vec<Browser>,
    locks: Locks,
    events: VecDeque<(usize, Ev)>,
    next: i64,
}

fn config() -> Config {
    Config {
        channels: vec![CHANNEL],
        ..Config::default()
    }
}

impl World {
    fn new() -> Self {
        let now = Instant::from_millis(T0);
        Self {
            now,
            server: Feed::new("test", keep, FeedSettings::default(), now),
            server_up: true,
            sockets: Vec::new(),
            accepted: 0,
            tabs: Vec::new(),
            locks: Locks::default(),
            events: VecDeque::new(),
            next: 0,
        }
    }

    /// A browser with `n` tabs open, one after the other.
    fn with_tabs(n: usize) -> Self {
        let mut w = Self::new();
        for _ in 0..n {
            w.open_tab();
        }
        w
    }

    /// Opens a tab, and lets everything settle.
    fn open_tab(&mut self) -> usize {
        let i = self.tabs.len();
        let mut conn = Connection::new(config(), i as u64 + 7);
        conn.set_relaying(true);
        self.tabs.push(Browser {
            tab: Tab::new(TabId(100 + i as u64), "test", keep, self.now),
            conn,
            view: View::default(),
            alive: true,
            paused: false,
            forwarded: Vec::new(),
        });
        self.tabs[i].tab.handle(self.now, Input::Start);
        self.settle();
        i
    }

    /// Closes a tab as the browser does: its socket and its lock go with it, with no word.
    fn close_tab(&mut self, i: usize) {
        self.tabs[i].alive = false;
        for s in self.sockets.iter_mut().filter(|s| s.tab == i) {
            s.open = false;
        }
        self.release(i);
        self.locks.queue.retain(|t| *t != i);
        self.settle();
    }

    fn open_sockets(&self) -> usize {
        self.sockets.iter().filter(|s| s.open).count()
    }

    /// The running tab that leads.
    fn leader(&self) -> Option<usize> {
        self.tabs
            .iter()
            .position(|b| b.alive && !b.paused && b.tab.role() == Role::Leading)
    }

    /// The server's state, as a view shows it.
    fn truth(&self) -> BTreeMap<String, i64> {
        let mut view = View::default();
        for frame in self.server.state() {
            view.apply(&Command::Deliver(frame.clone()));
        }
        view.shown
    }

    /// The backend publishes `n` changes to entries 0..5.
    fn publish(&mut self, n: usize) {
        let mut frames = Vec::new();
        for _ in 0..n {
            self.next += 1;
            let data = serde_json::json!({"id": self.next % 5, "v": self.next});
            frames.push(Frame::new(CHANNEL, &data, Some(self.now), Provenance::Live).unwrap());
        }
        let published = self.server.publish(frames, self.now);
        for (_, text) in published {
            for s in self.sockets.iter().filter(|s| s.open) {
                self.events
                    .push_back((s.tab, Ev::Text(s.socket, text.to_string())));
            }
        }
        self.settle();
    }

    /// Moves the clock in steps of a second; every running tab's timer fires, and the server
    /// sends every socket a heartbeat every five seconds.
    fn advance(&mut self, secs: u64) {
        for _ in 0..secs {
            self.now = self.now.plus(Duration::from_secs(1));
            if (self.now.as_millis() - T0) % 5000 == 0
                && let Some(beat) = heartbeat(self.server.head(), self.now)
            {
                for s in self.sockets.iter().filter(|s| s.open) {
                    self.events
                        .push_back((s.tab, Ev::Text(s.socket, beat.clone())));
                }
            }
            for i in 0..self.tabs.len() {
                if self.tabs[i].alive && !self.tabs[i].paused {
                    self.tabs[i].conn.handle(self.now, Event::Tick);
                }
            }
            self.settle();
        }
    }

    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            for i in 0..self.tabs.len() {
                if self.tabs[i].alive && !self.tabs[i].paused {
                    busy |= self.run(i);
                }
            }
            // One event at a time, in order; a paused tab's wait.
            let ready = self
                .events
                .iter()
                .position(|(i, _)| self.tabs[*i].alive && !self.tabs[*i].paused);
            if let Some(at) = ready {
                let (i, ev) = self.events.remove(at).unwrap();
                self.deliver(i, ev);
                busy = true;
            }
            if !busy {
                return;
            }
        }
        panic!("the tabs never settle");
    }

    fn deliver(&mut self, i: usize, ev: Ev) {
        let now = self.now;
        let b = &mut self.tabs[i];
        match ev {
            Ev::Input(text) => b.tab.handle(now, Input::Message(&text)),
            Ev::Lock(input) => b.tab.handle(now, input),
            Ev::Opened(socket) => b.conn.handle(
                now,
                Event::Opened {
                    socket,
                    token: Some("tok".into()),
                },
            ),
            Ev::Closed(socket, code, reason) => b.conn.handle(
                now,
                Event::Closed {
                    socket,
                    code,
                    reason,
                },
            ),
            Ev::Text(socket, text) => b.conn.handle(
                now,
                Event::Text {
                    socket,
                    text: &text,
                },
            ),
        }
    }

    /// Runs tab `i`'s connection commands and machine outputs; whether anything ran.
    fn run(&mut self, i: usize) -> bool {
        let mut busy = false;
        let now = self.now;
        while let Some(command) = self.tabs[i].conn.poll() {
            busy = true;
            let b = &mut self.tabs[i];
            b.tab.observe(now, &command);
            b.view.apply(&command);
            if b.tab.take(&command) {
                continue;
            }
            match command {
                Command::Open(socket) => {
                    self.accepted += 1;
                    if self.server_up {
                        self.sockets.push(ServerSocket {
                            tab: i,
                            socket,
                            open: true,
                        });
                        self.events.push_back((i, Ev::Opened(socket)));
                    } else {
                        self.events
                            .push_back((i, Ev::Closed(socket, 1006, String::new())));
                    }
                }
                Command::Send(socket, text) => self.server_receives(i, socket, &text),
                Command::Close { socket, .. } => {
                    for s in self
                        .sockets
                        .iter_mut()
                        .filter(|s| s.tab == i && s.socket == socket)
                    {
                        s.open = false;
                    }
                }
                Command::StatusChanged => {
                    let state = Upstream::of(&self.tabs[i].conn);
                    self.tabs[i].tab.upstream(state);
                }
                _ => {}
            }
        }
        self.tabs[i].tab.flush();
        while let Some(output) = self.tabs[i].tab.poll() {
            busy = true;
            match output {
                Output::Lock(request) => self.lock(i, request),
                Output::Release => {
                    self.release(i);
                    self.locks.queue.retain(|t| *t != i);
                }
                Output::Post(message) => {
                    for j in 0..self.tabs.len() {
                        if j != i && self.tabs[j].alive {
                            self.events.push_back((j, Ev::Input(message.clone())));
                        }
                    }
                }
                Output::Start => self.tabs[i].conn.handle(now, Event::Start),
                Output::Reconnect => {
                    let event = if self.tabs[i].conn.current_socket().is_some() {
                        Event::Reconnect
                    } else {
                        Event::Online
                    };
                    self.tabs[i].conn.handle(now, event);
                }
                Output::Nudge => self.tabs[i].conn.handle(now, Event::Online),
                Output::Socket(socket, event) => {
                    let ev = match event {
                        VirtualEvent::Opened => Ev::Opened(socket),
                        VirtualEvent::Closed { code, reason } => Ev::Closed(socket, code, reason),
                        VirtualEvent::Text(text) => Ev::Text(socket, text),
                    };
                    // At once, as the adapter feeds the connection.
                    self.deliver(i, ev);
                }
                Output::Forward(text) => {
                    let _ = self.tabs[i].conn.forward(now, text);
                }
            }
        }
        busy
    }

    fn lock(&mut self, i: usize, request: LockRequest) {
        match (request, self.locks.holder) {
            (_, None) => {
                self.locks.holder = Some(i);
                self.events.push_back((i, Ev::Lock(Input::Granted)));
            }
            (LockRequest::IfAvailable, Some(_)) => {
                self.events.push_back((i, Ev::Lock(Input::Unavailable)));
            }
            (LockRequest::Wait, Some(_)) => self.locks.queue.push_back(i),
            (LockRequest::Steal, Some(holder)) => {
                self.locks.queue.retain(|t| *t != i);
                self.locks.holder = Some(i);
                self.events.push_back((holder, Ev::Lock(Input::Lost)));
                self.events.push_back((i, Ev::Lock(Input::Granted)));
            }
        }
    }

    fn release(&mut self, i: usize) {
        if self.locks.holder == Some(i) {
            self.locks.holder = None;
            while let Some(next) = self.locks.queue.pop_front() {
                if self.tabs[next].alive {
                    self.locks.holder = Some(next);
                    self.events.push_back((next, Ev::Lock(Input::Granted)));
                    break;
                }
            }
        }
    }

    fn server_receives(&mut self, i: usize, socket: SocketId, text: &str) {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let from = match v["type"].as_str() {
            Some("auth") => serde_json::from_value::<ResumeFrom>(v["resume"].clone()).ok(),
            Some("resync") => serde_json::from_value::<ResumeFrom>(v["data"].clone())
                .ok()
                .map(|f| ResumeFrom { parts: true, ..f }),
            _ => {
                self.tabs[i].forwarded.push(text.to_owned());
                return;
            }
        };
        let (texts, _) = self.server.answer(from.as_ref(), self.now);
        for text in texts {
            self.events
                .push_back((i, Ev::Text(socket, text.to_string())));
        }
    }

    /// Every running tab shows the server's state, and applied each change once.
    fn assert_agree(&self) {
        let truth = self.truth();
        assert!(!truth.is_empty());
        for (i, b) in self.tabs.iter().enumerate() {
            if !b.alive || b.paused {
                continue;
            }
            assert_eq!(b.view.shown, truth, "tab {i} shows the server's state");
            let mut seqs = b.view.seqs.clone();
            seqs.dedup();
            assert_eq!(seqs, b.view.seqs, "tab {i} applied no change twice");
            assert!(
                b.view.seqs.windows(2).all(|w| w[0] < w[1]),
                "tab {i} applied changes in order: {:?}",
                b.view.seqs
            );
        }
    }
}

#[test]
fn three_tabs_make_one_socket_and_show_the_same_state() {
    let mut w = World::new();
    w.publish(3);
    for _ in 0..3 {
        w.open_tab();
    }
    w.publish(20);
    assert_eq!(
        w.open_sockets(),
        1,
        "one socket for the module: {:?}",
        w.sockets
    );
    assert_eq!(w.accepted, 1);
    assert_eq!(w.leader(), Some(0));
    for b in &w.tabs {
        assert_eq!(b.conn.snapshot().status, Status::Connected);
    }
    assert_eq!(w.tabs[1].tab.role(), Role::Following);
    w.assert_agree();
    // The followers joined with a snapshot and then took every change live.
    assert_eq!(w.tabs[1].conn.stats().snapshots, 1);
    assert_eq!(w.tabs[2].view.seqs.len(), 20);
    assert_eq!(w.tabs[2].conn.stats().duplicates, 0);
}

#[test]
fn a_closed_leader_is_replaced_at_once_and_nothing_is_missed_or_doubled() {
    let mut w = World::with_tabs(3);
    w.publish(10);
    w.close_tab(0);
    // The next tab in the lock's queue leads, with no timer involved.
    assert_eq!(w.leader(), Some(1));
    assert_eq!(w.open_sockets(), 1);
    w.publish(10);
    w.advance(5);
    w.publish(10);
    assert_eq!(w.open_sockets(), 1);
    for b in &w.tabs[1..] {
        assert_eq!(b.conn.snapshot().status, Status::Connected);
    }
    w.assert_agree();
    // The new leader resumed from its position: the server replayed, no snapshot.
    assert_eq!(w.tabs[1].conn.stats().snapshots, 1, "only the join's");
    assert_eq!(w.tabs[2].view.seqs, (1..=30).collect::<Vec<_>>());
}

#[test]
fn changes_made_while_no_tab_leads_are_replayed_to_every_tab() {
    let mut w = World::with_tabs(3);
    w.publish(5);
    // The leader dies with changes in flight: the server sent them to a socket no one reads.
    w.tabs[0].paused = true;
    w.publish(5);
    w.tabs[0].paused = false;
    w.close_tab(0);
    w.publish(5);
    w.advance(3);
    w.assert_agree();
    assert_eq!(w.tabs[2].view.seqs, (1..=15).collect::<Vec<_>>());
}

#[test]
fn a_frozen_leader_hands_over_first_and_follows_when_it_runs_again() {
    let mut w = World::with_tabs(3);
    w.publish(5);
    w.tabs[0].tab.handle(w.now, Input::Freeze);
    w.settle();
    w.tabs[0].paused = true;
    w.settle();
    assert_eq!(w.tabs[0].tab.role(), Role::Frozen);
    let leader = w.leader().expect("another tab leads");
    assert_ne!(leader, 0);
    assert_eq!(
        w.open_sockets(),
        1,
        "the frozen tab closed its socket first"
    );
    w.publish(5);
    w.advance(30);
    w.tabs[0].paused = false;
    w.tabs[0].tab.handle(w.now, Input::Resume);
    w.settle();
    w.publish(5);
    assert_eq!(w.tabs[0].tab.role(), Role::Following);
    assert_eq!(w.open_sockets(), 1);
    w.assert_agree();
}

#[test]
fn a_hung_leader_is_stolen_from_and_closes_its_socket_when_it_runs_again() {
    let mut w = World::with_tabs(3);
    w.publish(5);
    // Hung, with no freeze event: it keeps the lock and its socket, and says nothing.
    w.tabs[0].paused = true;
    w.advance(20);
    w.publish(3);
    // A follower found its virtual socket silent past three heartbeats, and took the lock.
    let leader = w.leader().expect("a follower took over");
    assert_eq!(w.tabs[leader].conn.snapshot().status, Status::Connected);
    // The documented moment: the hung tab cannot close its own socket.
    assert_eq!(w.open_sockets(), 2);
    w.tabs[0].paused = false;
    w.settle();
    assert_eq!(w.tabs[0].tab.role(), Role::Following);
    assert_eq!(
        w.open_sockets(),
        1,
        "the old leader closed its socket on losing the lock"
    );
    w.publish(3);
    w.advance(2);
    w.assert_agree();
}

#[test]
fn a_backend_outage_is_one_reconnect_sequence_for_the_whole_browser() {
    let mut w = World::with_tabs(4);
    w.publish(5);
    let before = w.accepted;
    w.server_up = false;
    for s in w.sockets.iter_mut().filter(|s| s.open) {
        s.open = false;
        w.events
            .push_back((s.tab, Ev::Closed(s.socket, 1006, String::new())));
    }
    w.settle();
    // Every tab says so.
    for b in &w.tabs {
        assert_ne!(b.conn.snapshot().status, Status::Connected);
    }
    w.advance(20);
    let attempts = w.accepted - before;
    w.server_up = true;
    w.advance(40);
    w.publish(5);
    // Only the leader knocked: a lone tab's backoff makes 3 attempts in 20 s (3, 6, 12 s),
    // plus or minus jitter; four tabs alone would make about 12.
    assert!((2..=4).contains(&attempts), "{attempts} attempts");
    assert_eq!(w.open_sockets(), 1);
    for b in &w.tabs {
        assert_eq!(b.conn.snapshot().status, Status::Connected);
    }
    w.assert_agree();
}

#[test]
fn a_rejected_token_fails_every_tab_alike() {
    let mut w = World::with_tabs(2);
    let socket = w.sockets[0].socket;
    w.sockets[0].open = false;
    w.events
        .push_back((0, Ev::Closed(socket, 4001, "token expired".into())));
    w.settle();
    for b in &w.tabs {
        let snapshot = b.conn.snapshot();
        assert_eq!(snapshot.status, Status::Error, "{snapshot:?}");
        assert_eq!(snapshot.last_close.as_ref().map(|c| c.code), Some(4001));
    }
    w.advance(60);
    assert_eq!(w.accepted, 1, "nobody retries a rejected token");
}

#[test]
fn a_follower_sends_and_acts_through_the_leader_and_hears_its_own_answer() {
    let mut w = World::with_tabs(3);
    w.publish(1);
    assert!(
        w.tabs[1]
            .conn
            .send(w.now, "tick", &serde_json::json!({"ping": 1}))
            .is_ok()
    );
    w.settle();
    assert_eq!(w.tabs[0].forwarded.len(), 1, "the leader sent it on");
    assert!(w.tabs[0].forwarded[0].contains("ping"));
    // The server grants actions and answers one: only the tab that asked hears it.
    let grants = r#"{"type":"grants","data":{"operator":"Ada","actions":["poke"]},"timestamp":"2025-10-16T12:00:00Z"}"#;
    let socket = w.sockets[0].socket;
    w.events.push_back((0, Ev::Text(socket, grants.into())));
    w.settle();
    for b in &w.tabs {
        assert!(b.conn.grants().is_some_and(|g| g.allows("poke")));
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Poke {
        id: String,
    }
    impl crate::action::ActionPayload for Poke {
        fn entity(&self) -> String {
            self.id.clone()
        }
    }
    const POKE: crate::action::TypedAction<Poke> = crate::action::TypedAction::new("poke");
    let id = w.tabs[2]
        .conn
        .act(w.now, POKE, Poke { id: "e1".into() })
        .expect("a follower may act");
    w.settle();
    assert_eq!(w.tabs[0].forwarded.len(), 2);
    let answer = format!(
        r#"{{"type":"action_result","data":{{"request_id":"{id}","action":"poke","outcome":"done"}},"timestamp":"2025-10-16T12:00:00Z"}}"#
    );
    w.events.push_back((0, Ev::Text(socket, answer.clone())));
    w.settle();
    let settled = |b: &Browser| b.conn.actions().entry("e1").map(|e| e.phase.clone());
    assert!(matches!(
        settled(&w.tabs[2]),
        Some(crate::action::Phase::Done { .. })
    ));
    assert!(settled(&w.tabs[1]).is_none());
    // An answer again (the server repeats itself for a re-sent request): its route is used
    // up, so no tab hears it.
    let heard = |w: &World| [1, 2].map(|i| w.tabs[i].conn.stats().frames_in);
    let before = heard(&w);
    w.events.push_back((0, Ev::Text(socket, answer)));
    w.settle();
    assert_eq!(heard(&w), before);
}

#[test]
fn a_follower_that_vanished_costs_the_leader_nothing() {
    let mut w = World::with_tabs(2);
    w.publish(2);
    // It sent a frame with a request id, then vanished without a word.
    w.tabs[1]
        .conn
        .send(w.now, "tick", &serde_json::json!({"request_id": "r1"}))
        .unwrap();
    w.settle();
    w.tabs[1].alive = false;
    assert_eq!(w.tabs[0].tab.routes.len(), 1);
    w.advance(61);
    let answer = r#"{"type":"action_result","data":{"request_id":"r1","action":"poke","outcome":"done"},"timestamp":"2025-10-16T12:00:00Z"}"#;
    let socket = w.sockets[0].socket;
    w.events.push_back((0, Ev::Text(socket, answer.into())));
    w.publish(1);
    assert!(w.tabs[0].tab.routes.is_empty());
    assert!(w.tabs[0].tab.waiting.is_empty());
    assert_eq!(w.tabs[0].conn.snapshot().status, Status::Connected);
}

#[test]
fn repeated_grants_and_opens_change_nothing() {
    let mut w = World::with_tabs(2);
    w.publish(2);
    // A second grant to the leader: no reconnect.
    w.events.push_back((0, Ev::Lock(Input::Granted)));
    w.settle();
    assert_eq!(w.accepted, 1);
    // An open the follower sent twice (it re-sends one a new leader may have missed): the
    // second answer finds the link taken and is ignored.
    let socket = w.tabs[1].conn.current_socket().unwrap();
    let opened = format!(
        r#"{{"opened":{{"leader":100,"to":101,"socket":{}}}}}"#,
        socket.0
    );
    let sent = w.tabs[1].conn.stats().frames_out;
    w.events.push_back((1, Ev::Input(opened)));
    w.settle();
    assert_eq!(w.tabs[1].conn.snapshot().status, Status::Connected);
    assert_eq!(w.tabs[1].conn.stats().reconnects, 0);
    assert_eq!(w.tabs[1].conn.stats().frames_out, sent, "no second auth");
    // Messages that are not for this machine, or not messages, are ignored.
    for junk in [
        "",
        "{}",
        r#"{"live":{"leader":"x"}}"#,
        r#"{"texts":{"leader":9,"to":101,"socket":0,"frames":[1]}}"#,
    ] {
        w.events.push_back((1, Ev::Input(junk.into())));
    }
    w.publish(2);
    w.assert_agree();
}

/// A tab that leads with its socket up, its first outputs carried out.
fn leading(now: Instant) -> Tab {
    let mut leader = Tab::new(TabId(1), "test", keep, now);
    leader.handle(now, Input::Start);
    leader.handle(now, Input::Granted);
    leader.upstream(Upstream::Up);
    while leader.poll().is_some() {}
    leader
}

/// Tab `tab`'s first frame on its socket 0 to the leader: its auth, with no position.
fn auth_from(leader: &mut Tab, tab: u64, now: Instant) {
    let auth = r#"{"type":"auth","token":null,"resume":{"parts":true}}"#;
    let message = format!(r#"{{"send":{{"tab":{tab},"socket":0,"frame":{auth}}}}}"#);
    leader.handle(now, Input::Message(&message));
}

#[test]
fn a_joiner_gets_a_replay_from_its_position_a_snapshot_without_one_and_live_when_ahead() {
    let now = Instant::from_millis(T0);
    let mut leader = leading(now);
    let sync = Command::Relay(Relayed::Sync {
        mode: SyncMode::Snapshot,
        epoch: "e".into(),
        seq: 10,
        heartbeat_ms: Some(5000),
    });
    leader.observe(now, &sync);
    leader.observe(now, &Command::SnapshotEnd);
    for seq in 11..=14 {
        let data = serde_json::json!({"id": seq, "v": seq});
        let frame = Frame::new(CHANNEL, &data, Some(now), Provenance::Live)
            .unwrap()
            .at(Some(seq));
        leader.observe(now, &Command::Deliver(frame));
    }
    leader.flush();
    while leader.poll().is_some() {}
    let answer = |leader: &mut Tab, resume: &str| -> serde_json::Value {
        let auth = format!(r#"{{"type":"auth","token":null,"resume":{resume},"actions":false}}"#);
        let message = format!(r#"{{"send":{{"tab":2,"socket":0,"frame":{auth}}}}}"#);
        leader.handle(now, Input::Message(&message));
        let Some(Output::Post(text)) = leader.poll() else {
            panic!("an answer");
        };
        serde_json::from_str(&text).unwrap()
    };
    let replay = answer(&mut leader, r#"{"epoch":"e","seq":12,"parts":true}"#);
    let frames = &replay["texts"]["frames"];
    assert_eq!(frames[0]["data"]["mode"], "replay");
    let seqs: Vec<u64> = frames.as_array().unwrap()[1..]
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [13, 14], "only what it missed");
    let cold = answer(&mut leader, r#"{"parts":true}"#);
    let sync = &cold["texts"]["frames"][0]["data"];
    assert_eq!(sync["mode"], "snapshot");
    assert_eq!(sync["seq"], 14);
    assert_eq!(sync["state"].as_array().unwrap().len(), 4);
    assert_eq!(
        sync["heartbeat_ms"], 5000,
        "the server's heartbeat, announced on"
    );
    let other = answer(&mut leader, r#"{"epoch":"old","seq":99,"parts":true}"#);
    assert_eq!(other["texts"]["frames"][0]["data"]["mode"], "snapshot");
    let ahead = answer(&mut leader, r#"{"epoch":"e","seq":20,"parts":true}"#);
    let sync = &ahead["texts"]["frames"][0]["data"];
    assert_eq!(sync["mode"], "live");
    assert_eq!(sync["seq"], 14);
}

#[test]
fn an_answer_goes_out_after_the_live_frames_it_covers() {
    let now = Instant::from_millis(T0);
    let mut leader = leading(now);
    // Another follower is there already.
    leader.handle(now, Input::Message(r#"{"open":{"tab":3,"socket":0}}"#));
    while leader.poll().is_some() {}
    let data = serde_json::json!({"id": 1, "v": 1});
    let frame = Frame::new(CHANNEL, &data, Some(now), Provenance::Live).unwrap();
    leader.observe(now, &Command::Deliver(frame));
    // A follower joins before the leader flushed: the frame is in the answer's snapshot, so
    // it must reach the other followers first, never after the answer.
    auth_from(&mut leader, 2, now);
    let posts: Vec<String> = std::iter::from_fn(|| leader.poll())
        .map(|o| match o {
            Output::Post(p) => p,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts[0].starts_with(r#"{"live""#), "{}", posts[0]);
    assert!(posts[1].starts_with(r#"{"texts""#), "{}", posts[1]);
}

#[test]
fn a_leader_alone_posts_no_frames_until_a_follower_joins() {
    let now = Instant::from_millis(T0);
    let mut leader = leading(now);
    let deliver = |leader: &mut Tab, id: u64| {
        let data = serde_json::json!({"id": id, "v": 1});
        let frame = Frame::new(CHANNEL, &data, Some(now), Provenance::Live).unwrap();
        leader.observe(now, &Command::Deliver(frame));
    };
    for id in 1..=3 {
        deliver(&mut leader, id);
    }
    assert!(!leader.has_pending(), "nothing gathered for nobody");
    leader.flush();
    assert!(leader.poll().is_none(), "and nothing posted");
    // A follower joins: its answer carries the three (from the feed), and what follows is
    // posted.
    leader.handle(now, Input::Message(r#"{"open":{"tab":2,"socket":0}}"#));
    auth_from(&mut leader, 2, now);
    let posts: Vec<String> = std::iter::from_fn(|| leader.poll())
        .filter_map(|o| match o {
            Output::Post(p) => Some(p),
            _ => None,
        })
        .collect();
    let answer = posts.iter().find(|p| p.starts_with(r#"{"texts""#)).unwrap();
    for id in 1..=3 {
        assert!(answer.contains(&format!(r#""id":{id}"#)), "{answer}");
    }
    deliver(&mut leader, 4);
    assert!(leader.has_pending());
    leader.flush();
    let post = match leader.poll() {
        Some(Output::Post(p)) => p,
        other => panic!("{other:?}"),
    };
    assert!(
        post.starts_with(r#"{"live""#) && post.contains(r#""id":4"#),
        "{post}"
    );
}

#[test]
fn tabs_with_different_tokens_or_urls_are_different_groups() {
    let a = group("sessions", "wss://x/ws/sessions", Some("token-a"));
    assert_eq!(a, group("sessions", "wss://x/ws/sessions", Some("token-a")));
    assert_ne!(a, group("sessions", "wss://x/ws/sessions", Some("token-b")));
    assert_ne!(a, group("sessions", "wss://x/ws/sessions", None));
    assert_ne!(a, group("sessions", "wss://y/ws/sessions", Some("token-a")));
    assert_ne!(a, group("network", "wss://x/ws/sessions", Some("token-a")));
    assert!(!a.contains("token-a"));
}

#[test]
fn a_follower_never_posts_its_token() {
    let now = Instant::from_millis(T0);
    let mut tab = Tab::new(TabId(2), "test", keep, now);
    tab.handle(now, Input::Start);
    tab.handle(now, Input::Unavailable);
    tab.open(SocketId(0));
    tab.send(
        SocketId(0),
        r#"{"type":"auth","token":"secret","resume":{"parts":true},"actions":true}"#,
    );
    let posts: Vec<String> = std::iter::from_fn(|| tab.poll())
        .filter_map(|o| match o {
            Output::Post(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(!posts[1].contains("secret"), "{}", posts[1]);
    assert!(posts[1].contains(r#""actions":true"#));
}
