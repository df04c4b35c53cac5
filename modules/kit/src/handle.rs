//! [`WsHandle`]: one module's connection, shared through context. It owns the core
//! [`Connection`], the browser socket, the one timer, the simulator and the subscribers, and
//! runs the core's commands. It is cheap to clone and compares by pointer, so the context
//! never re-renders the subtree when frames arrive.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use switchboard_core::action::{ActError, ActionPayload, Entry, Grants, TypedAction};
use switchboard_core::resume::SyncMode;
use switchboard_core::simulator::Simulator;
use switchboard_core::subscriptions::{Pattern, SubscriptionId, Subscriptions};
use switchboard_core::{
    Config, Connection, Event, Frame, Instant, SendError, SendOutcome, Stats, Status,
    StatusSnapshot,
};
use yew::Callback;

use crate::token::TokenSource;
use crate::transport::{Inbox, Socket};

/// The current time, as the core counts it.
pub fn now() -> Instant {
    Instant::from_millis(js_sys::Date::now() as u64)
}

/// Everything a provider needs to build its connection.
pub struct HandleOptions {
    /// The resolved `ws://` or `wss://` URL.
    pub url: String,
    /// Connection settings, including the declared channels.
    pub config: Config,
    /// The auth token source.
    pub token: Rc<dyn TokenSource>,
    /// The module's simulator, if simulation is allowed in this deployment.
    pub simulator: Option<Box<dyn Simulator>>,
    /// Share the connection with the browser's other tabs (`share_across_tabs`), where the
    /// browser can.
    pub share: Option<ShareOptions>,
}

/// What sharing a module's connection across tabs needs (see `switchboard_core::share`).
#[derive(Clone, Copy, Debug)]
pub struct ShareOptions {
    /// The module's id: names the group, with the URL and the token.
    pub module: &'static str,
    /// How a frame changes the module's state, as its backend keeps it
    /// ([`Backend::keep`](switchboard_core::simulator::Backend::keep)): what a tab that
    /// joins gets.
    pub keep: fn(&Frame) -> switchboard_core::simulator::Keep,
}

impl fmt::Debug for HandleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleOptions")
            .field("url", &self.url)
            .field("simulator", &self.simulator.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    url: String,
    conn: RefCell<Connection>,
    token: Rc<dyn TokenSource>,
    last_token: RefCell<Option<String>>,
    socket: RefCell<Option<Socket>>,
    timer: RefCell<Option<Timeout>>,
    subs: RefCell<Subscriptions<Callback<Rc<Frame>>>>,
    status_subs: RefCell<Subscriptions<Callback<()>>>,
    resync_subs: RefCell<Subscriptions<Callback<Resync>>>,
    simulator: RefCell<Option<Box<dyn Simulator>>>,
    sim_timer: RefCell<Option<Interval>>,
    /// Socket events not yet fed to the core, oldest first, and the timer that continues
    /// feeding them after a slice (see `effects::WsHandle::drain`).
    inbox: RefCell<Inbox>,
    drain_timer: RefCell<Option<Timeout>>,
    sim_rng: RefCell<fastrand::Rng>,
    sim_frames: Cell<u64>,
    background: RefCell<Vec<EventListener>>,
    token_poll: RefCell<Option<Interval>>,
    /// Set once the provider is gone; every late callback then does nothing.
    shut: Cell<bool>,
    /// Whether the first live frame was marked, and the pending paint mark.
    first_live: Cell<bool>,
    first_paint: RefCell<Option<gloo_render::AnimationFrame>>,
    /// The module stores that live beside this connection (see [`crate::store`]).
    stores: RefCell<Vec<Rc<dyn std::any::Any>>>,
    share_options: Option<ShareOptions>,
    /// This tab's share of the module's connection, while it shares.
    share: RefCell<Option<Rc<crate::share::Share>>>,
}

/// A module's connection. Clone it freely; equality is identity.
#[derive(Clone)]
pub struct WsHandle(Rc<Inner>);

impl PartialEq for WsHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for WsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsHandle")
            .field("url", &self.0.url)
            .finish_non_exhaustive()
    }
}

/// A [`WsHandle`] that does not keep its connection alive.
#[derive(Clone, Debug)]
pub(crate) struct WeakHandle(Weak<Inner>);

impl WeakHandle {
    /// The handle, unless it is gone or shut down.
    pub(crate) fn upgrade(&self) -> Option<WsHandle> {
        WsHandle::from_weak(&self.0)
    }
}

/// What [`WsHandle::on_resync`] reports (resume extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    /// The server answered with `sync`. For a snapshot, the frames delivered next, up to
    /// [`Resync::SnapshotEnd`], are the state that replaces the live one.
    Began(SyncMode),
    /// A snapshot's state has been delivered whole: it may be shown now.
    SnapshotEnd,
}

/// Which list a [`SubscriptionGuard`] is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Registry {
    Frames,
    Status,
    Resync,
}

/// Unsubscribes when dropped.
#[must_use = "the subscription ends when this guard is dropped"]
pub struct SubscriptionGuard {
    handle: Weak<Inner>,
    id: SubscriptionId,
    registry: Registry,
}

impl fmt::Debug for SubscriptionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionGuard")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.handle.upgrade() {
            // No borrow of the registries is held while callbacks run, so these succeed; the
            // `try_` keeps a broken invariant from turning into a panic that aborts the page.
            let gone = match self.registry {
                Registry::Frames => inner
                    .subs
                    .try_borrow_mut()
                    .map(|mut s| s.unsubscribe(self.id)),
                Registry::Status => inner
                    .status_subs
                    .try_borrow_mut()
                    .map(|mut s| s.unsubscribe(self.id)),
                Registry::Resync => inner
                    .resync_subs
                    .try_borrow_mut()
                    .map(|mut s| s.unsubscribe(self.id)),
            };
            drop(gone);
        }
    }
}

/// Why a subscription was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscribeError {
    /// The module did not declare this channel; frames on it would be dropped anyway.
    Undeclared(String),
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::Undeclared(c) => {
                write!(f, "subscribed to `{c}`, which this module does not declare")
            }
        }
    }
}

impl WsHandle {
    /// A handle that has not started: nothing happens until [`WsHandle::start`].
    pub fn new(options: HandleOptions) -> Self {
        let seed = (js_sys::Math::random() * u64::MAX as f64) as u64;
        Self(Rc::new(Inner {
            url: options.url,
            conn: RefCell::new(Connection::new(options.config, seed)),
            token: options.token,
            last_token: RefCell::new(None),
            socket: RefCell::new(None),
            timer: RefCell::new(None),
            subs: RefCell::new(Subscriptions::new()),
            status_subs: RefCell::new(Subscriptions::new()),
            resync_subs: RefCell::new(Subscriptions::new()),
            simulator: RefCell::new(options.simulator),
            sim_timer: RefCell::new(None),
            inbox: RefCell::new(Inbox::default()),
            drain_timer: RefCell::new(None),
            sim_rng: RefCell::new(fastrand::Rng::with_seed(seed ^ 0x5eed)),
            sim_frames: Cell::new(0),
            background: RefCell::new(Vec::new()),
            token_poll: RefCell::new(None),
            shut: Cell::new(false),
            first_live: Cell::new(false),
            first_paint: RefCell::new(None),
            stores: RefCell::new(Vec::new()),
            share_options: options.share,
            share: RefCell::new(None),
        }))
    }

    /// The URL this handle connects to.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The status with its details.
    pub fn snapshot(&self) -> StatusSnapshot {
        self.0.conn.borrow().snapshot().clone()
    }

    /// The status alone.
    pub fn status(&self) -> Status {
        self.0.conn.borrow().snapshot().status
    }

    /// Whether the live feed is up.
    pub fn is_connected(&self) -> bool {
        self.status() == Status::Connected
    }

    /// The connection's counters.
    pub fn stats(&self) -> Stats {
        self.0.conn.borrow().stats().clone()
    }

    /// The last applied position, as `epoch:seq` (resume extension); `None` before the
    /// first one, or from a server without positions.
    pub fn position(&self) -> Option<String> {
        let conn = self.0.conn.borrow();
        conn.position().map(|p| format!("{}:{}", p.epoch, p.seq))
    }

    /// Simulated frames delivered so far.
    pub fn simulated_frames(&self) -> u64 {
        self.0.sim_frames.get()
    }

    /// Whether the simulator is feeding the channels right now.
    pub fn is_simulating(&self) -> bool {
        self.0.sim_timer.borrow().is_some()
    }

    /// Whether frames on `channel` would reach this connection's subscribers.
    pub fn declares(&self, channel: &str) -> bool {
        channel == switchboard_core::channel::WILDCARD
            || self.0.conn.borrow().config().declares(channel)
    }

    /// Starts the connection (if `auto_connect`) and the browser listeners.
    pub fn start(&self) {
        self.listen_to_the_page();
        // Sharing starts the connection once this tab knows whether it leads.
        if !self.begin_sharing(false) {
            self.feed(Event::Start);
        }
        self.update_simulation();
    }

    /// Connects by hand (no-op when connected or connecting).
    pub fn connect(&self) {
        self.feed(Event::Connect);
    }

    /// Disconnects by hand; nothing automatic undoes it.
    pub fn disconnect(&self) {
        self.feed(Event::Disconnect);
    }

    /// Closes any socket and connects again now, with a fresh attempt counter.
    pub fn reconnect(&self) {
        self.feed(Event::Reconnect);
    }

    /// Sends `{"type": kind, "data": data, "timestamp": now}`.
    pub fn send<T: serde::Serialize + ?Sized>(
        &self,
        kind: &str,
        data: &T,
    ) -> Result<SendOutcome, SendError> {
        let result = self.0.conn.borrow_mut().send(now(), kind, data);
        self.run_commands();
        result
    }

    /// Sends an action (see `switchboard_core::action`) and returns its request id; refused
    /// at once while offline, without the grant, or while the same action on the same entity
    /// waits for its answer. Status subscribers ([`WsHandle::on_status`]) hear when it is
    /// answered or given up.
    pub fn act<T: ActionPayload>(
        &self,
        action: TypedAction<T>,
        payload: T,
    ) -> Result<String, ActError> {
        let result = self.0.conn.borrow_mut().act(now(), action, payload);
        self.run_commands();
        result
    }

    /// What the token may do on this module: `None` until the server's `grants` (a backend
    /// that carries out no actions sends none) and while a new socket authenticates; the last
    /// grants are kept while offline, when [`WsHandle::may`] still says no.
    pub fn grants(&self) -> Option<Grants> {
        self.0.conn.borrow().grants().cloned()
    }

    /// Whether the server granted `action` to this token (see [`WsHandle::grants`]).
    pub fn granted(&self, action: &str) -> bool {
        self.0
            .conn
            .borrow()
            .grants()
            .is_some_and(|g| g.allows(action))
    }

    /// Whether `action` may be offered now: connected, and granted to this token.
    pub fn may(&self, action: &str) -> bool {
        self.status() == Status::Connected && self.granted(action)
    }

    /// The latest action on `entity` and where it stands.
    pub fn action_on(&self, entity: &str) -> Option<Entry> {
        self.0.conn.borrow().actions().entry(entity).cloned()
    }

    /// Subscribes `callback` to a channel or `"*"`.
    pub fn subscribe(
        &self,
        pattern: &str,
        callback: Callback<Rc<Frame>>,
    ) -> Result<SubscriptionGuard, SubscribeError> {
        if !self.declares(pattern) {
            return Err(SubscribeError::Undeclared(pattern.to_owned()));
        }
        let pattern = Pattern::parse(pattern.to_owned());
        Ok(self.register(Registry::Frames, &self.0.subs, pattern, callback))
    }

    /// Adds `callback` to one of the handle's lists; the guard takes it off again.
    fn register<H>(
        &self,
        registry: Registry,
        list: &RefCell<Subscriptions<H>>,
        pattern: Pattern,
        callback: H,
    ) -> SubscriptionGuard {
        let id = list.borrow_mut().subscribe(pattern, callback);
        SubscriptionGuard {
            handle: Rc::downgrade(&self.0),
            id,
            registry,
        }
    }

    /// Calls `callback` whenever the status snapshot changes.
    pub fn on_status(&self, callback: Callback<()>) -> SubscriptionGuard {
        self.register(
            Registry::Status,
            &self.0.status_subs,
            Pattern::All,
            callback,
        )
    }

    /// Calls `callback` when the server answers a (re)connect with `sync` (the resume
    /// extension), before the frames it governs, and when a snapshot's state has been
    /// delivered whole (see [`Resync`]).
    pub fn on_resync(&self, callback: Callback<Resync>) -> SubscriptionGuard {
        self.register(
            Registry::Resync,
            &self.0.resync_subs,
            Pattern::All,
            callback,
        )
    }

    /// How many subscriptions use exactly `pattern`.
    pub fn subscriber_count(&self, pattern: &str) -> usize {
        self.0
            .subs
            .borrow()
            .count(&Pattern::parse(pattern.to_owned()))
    }

    /// Counts a payload that did not fit its channel's type.
    pub fn record_decode_error(&self, channel: &str, detail: &str) {
        self.0
            .conn
            .borrow_mut()
            .record_decode_error(now(), channel, detail);
        self.run_commands();
    }

    /// Stops everything: closes the socket with 1000, cancels every timer and listener.
    /// Called when the provider unmounts; the handle is inert afterwards.
    pub fn shutdown(&self) {
        self.feed(Event::Disconnect);
        self.0.shut.set(true);
        self.0.socket.borrow_mut().take();
        self.0.timer.borrow_mut().take();
        self.0.sim_timer.borrow_mut().take();
        self.0.drain_timer.borrow_mut().take();
        self.0.inbox.borrow_mut().clear();
        self.0.token_poll.borrow_mut().take();
        self.0.background.borrow_mut().clear();
        // Lets go of the lock: the next tab in its queue takes over.
        self.0.share.borrow_mut().take();
    }

    fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.0)
    }

    /// A reference that does not keep the connection alive (for what the connection owns).
    pub(crate) fn downgrade(&self) -> WeakHandle {
        WeakHandle(self.weak())
    }

    /// The stores attached to this connection.
    pub(crate) fn stores(&self) -> &RefCell<Vec<Rc<dyn std::any::Any>>> {
        &self.0.stores
    }

    fn from_weak(weak: &Weak<Inner>) -> Option<WsHandle> {
        weak.upgrade().map(WsHandle).filter(|h| !h.0.shut.get())
    }

    /// Feeds one event to the core and runs what it asks for.
    pub(crate) fn feed(&self, event: Event<'_>) {
        if self.0.shut.get() {
            return;
        }
        self.0.conn.borrow_mut().handle(now(), event);
        self.run_commands();
    }

    /// Runs the core's commands, oldest first, for at most one slice (see
    /// `effects::SLICE_MS`): a snapshot's thousands of deliveries are applied between
    /// paints, and what is left continues in a later task, before any newer socket event.
    fn run_commands(&self) {
        let started = crate::probe::perf_now();
        for n in 1u32.. {
            // The borrow ends before the command runs: subscribers may call back into us.
            let Some(command) = self.0.conn.borrow_mut().poll() else {
                break;
            };
            if !self.share_command(&command) {
                self.run(command);
            }
            if n % 32 == 0 && crate::probe::perf_now() - started >= effects::SLICE_MS {
                self.continue_later();
                self.pump_share();
                return;
            }
        }
        self.pump_share();
    }
}

mod effects;
mod sharing;
