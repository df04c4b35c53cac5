//! The I/O of a [`WsHandle`]: carrying out core commands, the simulator, page listeners.

use std::rc::Rc;
use std::time::Duration;

use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use switchboard_core::{Command, Event, Frame, Provenance, Status};

use super::{Resync, WsHandle, now};
use crate::transport::{Socket, SocketEvent};

/// How often the token source is asked whether the token changed.
const TOKEN_POLL: Duration = Duration::from_secs(2);

/// The longest stretch of socket events fed to the core in one task, in milliseconds: half a
/// frame at 60 Hz, leaving the rest for the render.
pub(super) const SLICE_MS: f64 = 8.0;

impl WsHandle {
    pub(super) fn run(&self, command: Command) {
        match command {
            Command::Open(id) => self.open_socket(id),
            Command::Send(id, text) => {
                if let Some(socket) = self.0.socket.borrow().as_ref().filter(|s| s.id() == id) {
                    socket.send(&text);
                }
            }
            Command::Close {
                socket,
                code,
                reason,
            } => {
                let current = self.0.socket.borrow_mut().take_if(|s| s.id() == socket);
                if let Some(s) = current {
                    s.close(code, reason);
                }
            }
            Command::Timer(at) => self.arm_timer(at),
            Command::Deliver(frame) => {
                self.mark_first_live();
                self.deliver(Rc::new(frame));
            }
            Command::StatusChanged => {
                self.update_simulation();
                self.notify_status();
            }
            // Views that show actions re-read them with the status.
            Command::ActionsChanged => self.notify_status(),
            // Only a tab that shares its connection relays; the share adapter reads these.
            Command::Relay(_) => {}
            Command::Resync(mode) => self.resynced(Resync::Began(mode)),
            Command::SnapshotEnd => self.resynced(Resync::SnapshotEnd),
            Command::Warn(message) => {
                web_sys::console::warn_1(&format!("[{}] {message}", self.0.url).into());
            }
        }
    }

    fn notify_status(&self) {
        let listeners = self.0.status_subs.borrow().matching("");
        for (_, callback) in listeners {
            callback.emit(());
        }
    }

    fn resynced(&self, event: Resync) {
        let listeners = self.0.resync_subs.borrow().matching("");
        for (_, callback) in listeners {
            callback.emit(event);
        }
    }

    fn open_socket(&self, id: switchboard_core::SocketId) {
        let weak = self.weak();
        let max = self.0.conn.borrow().config().max_frame_bytes;
        let on_event = move |socket, event: SocketEvent| {
            if let Some(handle) = WsHandle::from_weak(&weak) {
                handle.0.inbox.borrow_mut().push(socket, event);
                handle.drain();
            }
        };
        match Socket::open(&self.0.url, id, max, on_event) {
            Ok(socket) => {
                self.0.socket.replace(Some(socket));
            }
            Err(e) => {
                // A URL the browser refuses outright: report it as an abnormal close.
                web_sys::console::error_2(
                    &format!("[{}] cannot open WebSocket:", self.0.url).into(),
                    &e.into(),
                );
                // The core has finished this command, so it can take the close at once.
                self.feed(Event::Closed {
                    socket: id,
                    code: 1006,
                    reason: "invalid URL".into(),
                });
            }
        }
    }

    /// Feeds queued socket events to the core, oldest first, for at most [`SLICE_MS`]; what
    /// is left continues in a later task, so the browser can paint in between. A burst (a
    /// replay of thousands of frames after a reconnect) is applied in slices, each followed
    /// by at most one render; steady traffic, one event at a time, is fed at once. Commands
    /// left over from an earlier slice run first, so the order never changes.
    pub(super) fn drain(&self) {
        if self.0.drain_timer.borrow().is_some() {
            return; // a continuation is scheduled and keeps the order
        }
        let started = crate::probe::perf_now();
        self.run_commands();
        loop {
            if self.0.drain_timer.borrow().is_some() {
                return; // the commands of the last event took the rest of the slice
            }
            let next = self.0.inbox.borrow_mut().pop();
            let Some((socket, event)) = next else {
                return;
            };
            let token = || {
                let token = self.0.token.token();
                self.0.last_token.replace(token.clone());
                token
            };
            self.feed(event.to_core(socket, token));
            let more = !self.0.inbox.borrow().is_empty();
            if more && crate::probe::perf_now() - started >= SLICE_MS {
                self.continue_later();
                return;
            }
        }
    }

    /// Continues [`WsHandle::drain`] in a later task (once: a scheduled one keeps the order).
    pub(super) fn continue_later(&self) {
        if self.0.drain_timer.borrow().is_some() {
            return;
        }
        let weak = self.weak();
        let later = Timeout::new(0, move || {
            if let Some(h) = WsHandle::from_weak(&weak) {
                h.0.drain_timer.replace(None);
                h.drain();
            }
        });
        self.0.drain_timer.replace(Some(later));
    }

    fn arm_timer(&self, at: Option<switchboard_core::Instant>) {
        let timer = at.map(|at| {
            let delay = now().until(at).as_millis().min(u128::from(u32::MAX)) as u32;
            let weak = self.weak();
            Timeout::new(delay, move || {
                if let Some(h) = WsHandle::from_weak(&weak) {
                    h.feed(Event::Tick);
                }
            })
        });
        // Dropping the previous Timeout cancels it.
        self.0.timer.replace(timer);
    }

    /// Marks the first live frame, and the first animation frame after it (when it is on
    /// screen), as `performance` marks for the benchmark: `sb:first-live:<url>` and
    /// `sb:first-live-paint:<url>`.
    fn mark_first_live(&self) {
        if self.0.first_live.replace(true) {
            return;
        }
        let mark = |name: String| {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark(&name);
            }
        };
        mark(format!("sb:first-live:{}", self.0.url));
        let url = self.0.url.clone();
        let frame = gloo_render::request_animation_frame(move |_| {
            mark(format!("sb:first-live-paint:{url}"))
        });
        self.0.first_paint.replace(Some(frame));
    }

    pub(super) fn deliver(&self, frame: Rc<Frame>) {
        let targets = self.0.subs.borrow().matching(frame.channel());
        for (id, callback) in targets {
            // A subscriber removed by an earlier one for this same frame is not called.
            if self.0.subs.borrow().contains(id) {
                callback.emit(frame.clone());
            }
        }
    }

    /// Runs the simulator while the live feed is down after a real failure (the core's
    /// `down_since`), and stops it when the feed comes back. A healthy load, whose first
    /// socket is still opening, shows no simulated data.
    pub(super) fn update_simulation(&self) {
        let down = self.0.conn.borrow().snapshot().wants_simulation();
        let want = down && self.0.simulator.borrow().is_some();
        let running = self.0.sim_timer.borrow().is_some();
        if want == running || self.0.shut.get() {
            return;
        }
        if !want {
            self.0.sim_timer.replace(None);
            return;
        }
        let interval = self
            .0
            .simulator
            .borrow()
            .as_ref()
            .map(|s| s.interval())
            .unwrap_or_default();
        let weak = self.weak();
        let tick = move || {
            if let Some(h) = WsHandle::from_weak(&weak) {
                h.simulate_once();
            }
        };
        self.0.sim_timer.replace(Some(Interval::new(
            interval.as_millis().max(50) as u32,
            tick,
        )));
        // Show something at once rather than after a whole interval.
        self.simulate_once();
    }

    fn simulate_once(&self) {
        let frames: Vec<Frame> = {
            let mut sim = self.0.simulator.borrow_mut();
            let mut rng = self.0.sim_rng.borrow_mut();
            match sim.as_mut() {
                Some(sim) => sim.tick(now(), &mut rng),
                None => Vec::new(),
            }
        };
        for frame in frames {
            debug_assert_eq!(frame.provenance(), Provenance::Simulated);
            self.0.sim_frames.set(self.0.sim_frames.get() + 1);
            self.deliver(Rc::new(frame));
        }
    }

    /// `online`, `visibilitychange`, and a slow poll of the token source.
    pub(super) fn listen_to_the_page(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut listeners = Vec::new();
        let weak = self.weak();
        listeners.push(EventListener::new(&window, "online", move |_| {
            if let Some(h) = WsHandle::from_weak(&weak) {
                h.feed(Event::Online);
            }
        }));
        if let Some(document) = window.document() {
            let weak = self.weak();
            let doc = document.clone();
            listeners.push(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    if doc.visibility_state() == web_sys::VisibilityState::Visible
                        && let Some(h) = WsHandle::from_weak(&weak)
                    {
                        h.feed(Event::Visible);
                    }
                },
            ));
        }
        self.0.background.replace(listeners);
        let weak = self.weak();
        let poll = Interval::new(TOKEN_POLL.as_millis() as u32, move || {
            if let Some(h) = WsHandle::from_weak(&weak) {
                let token = h.0.token.token();
                let changed = *h.0.last_token.borrow() != token && h.status() != Status::Connected;
                if changed {
                    h.0.last_token.replace(token);
                    h.regroup();
                    h.feed(Event::TokenChanged);
                }
            }
        });
        self.0.token_poll.replace(Some(poll));
    }
}
