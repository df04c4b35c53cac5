//! One connection per module per browser, however many tabs: the election and the relay as
//! a pure state machine (docs/SHARING.md).
//!
//! Every tab runs its own [`Connection`](crate::Connection) for each module. One tab per
//! module holds a lock (the browser's Web Locks) and with it the module's only socket: the
//! **leader**. The others **follow**: their connections open *virtual* sockets, which this
//! machine carries over a message bus (a `BroadcastChannel`) to the leader, and the leader
//! answers them as a server would, from a [`Feed`] of what it applied. So a follower runs
//! exactly the machine a lone tab runs, with the same resume rules: it joins with a snapshot
//! or a replay and its position, and the live frames that follow, with no gap and no
//! duplicate.
//!
//! The machine takes [`Input`]s (lock answers, bus messages, page lifecycle), the virtual
//! sockets' operations ([`Tab::open`], [`Tab::send`], [`Tab::close`]) and the tab's own
//! connection's commands ([`Tab::observe`], [`Tab::upstream`]), and yields [`Output`]s for
//! the browser adapter to carry out. Every tab, follower or leader, keeps the feed, so any of
//! them can take over and serve the others what they missed.
//!
//! Dead leaders: a closed, reloaded or crashed leader tab loses its lock at once and the
//! next tab in the lock's queue is granted it; no timer is involved, so background throttling
//! cannot delay it. A leader that is frozen hands over on the page's `freeze` event
//! ([`Input::Freeze`]); one that hangs without it goes silent, and the follower's own
//! connection closes its virtual socket as stale (after the heartbeats the leader relays stop)
//! or unanswered (connect timeout): the follower then **steals** the lock, and the old leader
//! closes its socket as soon as it runs again ([`Input::Lost`]).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::action::{ACTION_RESULT, GRANTS};
use crate::channel::AUTH;
use crate::connection::{CLOSE_UNANSWERED, CONNECT_TIMEOUT, Command, Relayed, SocketId};
use crate::feed::{Feed, FeedSettings, ResumeFrom, heartbeat};
use crate::frame::{decode_envelope, encode_frame};
use crate::resume::{RESYNC, SyncMode};
use crate::simulator::Keep;
use crate::time::Instant;
use crate::{Frame, Provenance};

#[cfg(test)]
mod tests;

/// Identifies one tab's machine for one module: random, chosen when the tab starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TabId(pub u64);

/// How a tab asks for its module's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockRequest {
    /// Only if no tab holds it: answered at once with [`Input::Granted`] or
    /// [`Input::Unavailable`].
    IfAvailable,
    /// In the queue: [`Input::Granted`] when every tab before this one has let go.
    Wait,
    /// Now, taking it from the tab that holds it (which then gets [`Input::Lost`]).
    Steal,
}

/// Something that happened to the tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// The module's connection may start: find out whether this tab leads.
    Start,
    /// The lock is this tab's.
    Granted,
    /// Another tab holds the lock (the answer to [`LockRequest::IfAvailable`]).
    Unavailable,
    /// The lock this tab held was taken from it ([`LockRequest::Steal`] by another tab).
    Lost,
    /// The page is about to be frozen: a leader hands over first.
    Freeze,
    /// The page runs again after a freeze.
    Resume,
    /// A message from another tab of this module's group.
    Message(&'a str),
}

/// Something the browser adapter must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Ask for the module's lock.
    Lock(LockRequest),
    /// Let go of the lock, and withdraw any request for it.
    Release,
    /// Post this message to the other tabs of the group.
    Post(String),
    /// Start the connection (`Event::Start`): the tab knows its role now.
    Start,
    /// The tab's role changed: if the connection has a socket, close it and open a new one
    /// now (`Event::Reconnect`), which goes to the server or to the leader as the role says;
    /// if it waits for its next attempt, try now.
    Reconnect,
    /// A leader is up: a connection waiting for its next attempt should try now
    /// (`Event::Online`).
    Nudge,
    /// An event on a virtual socket, for the connection.
    Socket(SocketId, VirtualEvent),
    /// Send this frame of a follower on this tab's socket (`Connection::forward`).
    Forward(String),
}

/// What happens to a virtual socket, in the connection's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VirtualEvent {
    /// The leader accepted it.
    Opened,
    /// It closed, with the leader's socket's close code and reason when that is why.
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A frame, as the server would have sent it.
    Text(String),
}

/// The tab's part for its module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Waiting for the answer to its first lock request; the connection has not started.
    Deciding,
    /// Holds the lock and the module's socket, and relays it to the other tabs.
    Leading,
    /// Follows the leader through virtual sockets, and waits in the lock's queue.
    Following,
    /// Frozen by the browser after handing over; asks again when it resumes.
    Frozen,
}

impl Role {
    /// In words, for the status details.
    pub const fn describe(self) -> &'static str {
        match self {
            Role::Deciding => "finding the tab that holds the connection",
            Role::Leading => "this tab holds the connection for every tab",
            Role::Following => "shared from another tab",
            Role::Frozen => "paused by the browser",
        }
    }
}

/// The state of the leader's own socket, as it tells its followers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upstream {
    /// Connected: followers may join.
    Up,
    /// Opening: a follower's open waits for the outcome.
    Opening,
    /// Down, with the close that took it down: followers close with the same code and
    /// reason, so a rejected token fails every tab alike.
    Down {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl Upstream {
    /// The state of `conn`'s socket, as a leader tells its followers.
    pub fn of(conn: &crate::Connection) -> Self {
        let snapshot = conn.snapshot();
        if snapshot.status == crate::Status::Connected {
            Upstream::Up
        } else if conn.current_socket().is_some() {
            Upstream::Opening
        } else {
            let close = snapshot.last_close.as_ref();
            Upstream::Down {
                code: close.map_or(crate::connection::CLOSE_ABNORMAL, |c| c.code),
                reason: close.map(|c| c.reason.clone()).unwrap_or_default(),
            }
        }
    }
}

/// Close code of a virtual socket whose leader handed over or changed (going away).
pub const CLOSE_HANDOVER: u16 = 1001;
/// The answers to forwarded actions a leader routes back are kept this long.
const ROUTE_AGE: Duration = Duration::from_secs(60);
/// At most this many routes are kept; the oldest goes first.
const MAX_ROUTES: usize = 1024;

/// A follower's virtual socket.
#[derive(Debug)]
struct Link {
    socket: SocketId,
    /// The leader that accepted it.
    leader: Option<TabId>,
    /// The leader answered its auth frame: live frames apply from now on.
    joined: bool,
}

/// One tab's machine for one module. See the module docs.
#[derive(Debug)]
pub struct Tab {
    id: TabId,
    role: Role,
    started: bool,
    /// What this tab applied, kept as a server keeps its feed: any tab can take over.
    feed: Feed,
    /// A snapshot is being delivered; its position applies at its end.
    snapshot_at: Option<u64>,
    /// The latest grants, for followers that join.
    grants: Option<Box<RawValue>>,
    link: Option<Link>,
    upstream: Upstream,
    /// Opens that wait for the leader's socket.
    waiting: Vec<(TabId, SocketId)>,
    /// Which follower sent which action: (when, request id, tab, socket).
    routes: VecDeque<(Instant, String, TabId, SocketId)>,
    /// Frames for every follower, posted at the next [`Tab::flush`].
    live: Vec<Arc<str>>,
    /// A follower has joined since this tab began to lead. Until one does, the leader
    /// gathers and posts nothing: a joining follower's answer comes from the feed, which
    /// covers everything before it.
    followed: bool,
    out: VecDeque<Output>,
}

/// A message between the tabs of a group, as decoded.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Message<'a> {
    Open {
        tab: u64,
        socket: u64,
    },
    Send {
        tab: u64,
        socket: u64,
        #[serde(borrow)]
        frame: &'a RawValue,
    },
    Close {
        tab: u64,
        socket: u64,
    },
    Opened {
        leader: u64,
        to: u64,
        socket: u64,
    },
    Closed {
        leader: u64,
        to: u64,
        socket: u64,
        code: u16,
        #[serde(borrow)]
        reason: Cow<'a, str>,
    },
    Texts {
        leader: u64,
        to: u64,
        socket: u64,
        #[serde(borrow)]
        frames: Vec<&'a RawValue>,
    },
    Live {
        leader: u64,
        #[serde(borrow)]
        frames: Vec<&'a RawValue>,
    },
    Up {
        leader: u64,
    },
    Down {
        leader: u64,
        code: u16,
        #[serde(borrow)]
        reason: Cow<'a, str>,
    },
}

/// A follower's auth frame, as far as the leader reads it.
#[derive(Debug, Default, Deserialize)]
struct Offer {
    #[serde(default)]
    resume: Option<ResumeFrom>,
    #[serde(default)]
    actions: bool,
}

/// `[a,b,…]` of frames that are JSON already.
fn json_list<T: AsRef<str>>(frames: &[T]) -> String {
    let mut out =
        String::with_capacity(2 + frames.iter().map(|f| f.as_ref().len() + 1).sum::<usize>());
    out.push('[');
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(frame.as_ref());
    }
    out.push(']');
    out
}

fn json_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

impl Tab {
    /// A tab's machine for the module `name`, whose state frames `keep` folds (the module's
    /// [`Backend::keep`](crate::simulator::Backend::keep)).
    pub fn new(id: TabId, name: &str, keep: fn(&Frame) -> Keep, now: Instant) -> Self {
        let mut feed = Feed::new(name, keep, FeedSettings::default(), now);
        // Heartbeats are announced only once the server is seen to send them.
        feed.set_heartbeat(None);
        Self {
            id,
            role: Role::Deciding,
            started: false,
            feed,
            snapshot_at: None,
            grants: None,
            link: None,
            upstream: Upstream::Opening,
            waiting: Vec::new(),
            routes: VecDeque::new(),
            live: Vec::new(),
            followed: false,
            out: VecDeque::new(),
        }
    }

    /// Takes over from another machine of this tab whose connection runs already (the tab
    /// changed groups, with a new token): a role change moves its socket, never starts it.
    pub fn started_already(&mut self) {
        self.started = true;
    }

    /// This tab's id.
    pub fn id(&self) -> TabId {
        self.id
    }

    /// The tab's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the connection's sockets go to the leader rather than the server.
    pub fn is_virtual(&self) -> bool {
        self.role != Role::Leading
    }

    /// The feed this tab keeps (what a follower that joins gets).
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// The next thing to do, if any.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Takes one input.
    pub fn handle(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Start => {
                if self.role == Role::Deciding {
                    self.out.push_back(Output::Lock(LockRequest::IfAvailable));
                }
            }
            Input::Granted if self.role == Role::Frozen => self.out.push_back(Output::Release),
            Input::Granted => self.lead(),
            Input::Unavailable => {
                if self.role == Role::Deciding {
                    self.follow();
                }
            }
            Input::Lost => {
                if self.role == Role::Leading {
                    self.step_down("another tab took over the connection");
                    self.follow();
                }
            }
            Input::Freeze => {
                if self.role == Role::Leading {
                    self.step_down("the tab that held the connection was paused by the browser");
                    self.out.push_back(Output::Reconnect);
                }
                if self.role != Role::Deciding {
                    self.out.push_back(Output::Release);
                    self.role = Role::Frozen;
                }
            }
            Input::Resume => {
                if self.role == Role::Frozen {
                    self.role = Role::Deciding;
                    self.out.push_back(Output::Lock(LockRequest::IfAvailable));
                }
            }
            Input::Message(text) => {
                if let Ok(message) = serde_json::from_str::<Message<'_>>(text) {
                    self.on_message(now, message);
                }
            }
        }
    }

    /// Becomes the leader (a grant; a repeated one changes nothing).
    fn lead(&mut self) {
        if self.role == Role::Leading {
            return;
        }
        self.role = Role::Leading;
        self.upstream = Upstream::Opening;
        self.waiting.clear();
        self.routes.clear();
        self.live.clear();
        self.followed = false;
        self.start_or_reconnect();
    }

    /// Follows, waiting in the lock's queue.
    fn follow(&mut self) {
        self.role = Role::Following;
        self.out.push_back(Output::Lock(LockRequest::Wait));
        self.start_or_reconnect();
    }

    /// The connection starts once, when the first role is known; later changes of role move
    /// its socket.
    fn start_or_reconnect(&mut self) {
        if self.started {
            self.out.push_back(Output::Reconnect);
        } else {
            self.started = true;
            self.out.push_back(Output::Start);
        }
    }

    /// A leader stops relaying: every follower's virtual socket closes, and the connection
    /// moves to a virtual socket of its own.
    fn step_down(&mut self, why: &str) {
        self.flush();
        self.post(format!(
            r#"{{"down":{{"leader":{},"code":{CLOSE_HANDOVER},"reason":{}}}}}"#,
            self.id.0,
            json_str(why)
        ));
        self.role = Role::Following;
        self.upstream = Upstream::Opening;
        self.waiting.clear();
        self.routes.clear();
    }

    /// Whether frames are gathered for followers: this tab leads, and one has joined.
    fn relaying(&self) -> bool {
        self.role == Role::Leading && self.followed
    }

    fn post(&mut self, message: String) {
        self.out.push_back(Output::Post(message));
    }

    /// Whether frames wait for [`Tab::flush`].
    pub fn has_pending(&self) -> bool {
        !self.live.is_empty()
    }

    /// Posts the frames gathered for every follower, as one message. The adapter calls this
    /// once the socket events queued at that moment are applied, not after each: a message
    /// per frame costs every tab far more than the frame (measured: the leader 41 % busy
    /// instead of 17 % at 1,000 frames/s).
    pub fn flush(&mut self) {
        if self.live.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.live);
        if self.role == Role::Leading {
            self.post(format!(
                r#"{{"live":{{"leader":{},"frames":{}}}}}"#,
                self.id.0,
                json_list(&frames)
            ));
        }
    }

    /// Posts to one follower's socket, after the live frames gathered so far (the answer
    /// covers them, so they must not arrive after it).
    fn post_to(&mut self, to: TabId, socket: SocketId, body: impl FnOnce(u64, u64, u64) -> String) {
        self.flush();
        let message = body(self.id.0, to.0, socket.0);
        self.post(message);
    }

    // --- The connection's virtual sockets (a follower's) ---

    /// Takes a command of the tab's own connection that belongs to a virtual socket: an open
    /// while this tab does not lead, and a send or close on the virtual socket. `false`: the
    /// command is the real socket's (a close of the socket this tab held until it stepped
    /// down is the real socket's too, and must reach it).
    pub fn take(&mut self, command: &Command) -> bool {
        let ours = |socket: &SocketId| self.link.as_ref().is_some_and(|l| l.socket == *socket);
        match command {
            Command::Open(socket) if self.is_virtual() => self.open(*socket),
            Command::Send(socket, text) if ours(socket) => self.send(*socket, text),
            Command::Close {
                socket,
                code,
                reason,
            } if ours(socket) => self.close(*socket, *code, reason),
            _ => return false,
        }
        true
    }

    /// The connection opens a socket while this tab does not lead.
    pub fn open(&mut self, socket: SocketId) {
        self.link = Some(Link {
            socket,
            leader: None,
            joined: false,
        });
        self.post(format!(
            r#"{{"open":{{"tab":{},"socket":{}}}}}"#,
            self.id.0, socket.0
        ));
    }

    /// The connection sends `text` on a virtual socket. The auth frame goes without its
    /// token: only the leader's token is ever sent to the server, and the group is made of
    /// tabs with the same one.
    pub fn send(&mut self, socket: SocketId, text: &str) {
        if self.link.as_ref().is_none_or(|l| l.socket != socket) {
            return;
        }
        let stripped;
        let text = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(mut auth))
                if auth.get("type").and_then(|t| t.as_str()) == Some(AUTH) =>
            {
                auth.remove("token");
                stripped = serde_json::Value::Object(auth).to_string();
                stripped.as_str()
            }
            _ => text,
        };
        self.post(format!(
            r#"{{"send":{{"tab":{},"socket":{},"frame":{text}}}}}"#,
            self.id.0, socket.0
        ));
    }

    /// The connection closes a virtual socket. A close because the leader did not answer in
    /// time ([`CONNECT_TIMEOUT`]) or went silent (stale: [`CLOSE_UNANSWERED`]) means it is
    /// frozen or hung: this tab takes the lock from it.
    pub fn close(&mut self, socket: SocketId, code: u16, reason: &str) {
        if self.link.as_ref().is_none_or(|l| l.socket != socket) {
            return;
        }
        self.link = None;
        self.post(format!(
            r#"{{"close":{{"tab":{},"socket":{}}}}}"#,
            self.id.0, socket.0
        ));
        let unanswered = code == CLOSE_UNANSWERED || reason == CONNECT_TIMEOUT;
        if unanswered && self.role == Role::Following {
            self.out.push_back(Output::Lock(LockRequest::Steal));
        }
    }

    // --- What the tab's own connection applied ---

    /// A command of this tab's own connection, before it runs: the feed follows what the
    /// connection applied, and a leader passes it on to its followers.
    pub fn observe(&mut self, now: Instant, command: &Command) {
        match command {
            Command::Relay(Relayed::Sync {
                mode,
                epoch,
                seq,
                heartbeat_ms,
            }) => {
                self.feed
                    .set_heartbeat(heartbeat_ms.map(Duration::from_millis));
                if *mode == SyncMode::Snapshot {
                    self.feed.restart(epoch.clone());
                    self.snapshot_at = Some(*seq);
                } else {
                    self.feed.continue_at(epoch, *seq);
                }
            }
            Command::Deliver(frame) if frame.provenance() == Provenance::Live => {
                if frame.is_state() {
                    self.feed.keep_state(frame.clone(), now);
                    return;
                }
                let relaying = self.relaying();
                match frame.position() {
                    Some(seq) => {
                        if let Some(text) = self.feed.append_at(seq, frame.clone(), now)
                            && relaying
                        {
                            self.live.push(text);
                        }
                    }
                    None => {
                        let texts = self.feed.publish(vec![frame.clone()], now);
                        if relaying {
                            self.live.extend(texts.into_iter().map(|(_, t)| t));
                        }
                    }
                }
            }
            Command::SnapshotEnd => {
                if let Some(seq) = self.snapshot_at.take() {
                    self.feed.start_at(seq);
                    if self.relaying() {
                        // Followers replace their state too: the snapshot as a server sends
                        // one on an open socket.
                        let from = ResumeFrom {
                            parts: true,
                            ..ResumeFrom::default()
                        };
                        let (texts, _) = self.feed.answer(Some(&from), now);
                        self.live.extend(texts);
                    }
                }
            }
            Command::Relay(Relayed::Heartbeat) if self.relaying() => {
                if let Some(beat) = heartbeat(self.feed.head(), now) {
                    self.live.push(beat.into());
                }
            }
            Command::Relay(Relayed::Grants(grants)) => {
                self.grants = Some(grants.clone());
                if self.relaying()
                    && let Ok(text) = encode_frame(GRANTS, grants, now)
                {
                    self.live.push(text.into());
                }
            }
            Command::Relay(Relayed::Answer(answer)) if self.role == Role::Leading => {
                self.route_answer(now, answer);
            }
            _ => {}
        }
    }

    /// The leader's own socket, after every status change of its connection.
    pub fn upstream(&mut self, state: Upstream) {
        if self.role != Role::Leading || self.upstream == state {
            return;
        }
        self.upstream = state.clone();
        let waiting = std::mem::take(&mut self.waiting);
        match state {
            Upstream::Up => {
                self.post(format!(r#"{{"up":{{"leader":{}}}}}"#, self.id.0));
                for (tab, socket) in waiting {
                    self.accept(tab, socket);
                }
            }
            Upstream::Opening => self.waiting = waiting,
            Upstream::Down { code, reason } => {
                self.flush();
                self.post(format!(
                    r#"{{"down":{{"leader":{},"code":{code},"reason":{}}}}}"#,
                    self.id.0,
                    json_str(&reason)
                ));
                for (tab, socket) in waiting {
                    self.refuse(tab, socket, code, &reason);
                }
            }
        }
    }

    fn accept(&mut self, to: TabId, socket: SocketId) {
        self.post_to(to, socket, |leader, to, socket| {
            format!(r#"{{"opened":{{"leader":{leader},"to":{to},"socket":{socket}}}}}"#)
        });
        self.followed = true;
    }

    fn refuse(&mut self, to: TabId, socket: SocketId, code: u16, reason: &str) {
        let reason = json_str(reason);
        self.post_to(to, socket, |leader, to, socket| {
            format!(
                r#"{{"closed":{{"leader":{leader},"to":{to},"socket":{socket},"code":{code},"reason":{reason}}}}}"#
            )
        });
    }

    fn answer_with(&mut self, to: TabId, socket: SocketId, frames: &[impl AsRef<str>]) {
        let frames = json_list(frames);
        self.post_to(to, socket, |leader, to, socket| {
            format!(
                r#"{{"texts":{{"leader":{leader},"to":{to},"socket":{socket},"frames":{frames}}}}}"#
            )
        });
    }

    // --- Messages ---

    fn on_message(&mut self, now: Instant, message: Message<'_>) {
        match message {
            Message::Open { tab, socket } if self.role == Role::Leading => {
                let (tab, socket) = (TabId(tab), SocketId(socket));
                match self.upstream.clone() {
                    Upstream::Up => self.accept(tab, socket),
                    Upstream::Opening => {
                        self.waiting.retain(|(t, _)| *t != tab);
                        self.waiting.push((tab, socket));
                    }
                    Upstream::Down { code, reason } => self.refuse(tab, socket, code, &reason),
                }
            }
            Message::Send { tab, socket, frame } if self.role == Role::Leading => {
                self.on_follower_frame(now, TabId(tab), SocketId(socket), frame.get());
            }
            Message::Close { tab, socket } if self.role == Role::Leading => {
                let gone = (TabId(tab), SocketId(socket));
                self.waiting.retain(|waiting| *waiting != gone);
            }
            Message::Opened { leader, to, socket } if to == self.id.0 => {
                if let Some(link) = self.link.as_mut()
                    && link.socket.0 == socket
                    && link.leader.is_none()
                {
                    link.leader = Some(TabId(leader));
                    self.out
                        .push_back(Output::Socket(SocketId(socket), VirtualEvent::Opened));
                }
            }
            Message::Closed {
                leader,
                to,
                socket,
                code,
                reason,
            } if to == self.id.0 => {
                let ours = self.link.as_ref().is_some_and(|l| {
                    l.socket.0 == socket && l.leader.is_none_or(|l| l.0 == leader)
                });
                if ours {
                    self.drop_link(code, reason.into_owned());
                }
            }
            Message::Texts {
                leader,
                to,
                socket,
                frames,
            } if to == self.id.0 => {
                let Some(link) = self.link.as_mut() else {
                    return;
                };
                if link.socket.0 != socket || link.leader != Some(TabId(leader)) {
                    return;
                }
                link.joined = true;
                let socket = link.socket;
                self.texts(socket, &frames);
            }
            Message::Live { leader, frames } => {
                let Some(link) = self.link.as_ref() else {
                    return;
                };
                if link.joined && link.leader == Some(TabId(leader)) {
                    let socket = link.socket;
                    self.texts(socket, &frames);
                }
            }
            Message::Up { leader } if self.role == Role::Following => {
                match self.link.as_ref().map(|l| l.leader) {
                    // Not connected to any leader: try now.
                    None => self.out.push_back(Output::Nudge),
                    // The open went out before this leader was listening: again.
                    Some(None) => {
                        if let Some(socket) = self.link.as_ref().map(|l| l.socket) {
                            self.open(socket);
                        }
                    }
                    Some(Some(current)) if current.0 != leader => {
                        self.drop_link(
                            CLOSE_HANDOVER,
                            "another tab took over the connection".to_owned(),
                        );
                        self.out.push_back(Output::Nudge);
                    }
                    Some(Some(_)) => {}
                }
            }
            Message::Down {
                leader,
                code,
                reason,
            } if self
                .link
                .as_ref()
                .is_some_and(|l| l.leader == Some(TabId(leader))) =>
            {
                self.drop_link(code, reason.into_owned());
            }
            _ => {}
        }
    }

    fn texts(&mut self, socket: SocketId, frames: &[&RawValue]) {
        for frame in frames {
            self.out.push_back(Output::Socket(
                socket,
                VirtualEvent::Text(frame.get().to_owned()),
            ));
        }
    }

    fn drop_link(&mut self, code: u16, reason: String) {
        if let Some(link) = self.link.take() {
            self.out.push_back(Output::Socket(
                link.socket,
                VirtualEvent::Closed { code, reason },
            ));
        }
    }

    /// A frame a follower sent on its virtual socket: its auth frame and `resync` are
    /// answered here, from the feed; anything else goes to the server.
    fn on_follower_frame(&mut self, now: Instant, tab: TabId, socket: SocketId, text: &str) {
        if let Upstream::Down { code, reason } = self.upstream.clone() {
            self.refuse(tab, socket, code, &reason);
            return;
        }
        let Ok(envelope) = decode_envelope(text, usize::MAX) else {
            return;
        };
        if envelope.kind == AUTH {
            let offer: Offer = serde_json::from_str(text).unwrap_or_default();
            self.join(now, tab, socket, offer.resume, offer.actions);
        } else if envelope.kind == RESYNC {
            let from = serde_json::from_str::<ResumeFrom>(envelope.data.get())
                .ok()
                .map(|from| ResumeFrom {
                    parts: true,
                    ..from
                });
            self.join(now, tab, socket, from, false);
        } else {
            if let Some(id) = request_id(envelope.data.get()) {
                self.prune_routes(now);
                if self.routes.len() >= MAX_ROUTES {
                    self.routes.pop_front();
                }
                self.routes.push_back((now, id, tab, socket));
            }
            self.out.push_back(Output::Forward(text.to_owned()));
        }
    }

    /// Answers a follower at `from` as a server would: a replay or a snapshot from the feed,
    /// then the grants if it asked for actions. A follower ahead of this feed (it applied
    /// frames the new leader has yet to catch up on) keeps its position: the frames up to it
    /// reach it as duplicates, which its connection drops.
    fn join(
        &mut self,
        now: Instant,
        tab: TabId,
        socket: SocketId,
        from: Option<ResumeFrom>,
        actions: bool,
    ) {
        let mut from = from;
        if let Some(f) = from.as_mut()
            && f.epoch.as_deref() == Some(self.feed.epoch())
            && f.seq.is_some_and(|seq| seq > self.feed.head())
        {
            f.seq = Some(self.feed.head());
        }
        let (mut frames, _) = self.feed.answer(from.as_ref(), now);
        if actions
            && let Some(grants) = &self.grants
            && let Ok(text) = encode_frame(GRANTS, grants, now)
        {
            frames.push(text.into());
        }
        self.answer_with(tab, socket, &frames);
    }

    /// An answer to a follower's action goes to that follower.
    fn route_answer(&mut self, now: Instant, answer: &RawValue) {
        self.prune_routes(now);
        let Some(id) = request_id(answer.get()) else {
            return;
        };
        let Some(i) = self.routes.iter().position(|(_, r, ..)| *r == id) else {
            return;
        };
        let Some((_, _, tab, socket)) = self.routes.remove(i) else {
            return;
        };
        if let Ok(text) = encode_frame(ACTION_RESULT, answer, now) {
            self.answer_with(tab, socket, &[text]);
        }
    }
}

impl Tab {
    /// Forgets the routes of answers that never came (or whose tab vanished).
    fn prune_routes(&mut self, now: Instant) {
        self.routes
            .retain(|(at, ..)| now.saturating_since(*at) < ROUTE_AGE);
    }
}

/// The group of tabs that share a module's connection: the module, its URL and the token.
/// Tabs with different tokens (two operators on one machine) never share: each group has
/// its own lock and bus. The token is hashed (FNV-1a), never written out.
pub fn group(module: &str, url: &str, token: Option<&str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in url
        .bytes()
        .chain([0])
        .chain(token.unwrap_or_default().bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("switchboard:{module}:{hash:016x}")
}

/// The `request_id` of an action's data or answer, if it has one.
fn request_id(data: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        request_id: String,
    }
    serde_json::from_str::<Id>(data)
        .ok()
        .map(|id| id.request_id)
}
