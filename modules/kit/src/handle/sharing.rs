//! A [`WsHandle`] that shares its connection with the browser's other tabs (see
//! `switchboard_core::share` and [`crate::share`]): the machine's outputs carried out, and
//! the connection's virtual sockets carried to it.

use std::rc::Rc;

use switchboard_core::share::{Input, Output, Role, Tab, TabId, Upstream, VirtualEvent, group};
use switchboard_core::{Command, Event};

use super::{WsHandle, now};
use crate::share::{Heard, Share};
use crate::transport::SocketEvent;

impl WsHandle {
    /// Joins the module's group of tabs when this handle shares and the browser can; the
    /// machine then starts the connection once it knows its role. `false`: start alone.
    pub(super) fn begin_sharing(&self, started: bool) -> bool {
        let Some(options) = self.0.share_options.as_ref() else {
            return false;
        };
        if !crate::share::supported() {
            return false;
        }
        let token = self.0.token.token();
        let name = group(options.module, &self.0.url, token.as_deref());
        let id = TabId((js_sys::Math::random() * u64::MAX as f64) as u64);
        let mut tab = Tab::new(id, options.module, options.keep, now());
        if started {
            tab.started_already();
        }
        let Some(share) = Share::join(name, tab) else {
            return false;
        };
        let weak = self.weak();
        share.listen(move |text| {
            if let Some(h) = WsHandle::from_weak(&weak) {
                h.share_input(Input::Message(&text));
            }
        });
        let weak = self.weak();
        share.on_soon(move || {
            if let Some(h) = WsHandle::from_weak(&weak)
                && let Some(share) = h.share()
            {
                share.ran();
                share.tab.borrow_mut().flush();
                h.pump_share();
            }
        });
        let weak = self.weak();
        share.on_lifecycle(move |frozen| {
            if let Some(h) = WsHandle::from_weak(&weak) {
                h.share_input(if frozen { Input::Freeze } else { Input::Resume });
            }
        });
        self.0.conn.borrow_mut().set_relaying(true);
        self.0.share.replace(Some(Rc::new(share)));
        self.share_input(Input::Start);
        true
    }

    /// The token changed: a tab with another token belongs to another group. The old
    /// group's lock goes (handing over, if this tab led), and the new group decides.
    pub(super) fn regroup(&self) {
        let Some(options) = self.0.share_options.as_ref() else {
            return;
        };
        let token = self.0.token.token();
        let name = group(options.module, &self.0.url, token.as_deref());
        if self.share().is_none_or(|s| s.group == name) {
            return;
        }
        self.share_input(Input::Freeze);
        self.0.share.replace(None);
        self.begin_sharing(true);
    }

    /// Connects on its own after all: the browser refused the lock request.
    fn stop_sharing(&self) {
        let Some(share) = self.0.share.replace(None) else {
            return;
        };
        web_sys::console::warn_1(
            &format!(
                "[{}] cannot share the connection across tabs ({}); connecting on its own",
                self.0.url, share.group
            )
            .into(),
        );
        drop(share);
        self.0.conn.borrow_mut().set_relaying(false);
        let idle = self.0.conn.borrow().current_socket().is_none();
        self.feed(if idle { Event::Start } else { Event::Reconnect });
    }

    pub(super) fn share(&self) -> Option<Rc<Share>> {
        self.0.share.borrow().clone()
    }

    /// This tab's part in sharing the module's connection, when it shares.
    pub fn share_role(&self) -> Option<Role> {
        self.share().map(|s| s.tab.borrow().role())
    }

    pub(super) fn share_input(&self, input: Input<'_>) {
        let Some(share) = self.share() else {
            return;
        };
        share.tab.borrow_mut().handle(now(), input);
        self.pump_share();
    }

    /// A command of the connection, before it runs: the machine keeps the feed and relays
    /// it, and takes the virtual sockets' opens, sends and closes.
    pub(super) fn share_command(&self, command: &Command) -> bool {
        let Some(share) = self.share() else {
            return false;
        };
        let mut tab = share.tab.borrow_mut();
        tab.observe(now(), command);
        if let Command::StatusChanged = command {
            tab.upstream(Upstream::of(&self.0.conn.borrow()));
        }
        tab.take(command)
    }

    /// Posts what was gathered for the followers and carries out the machine's outputs.
    pub(super) fn pump_share(&self) {
        let Some(share) = self.share() else {
            return;
        };
        // What was gathered goes out in a task of its own, after the socket events queued
        // now: one message for all of them (or at once, where there is no such task).
        let pending = share.tab.borrow().has_pending();
        if pending && !share.soon() {
            share.tab.borrow_mut().flush();
        }
        loop {
            let Some(output) = share.tab.borrow_mut().poll() else {
                return;
            };
            match output {
                Output::Lock(kind) => {
                    let weak = self.weak();
                    let asked = share.request(kind, move |id, generation, heard| {
                        match WsHandle::from_weak(&weak) {
                            Some(h) => h.lock_heard(id, generation, heard),
                            // Granted to a handle that is gone: let it go at once.
                            None => {
                                if let Heard::Granted(release) = heard {
                                    let _ = release.call0(&wasm_bindgen::JsValue::UNDEFINED);
                                }
                            }
                        }
                    });
                    if !asked {
                        self.stop_sharing();
                        return;
                    }
                }
                Output::Release => share.release(),
                Output::Post(message) => share.post(&message),
                Output::Start => self.feed(Event::Start),
                Output::Reconnect => {
                    let has_socket = self.0.conn.borrow().current_socket().is_some();
                    self.feed(if has_socket {
                        Event::Reconnect
                    } else {
                        Event::Online
                    });
                }
                Output::Nudge => self.feed(Event::Online),
                Output::Socket(socket, event) => {
                    let event = match event {
                        VirtualEvent::Opened => SocketEvent::Opened,
                        VirtualEvent::Closed { code, reason } => {
                            SocketEvent::Closed { code, reason }
                        }
                        VirtualEvent::Text(text) => SocketEvent::Text(text),
                    };
                    self.0.inbox.borrow_mut().push(socket, event);
                    self.drain();
                }
                Output::Forward(text) => {
                    let sent = self.0.conn.borrow_mut().forward(now(), text);
                    drop(sent);
                    self.run_commands();
                }
            }
        }
    }

    fn lock_heard(&self, id: u64, generation: u64, heard: Heard) {
        let Some(share) = self.share() else {
            if let Heard::Granted(release) = heard {
                let _ = release.call0(&wasm_bindgen::JsValue::UNDEFINED);
            }
            return;
        };
        let input = match heard {
            Heard::Granted(release) => share
                .granted(id, generation, release)
                .then_some(Input::Granted),
            Heard::Unavailable => share.current(generation).then_some(Input::Unavailable),
            Heard::Ended => share.ended(id).then_some(Input::Lost),
        };
        if let Some(input) = input {
            self.share_input(input);
        }
    }
}
