//! The browser side of one connection per module across tabs: the Web Locks API elects the
//! leader and a `BroadcastChannel` carries the messages. Every decision is the core's
//! ([`switchboard_core::share::Tab`]); this only carries lock answers, messages and the
//! page's `freeze`/`resume` in, and carries the machine's outputs out.
//!
//! web-sys binds `navigator.locks` only behind `--cfg=web_sys_unstable_apis`, which would
//! change the whole build, so the one method used (`request`) is bound here.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use gloo_events::EventListener;
use js_sys::{Function, Object, Promise, Reflect};
use switchboard_core::share::{LockRequest, Tab};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, BroadcastChannel, MessageChannel, MessageEvent};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    #[derive(Clone, Debug)]
    pub(crate) type LockManager;

    /// `locks.request(name, options, callback)`: the callback runs when the lock is granted
    /// (with `null` for an `ifAvailable` request it could not grant), and the lock is held
    /// until the promise the callback returns settles.
    #[wasm_bindgen(method, catch, js_name = request)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &Function,
    ) -> Result<Promise, JsValue>;
}

/// The browser's lock manager, where there is one (every current browser, in a secure
/// context).
pub(crate) fn lock_manager() -> Option<LockManager> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Whether this browser can share connections across tabs.
pub(crate) fn supported() -> bool {
    let channel = Reflect::get(&js_sys::global(), &JsValue::from_str("BroadcastChannel"))
        .is_ok_and(|c| c.is_function());
    channel && lock_manager().is_some()
}

type Grant = Closure<dyn FnMut(JsValue) -> Promise>;

/// One lock request that has not ended.
struct Pending {
    /// Runs when granted; must live until the request ends.
    _callback: Grant,
    /// Withdraws a queued request (only `Wait` ones take a signal).
    abort: Option<AbortController>,
}

/// A module's share of this tab: its machine, its group's bus and its lock.
pub(crate) struct Share {
    pub(crate) tab: RefCell<Tab>,
    pub(crate) group: String,
    channel: BroadcastChannel,
    locks: LockManager,
    requests: RefCell<BTreeMap<u64, Pending>>,
    next_request: Cell<u64>,
    /// The request whose lock this tab holds, and the function that lets it go.
    held: RefCell<Option<(u64, Function)>>,
    /// Bumped on every release: a grant for an older request is let go at once.
    generation: Cell<u64>,
    listeners: RefCell<Vec<EventListener>>,
    /// A task of its own for posting what was gathered (see [`Share::soon`]).
    later: Option<MessageChannel>,
    later_armed: Cell<bool>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Share")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// What a lock request reports back to its handle.
pub(crate) enum Heard {
    /// Granted: calling the function lets go of it.
    Granted(Function),
    /// Not granted (`ifAvailable`).
    Unavailable,
    /// The request ended: released, withdrawn, or taken away by another tab's steal.
    Ended,
}

impl Share {
    /// Joins `group`, or `None` where the browser cannot share.
    pub(crate) fn join(group: String, tab: Tab) -> Option<Self> {
        let locks = lock_manager()?;
        let channel = BroadcastChannel::new(&group).ok()?;
        Some(Self {
            tab: RefCell::new(tab),
            group,
            channel,
            locks,
            requests: RefCell::new(BTreeMap::new()),
            next_request: Cell::new(0),
            held: RefCell::new(None),
            generation: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            later: MessageChannel::new().ok(),
            later_armed: Cell::new(false),
        })
    }

    /// Calls `then` in a task of its own, once however often asked before it runs: a port
    /// message, which runs after the socket events already queued (so their frames go out
    /// in one message) and, unlike a timer, is not throttled in a background tab.
    pub(crate) fn soon(&self) -> bool {
        let Some(later) = &self.later else {
            return false;
        };
        if !self.later_armed.replace(true) {
            let _ = later.port2().post_message(&JsValue::NULL);
        }
        true
    }

    /// Listens for [`Share::soon`]'s task.
    pub(crate) fn on_soon(&self, then: impl Fn() + 'static) {
        let Some(later) = &self.later else {
            return;
        };
        let port = later.port1();
        let listener = EventListener::new(&port, "message", move |_| then());
        // A port's messages flow only once it is started (implicit with `onmessage`).
        port.start();
        self.listeners.borrow_mut().push(listener);
    }

    /// [`Share::soon`]'s task ran.
    pub(crate) fn ran(&self) {
        self.later_armed.set(false);
    }

    /// Listens to the group's messages; `heard` receives each.
    pub(crate) fn listen(&self, heard: impl Fn(String) + 'static) {
        let listener = EventListener::new(&self.channel, "message", move |event| {
            if let Some(text) = event
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            {
                heard(text);
            }
        });
        self.listeners.borrow_mut().push(listener);
    }

    /// Posts a message to the other tabs of the group.
    pub(crate) fn post(&self, message: &str) {
        let _ = self.channel.post_message(&JsValue::from_str(message));
    }

    /// Asks for the lock. `heard` gets the request's number, the generation it was made in,
    /// and what became of it. `false` when the browser refused to take the request (then
    /// this tab cannot share).
    pub(crate) fn request(
        &self,
        kind: LockRequest,
        heard: impl Fn(u64, u64, Heard) + Clone + 'static,
    ) -> bool {
        let id = self.next_request.get();
        self.next_request.set(id + 1);
        let generation = self.generation.get();
        let options = Object::new();
        let set = |key: &str, value: &JsValue| {
            let _ = Reflect::set(&options, &JsValue::from_str(key), value);
        };
        // A signal may not be combined with `ifAvailable` or `steal`.
        let abort = match kind {
            LockRequest::IfAvailable => {
                set("ifAvailable", &JsValue::TRUE);
                None
            }
            LockRequest::Steal => {
                set("steal", &JsValue::TRUE);
                None
            }
            LockRequest::Wait => {
                let abort = AbortController::new().ok();
                if let Some(a) = &abort {
                    set("signal", &a.signal());
                }
                abort
            }
        };
        let on_grant = heard.clone();
        let callback: Grant = Closure::new(move |lock: JsValue| {
            if lock.is_null() {
                on_grant(id, generation, Heard::Unavailable);
                return Promise::resolve(&JsValue::UNDEFINED);
            }
            // Held until `release` is called.
            let mut release = None;
            let hold = Promise::new(&mut |resolve, _| release = Some(resolve));
            if let Some(release) = release {
                on_grant(id, generation, Heard::Granted(release));
            }
            hold
        });
        let Ok(promise) =
            self.locks
                .request(&self.group, &options, callback.as_ref().unchecked_ref())
        else {
            return false;
        };
        self.requests.borrow_mut().insert(
            id,
            Pending {
                _callback: callback,
                abort,
            },
        );
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            heard(id, generation, Heard::Ended);
        });
        true
    }

    /// Keeps the lock just granted to request `id`, unless the request is from before the
    /// last release: that one is let go at once. Whether this tab holds it now.
    pub(crate) fn granted(&self, id: u64, generation: u64, release: Function) -> bool {
        if generation != self.generation.get() {
            let _ = release.call0(&JsValue::UNDEFINED);
            return false;
        }
        if let Some((_, old)) = self.held.replace(Some((id, release))) {
            let _ = old.call0(&JsValue::UNDEFINED);
        }
        true
    }

    /// Whether `generation` is the current one (no release since).
    pub(crate) fn current(&self, generation: u64) -> bool {
        generation == self.generation.get()
    }

    /// Request `id` ended: forget it. Whether it was the lock this tab held, which it did not
    /// let go of: another tab took it.
    pub(crate) fn ended(&self, id: u64) -> bool {
        self.requests.borrow_mut().remove(&id);
        let lost = self.held.borrow().as_ref().is_some_and(|(h, _)| *h == id);
        if lost {
            self.held.replace(None);
        }
        lost
    }

    /// Lets go of the lock and withdraws every queued request.
    pub(crate) fn release(&self) {
        self.generation.set(self.generation.get() + 1);
        if let Some((_, release)) = self.held.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        for pending in self.requests.borrow().values() {
            if let Some(abort) = &pending.abort {
                abort.abort();
            }
        }
    }

    /// Listens for the page's `freeze` and `resume`.
    pub(crate) fn on_lifecycle(&self, frozen: impl Fn(bool) + Clone + 'static) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let on_freeze = frozen.clone();
        let mut listeners = self.listeners.borrow_mut();
        listeners.push(EventListener::new(&document, "freeze", move |_| {
            on_freeze(true)
        }));
        listeners.push(EventListener::new(&document, "resume", move |_| {
            frozen(false)
        }));
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.release();
        self.listeners.borrow_mut().clear();
        self.channel.close();
        if let Some(later) = &self.later {
            later.port1().close();
            later.port2().close();
        }
    }
}
