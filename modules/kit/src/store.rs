//! A module's state, owned beside its connection for as long as the connection lives (in the
//! shell: the app's life), so the overview card and the module page read the same tables,
//! ledgers and chart histories, and navigating away throws nothing away.
//!
//! A [`Store`] keeps two states of the same type, never mixed:
//! - **live**: folded from live frames only. It survives outages and reconnects.
//! - **simulated**: folded from the simulator's frames while the feed is down, and dropped the
//!   moment the connection is up again or a live frame arrives.
//!
//! Views ask per panel which to show ([`StoreView::pick`]): the live state when it has data
//! for that panel, otherwise the simulated one (labelled by the view), otherwise the empty
//! live state ("waiting for data"). The reducers stay pure functions `fn(&mut S, T, &Frame)`
//! in the module crates; the store only routes frames to them.
//!
//! # Example
//! ```no_run
//! use switchboard_core::payload::BANDWIDTH_UPDATE;
//! use switchboard_kit::WsHandle;
//! use switchboard_kit::store::{Store, use_store};
//! use yew::prelude::*;
//!
//! #[derive(Default)]
//! struct Peak(f64);
//!
//! fn store(handle: &WsHandle) -> Store<Peak> {
//!     Store::new(Peak::default).fold(handle, BANDWIDTH_UPDATE, |s, b, _| s.0 = s.0.max(b.download_mbps))
//! }
//!
//! #[component]
//! fn PeakCard() -> Html {
//!     let view = use_store(store);
//!     let (peak, provenance) = view.pick(|s| s.0 > 0.0);
//!     html! { <p>{ format!("{:.1} Mbps ({provenance:?})", peak.0) }</p> }
//! }
//! ```

use std::cell::{Cell, Ref, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use serde::de::DeserializeOwned;
use switchboard_core::resume::SyncMode;
use switchboard_core::{Frame, Instant, Provenance, Status, TypedChannel};
use yew::prelude::*;

use crate::handle::{Resync, SubscriptionGuard, WsHandle, now};
use crate::hooks::use_ws_handle;
use crate::redraw::use_redraw_spaced;

/// See [`Store::carry`].
type Carry<S> = fn(&S, &mut S);

struct Inner<S> {
    init: fn() -> S,
    /// What survives a snapshot (see [`Store::carry`]).
    carry: Cell<Option<Carry<S>>>,
    live: RefCell<S>,
    /// A snapshot's state while its frames arrive (see [`Resync`]): it replaces `live` whole
    /// at the snapshot's end, so a view never shows half of one.
    staging: RefCell<Option<S>>,
    simulated: RefCell<Option<S>>,
    /// Grows with every change to either state.
    version: Cell<u64>,
    /// When the last live frame arrived (by this browser's clock, not the frame's stamp).
    live_at: Cell<Option<Instant>>,
    /// The latest outages (feed down after a failure), oldest first; the last may be open.
    outages: RefCell<Vec<(Instant, Option<Instant>)>>,
    /// The socket (by its `connected_since`) of the last `sync`, to tell a socket's first
    /// answer from a later one.
    synced_socket: Cell<Option<Instant>>,
    watchers: RefCell<Vec<(u64, Callback<()>)>>,
    next_watcher: Cell<u64>,
    /// The channel subscriptions, for as long as the store lives.
    guards: RefCell<Vec<SubscriptionGuard>>,
}

/// See the module docs. Cheap to clone; clones share the state.
pub struct Store<S: 'static>(Rc<Inner<S>>);

impl<S> Clone for Store<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S> PartialEq for Store<S> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<S> fmt::Debug for Store<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("version", &self.0.version.get())
            .field("simulated", &self.0.simulated.borrow().is_some())
            .finish_non_exhaustive()
    }
}

/// Stops a watch when dropped.
#[must_use = "the watch ends when this guard is dropped"]
pub struct WatchGuard<S: 'static> {
    store: Weak<Inner<S>>,
    id: u64,
}

impl<S> fmt::Debug for WatchGuard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchGuard").field("id", &self.id).finish()
    }
}

impl<S> Drop for WatchGuard<S> {
    fn drop(&mut self) {
        if let Some(inner) = self.store.upgrade()
            && let Ok(mut watchers) = inner.watchers.try_borrow_mut()
        {
            watchers.retain(|(id, _)| *id != self.id);
        }
    }
}

impl<S: 'static> Store<S> {
    /// An empty store; `init` makes the empty state (for live, and for each outage's
    /// simulated state).
    pub fn new(init: fn() -> S) -> Self {
        Self(Rc::new(Inner {
            init,
            carry: Cell::new(None),
            live: RefCell::new(init()),
            staging: RefCell::new(None),
            simulated: RefCell::new(None),
            version: Cell::new(0),
            live_at: Cell::new(None),
            outages: RefCell::new(Vec::new()),
            synced_socket: Cell::new(None),
            watchers: RefCell::new(Vec::new()),
            next_watcher: Cell::new(0),
            guards: RefCell::new(Vec::new()),
        }))
    }

    /// Keeps what the client observed itself across a snapshot (resume extension), which
    /// otherwise replaces the whole live state: `carry(old, new)` runs on the fresh state
    /// before the snapshot's frames are folded in. A chart of counts over time, drawn from
    /// this browser's own observations, keeps its history, and the outage shows in it as a
    /// marked gap; the server's state (tables, ledgers, queues) is replaced, never merged.
    pub fn carry(self, carry: Carry<S>) -> Self {
        self.0.carry.set(Some(carry));
        self
    }

    /// Folds every frame of `channel` on `handle` into the state with `reduce`: live frames
    /// into the live state, simulated ones into the simulated state. A payload that does not
    /// decode is counted on the connection and changes nothing. Also drops the simulated
    /// state when the connection comes up.
    pub fn fold<T: DeserializeOwned + 'static>(
        self,
        handle: &WsHandle,
        channel: TypedChannel<T>,
        reduce: fn(&mut S, T, &Frame),
    ) -> Self {
        let (store, conn) = (Rc::downgrade(&self.0), handle.downgrade());
        let on_frame = Callback::from(move |frame: Rc<Frame>| {
            let Some(inner) = store.upgrade() else { return };
            match channel.decode(&frame) {
                Ok(value) => Self(inner).apply(value, &frame, reduce),
                Err(e) => {
                    if let Some(h) = conn.upgrade() {
                        h.record_decode_error(frame.channel(), &e.to_string());
                    }
                }
            }
        });
        match handle.subscribe(channel.name(), on_frame) {
            Ok(guard) => self.0.guards.borrow_mut().push(guard),
            Err(e) => web_sys::console::error_1(&format!("[{}] {e}", handle.url()).into()),
        }
        if self.0.guards.borrow().len() == 1 {
            let (store, conn) = (Rc::downgrade(&self.0), handle.downgrade());
            let on_status = Callback::from(move |()| {
                if let (Some(h), Some(inner)) = (conn.upgrade(), store.upgrade()) {
                    let snap = h.snapshot();
                    let store = Self(inner);
                    store.note_outage(snap.status, snap.down_since);
                    if snap.status == Status::Connected {
                        store.drop_simulated();
                    }
                }
            });
            self.0.guards.borrow_mut().push(handle.on_status(on_status));
            let (store, conn) = (Rc::downgrade(&self.0), handle.downgrade());
            let on_resync = Callback::from(move |event: Resync| {
                if let (Some(h), Some(inner)) = (conn.upgrade(), store.upgrade()) {
                    match event {
                        Resync::Began(mode) => {
                            Self(inner).resync(mode, h.snapshot().connected_since);
                        }
                        Resync::SnapshotEnd => Self(inner).snapshot_end(),
                    }
                }
            });
            self.0.guards.borrow_mut().push(handle.on_resync(on_resync));
        }
        self
    }

    /// The server answered with `sync` (resume extension). A snapshot replaces the live state
    /// (its frames come next, into a staging state shown whole at its end) and leaves a
    /// marked gap: the outage this socket ended, when it is
    /// the socket's first answer, or else (frames were lost on an open socket) the time since
    /// the last live frame. A replay or "live" as a socket's first answer means nothing was
    /// lost in the outage it ended, so that outage is not a gap after all: charts draw
    /// straight through it.
    fn resync(&self, mode: SyncMode, connected_since: Option<Instant>) {
        let inner = &self.0;
        let first_on_socket = inner.synced_socket.replace(connected_since) != connected_since;
        let Ok(mut outages) = inner.outages.try_borrow_mut() else {
            return;
        };
        let ended_by_socket = first_on_socket
            && outages
                .last()
                .and_then(|o| o.1.zip(connected_since))
                .is_some_and(|(end, up)| end >= up);
        match mode {
            SyncMode::Snapshot => {
                let (Ok(live), Ok(mut staging)) =
                    (inner.live.try_borrow(), inner.staging.try_borrow_mut())
                else {
                    return;
                };
                let mut fresh = (inner.init)();
                if let Some(carry) = inner.carry.get() {
                    carry(&live, &mut fresh);
                }
                *staging = Some(fresh);
                if !ended_by_socket && let Some(since) = inner.live_at.get() {
                    record_outage(&mut outages, (since, Some(now())));
                }
            }
            SyncMode::Replay | SyncMode::Live => {
                if ended_by_socket {
                    outages.pop();
                }
            }
        }
        drop(outages);
        self.changed();
    }

    /// A snapshot's state is whole: it replaces the live state now.
    fn snapshot_end(&self) {
        let inner = &self.0;
        let Ok(Some(state)) = inner.staging.try_borrow_mut().map(|mut s| s.take()) else {
            return;
        };
        match inner.live.try_borrow_mut() {
            Ok(mut live) => *live = state,
            Err(_) => return,
        }
        self.changed();
    }

    fn apply<T>(&self, value: T, frame: &Frame, reduce: fn(&mut S, T, &Frame)) {
        let inner = &self.0;
        match frame.provenance() {
            Provenance::Live => {
                if let Ok(mut sim) = inner.simulated.try_borrow_mut() {
                    sim.take();
                }
                inner.live_at.set(Some(now()));
                if let Ok(mut staging) = inner.staging.try_borrow_mut()
                    && let Some(state) = staging.as_mut()
                {
                    // Nothing on screen changes until the snapshot's end.
                    reduce(state, value, frame);
                    return;
                }
                match inner.live.try_borrow_mut() {
                    Ok(mut live) => reduce(&mut live, value, frame),
                    Err(_) => return, // a view holds it: cannot happen outside a render
                }
            }
            Provenance::Simulated => match inner.simulated.try_borrow_mut() {
                Ok(mut sim) => reduce(sim.get_or_insert_with(inner.init), value, frame),
                Err(_) => return,
            },
        }
        self.changed();
    }

    /// Opens an outage when the feed goes down after a failure, and closes it when the feed
    /// is up again. Keeps the latest [`MAX_OUTAGES`].
    fn note_outage(&self, status: Status, down_since: Option<Instant>) {
        let Ok(mut outages) = self.0.outages.try_borrow_mut() else {
            return;
        };
        let open = outages.last().is_some_and(|(_, end)| end.is_none());
        match (status, down_since, open) {
            (Status::Connected, _, true) => {
                if let Some(last) = outages.last_mut() {
                    last.1 = Some(now());
                }
            }
            (status, Some(since), false) if status != Status::Connected => {
                record_outage(&mut outages, (since, None));
            }
            _ => return,
        }
        drop(outages);
        self.changed();
    }

    fn drop_simulated(&self) {
        let dropped = self
            .0
            .simulated
            .try_borrow_mut()
            .is_ok_and(|mut s| s.take().is_some());
        if dropped {
            self.changed();
        }
    }

    fn changed(&self) {
        self.0.version.set(self.0.version.get().wrapping_add(1));
        let watchers: Vec<Callback<()>> = match self.0.watchers.try_borrow() {
            Ok(w) => w.iter().map(|(_, c)| c.clone()).collect(),
            Err(_) => return,
        };
        for w in watchers {
            w.emit(());
        }
    }

    /// Calls `callback` after every change, until the guard is dropped.
    pub fn watch(&self, callback: Callback<()>) -> WatchGuard<S> {
        let id = self.0.next_watcher.get();
        self.0.next_watcher.set(id + 1);
        self.0.watchers.borrow_mut().push((id, callback));
        WatchGuard {
            store: Rc::downgrade(&self.0),
            id,
        }
    }

    /// The live state.
    pub fn live(&self) -> Ref<'_, S> {
        self.0.live.borrow()
    }

    /// The simulated state, while there is one.
    pub fn simulated(&self) -> Option<Ref<'_, S>> {
        Ref::filter_map(self.0.simulated.borrow(), Option::as_ref).ok()
    }

    /// Grows with every change.
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }

    /// When the last live frame arrived, by this browser's clock.
    pub fn live_at(&self) -> Option<Instant> {
        self.0.live_at.get()
    }

    /// The latest outages, oldest first: when the feed went down and when it came back
    /// (`None` while it is still down). Charts break their lines there.
    pub fn outages(&self) -> Outages {
        self.0.outages.borrow().as_slice().into()
    }
}

/// Outages as charts take them (see [`Store::outages`]).
pub type Outages = Rc<[(Instant, Option<Instant>)]>;

/// How many outages a store remembers: enough for any chart window.
pub const MAX_OUTAGES: usize = 32;

/// Appends an outage, forgetting the oldest beyond [`MAX_OUTAGES`].
fn record_outage(
    outages: &mut Vec<(Instant, Option<Instant>)>,
    outage: (Instant, Option<Instant>),
) {
    if outages.len() >= MAX_OUTAGES {
        outages.remove(0);
    }
    outages.push(outage);
}

impl WsHandle {
    /// The store of type `S` attached to this connection, made by `make` and attached on
    /// first use. The shell attaches every module's store when it builds the connection
    /// ([`crate::module::WsModule::attach`]), so no frame is missed before a view mounts.
    pub fn store<S: 'static>(&self, make: fn(&WsHandle) -> Store<S>) -> Store<S> {
        let found = self
            .stores()
            .borrow()
            .iter()
            .find_map(|s| s.downcast_ref::<Store<S>>().cloned());
        if let Some(store) = found {
            return store;
        }
        let store = make(self);
        self.stores().borrow_mut().push(Rc::new(store.clone()));
        store
    }
}

/// What [`use_store`] returns: the store's states and version, as of this render.
#[derive(Debug)]
pub struct StoreView<S: 'static> {
    store: Store<S>,
    version: u64,
    connected: bool,
}

impl<S> StoreView<S> {
    /// The live state.
    pub fn live(&self) -> Ref<'_, S> {
        self.store.live()
    }

    /// The simulated state, while the feed is down and the simulator runs.
    pub fn simulated(&self) -> Option<Ref<'_, S>> {
        self.store.simulated()
    }

    /// What a panel shows, and where it came from: the live state when `has_data` says it
    /// has the panel's data; else the simulated state, if any; else the (empty) live state.
    pub fn pick(&self, has_data: impl Fn(&S) -> bool) -> (Ref<'_, S>, Provenance) {
        let live = self.store.live();
        if has_data(&live) {
            return (live, Provenance::Live);
        }
        match self.store.simulated() {
            Some(sim) if has_data(&sim) => (sim, Provenance::Simulated),
            _ => (live, Provenance::Live),
        }
    }

    /// Whether a panel's figures are known: it has live or simulated data, or the feed is up
    /// (a connected, quiet feed's zero is a fact). With simulation off and the backend down
    /// before any data came, they are not: the view says "unknown" rather than show zeros.
    pub fn known(&self, has_data: impl Fn(&S) -> bool) -> bool {
        self.connected
            || has_data(&self.store.live())
            || self.store.simulated().is_some_and(|s| has_data(&s))
    }

    /// Grows with every change (for charts, which redraw only when it moves).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The latest outages, for a chart's `outages` (it breaks its lines there).
    pub fn outages(&self) -> Outages {
        self.store.outages()
    }

    /// When the last live frame arrived, by this browser's clock, to the whole second: what
    /// "as of" means. Whole seconds, so a tag that shows it (and takes it as a prop)
    /// re-renders at most once a second under a flood, not once per animation frame.
    pub fn live_at(&self) -> Option<Instant> {
        self.store
            .live_at()
            .map(|at| Instant::from_millis(at.as_millis() / 1000 * 1000))
    }
}

/// The module store of type `S` on the current connection (made with `make` if nothing
/// attached it yet), re-rendering the component at most once per animation frame when it
/// changes. See the module docs for an example.
#[hook]
pub fn use_store<S: 'static>(make: fn(&WsHandle) -> Store<S>) -> StoreView<S> {
    use_store_spaced(make, 0)
}

/// How far apart, at least, a panel of figures (a table, a score, a list of alerts) renders
/// under a flood, in ms: five times a second is faster than anyone reads a changing figure,
/// and it keeps such a panel's layout from coming with every animation frame. Charts, whose
/// lines move, render every frame.
pub const FIGURES_EVERY_MS: u32 = 200;

/// [`use_store`] for a view whose renders are at least `spacing_ms` apart (see
/// [`use_redraw_spaced`]; [`FIGURES_EVERY_MS`] for panels of figures). Its own state changes
/// (a click, a scroll) still render at once.
#[hook]
pub fn use_store_spaced<S: 'static>(
    make: fn(&WsHandle) -> Store<S>,
    spacing_ms: u32,
) -> StoreView<S> {
    let handle = use_ws_handle();
    let store = use_memo(handle.clone(), move |h| h.store(make));
    let redraw = use_redraw_spaced(spacing_ms);
    use_effect_with((*store).clone(), move |store| {
        let guard = store.watch(Callback::from(move |()| redraw.request()));
        move || drop(guard)
    });
    StoreView {
        store: (*store).clone(),
        version: store.version(),
        connected: handle.is_connected(),
    }
}
