//! The transitions of [`Connection`]: one function per concern, all pure.

use super::*;

impl Connection {
    pub(super) fn dispatch(&mut self, now: Instant, event: Event<'_>) {
        match event {
            Event::Start => {
                if self.config.auto_connect && self.phase == Phase::Idle {
                    self.open(now);
                }
            }
            Event::Connect => {
                if self.current_socket().is_none() {
                    self.restart(now);
                }
            }
            Event::Reconnect => {
                self.close_current(CLOSE_NORMAL, "reconnect requested");
                self.restart(now);
            }
            Event::Disconnect => {
                self.close_current(CLOSE_NORMAL, "disconnect requested");
                self.phase = Phase::Stopped;
            }
            Event::Opened { socket, token } => {
                if let Phase::Opening { socket: s, .. } = self.phase
                    && s == socket
                {
                    self.on_open(now, socket, token.as_deref());
                }
            }
            Event::Closed {
                socket,
                code,
                reason,
            } => {
                if self.current_socket() == Some(socket) {
                    self.on_close(now, code, reason);
                }
            }
            Event::Text { socket, text } => self.on_frame(now, socket, Ok(text)),
            Event::Binary { socket } => self.on_frame(now, socket, Err(DropReason::Binary)),
            Event::Oversized { socket } => self.on_frame(now, socket, Err(DropReason::TooLarge)),
            Event::Lost { socket, frames } => {
                if matches!(self.phase, Phase::Open { socket: s, .. } if s == socket) {
                    self.on_lost(now, frames);
                }
            }
            Event::Tick => self.on_tick(now),
            Event::Online | Event::Visible => self.on_wake(now),
            Event::TokenChanged => {
                if !self.actions.give_up_all(now).is_empty() {
                    self.commands.push_back(Command::ActionsChanged);
                }
                if matches!(
                    self.phase,
                    Phase::Failed | Phase::Waiting { .. } | Phase::Probing { .. }
                ) {
                    self.restart(now);
                }
            }
        }
    }

    /// A fresh start requested by the user or a new token: the attempt counter starts over.
    fn restart(&mut self, now: Instant) {
        self.attempt = 0;
        self.probing = false;
        self.error = None;
        self.open(now);
    }

    fn open(&mut self, now: Instant) {
        if self.next_socket > 0 {
            self.stats.reconnects += 1;
        }
        let socket = SocketId(self.next_socket);
        self.next_socket += 1;
        self.phase = Phase::Opening {
            socket,
            started: now,
        };
        self.commands.push_back(Command::Open(socket));
    }

    fn close_current(&mut self, code: u16, reason: &'static str) {
        if let Some(socket) = self.current_socket() {
            self.commands.push_back(Command::Close {
                socket,
                code,
                reason,
            });
        }
    }

    fn on_open(&mut self, now: Instant, socket: SocketId, token: Option<&str>) {
        self.phase = Phase::Open { socket, since: now };
        self.down_since = None;
        self.quiet_since = now;
        self.tracker.opened();
        self.forget_socket();
        // The auth frame always goes first; it is exempt from the rate limit. With resume on,
        // it carries the last applied position, which a reference server ignores.
        let resume = self
            .config
            .resume
            .then(|| resume::ResumeRequest::at(self.tracker.position()));
        self.commands
            .push_back(Command::Send(socket, encode_auth(token, resume)));
        self.stats.frames_out += 1;
        // This socket's grants come after its auth; until then, no action is offered.
        if self.grants.take().is_some() {
            self.commands.push_back(Command::ActionsChanged);
        }
        // Actions still waiting for an answer go again: the server carries out a request id
        // once and answers it again, so one sent just before the old socket died is safe.
        for text in self.actions.resend() {
            self.commands
                .push_back(Command::Send(socket, text.to_owned()));
            self.stats.frames_out += 1;
        }
        self.flush_outbox(now);
    }

    fn on_close(&mut self, now: Instant, code: u16, reason: String) {
        self.down_since.get_or_insert(now);
        self.forget_socket();
        self.last_close = Some(CloseInfo {
            code,
            reason: reason.clone(),
            at: now,
        });
        if self.config.is_fatal(code) {
            let error = match code {
                crate::config::CLOSE_POLICY => ConnectionError::PolicyViolation { reason },
                crate::config::CLOSE_FORBIDDEN => ConnectionError::Forbidden { reason },
                c if crate::config::DEFAULT_FATAL_CLOSE_CODES.contains(&c) => {
                    ConnectionError::AuthRejected {
                        code: Some(code),
                        reason,
                    }
                }
                _ => ConnectionError::Fatal { code, reason },
            };
            self.error = Some(error);
            self.phase = Phase::Failed;
        } else if code == crate::config::CLOSE_RESTART && !self.restarted {
            // A node going away: another takes the connection now, not after the backoff.
            self.restarted = true;
            let jitter = self.config.restart_jitter.mul_f64(self.rng.f64());
            self.phase = Phase::Waiting {
                due: now.plus(jitter),
            };
        } else {
            self.schedule_retry(now);
        }
    }

    /// A fatal condition seen on an open socket: close it and stop.
    pub(super) fn fail(&mut self, now: Instant, error: ConnectionError) {
        self.down_since.get_or_insert(now);
        self.close_current(CLOSE_NORMAL, "authentication rejected");
        if let ConnectionError::AuthRejected { reason, .. } = &error {
            self.last_close = Some(CloseInfo {
                code: 4001,
                reason: reason.clone(),
                at: now,
            });
        }
        self.error = Some(error);
        self.phase = Phase::Failed;
    }

    fn schedule_retry(&mut self, now: Instant) {
        let backoff = &self.config.backoff;
        if !self.probing && self.attempt < backoff.max_attempts {
            let delay = backoff.delay(self.attempt, &mut self.rng);
            self.attempt += 1;
            self.phase = Phase::Waiting {
                due: now.plus(delay),
            };
        } else {
            self.probing = true;
            self.phase = Phase::Probing {
                due: now.plus(self.config.probe_interval),
            };
        }
    }

    fn on_frame(&mut self, now: Instant, socket: SocketId, text: Result<&str, DropReason>) {
        if !matches!(self.phase, Phase::Open { socket: s, .. } if s == socket) {
            return;
        }
        self.stats.frames_in += 1;
        self.quiet_since = now;
        if let Err(reason) = text.and_then(|t| self.accept_text(now, t)) {
            self.dropped(now, reason);
        }
    }

    fn on_tick(&mut self, now: Instant) {
        self.timer_spent = true;
        if !self.actions.expire(now).is_empty() {
            self.commands.push_back(Command::ActionsChanged);
        }
        let woke = self
            .armed
            .is_some_and(|at| now.saturating_since(at) > self.config.wake_gap);
        match self.phase {
            Phase::Opening { socket, started } => {
                if now.saturating_since(started) >= self.config.connect_timeout {
                    self.commands.push_back(Command::Close {
                        socket,
                        code: CLOSE_NORMAL,
                        reason: CONNECT_TIMEOUT,
                    });
                    self.on_close(now, CLOSE_ABNORMAL, CONNECT_TIMEOUT.to_owned());
                }
            }
            Phase::Open { socket, since } => {
                if now.saturating_since(since) >= self.config.stable_after {
                    self.attempt = 0;
                    self.probing = false;
                    self.restarted = false;
                }
                if woke {
                    // Judge the connection on what happens next, not on the time we slept.
                    self.quiet_since = now;
                }
                if let Some((due, why)) = self.answer_due()
                    && now >= due
                {
                    self.commands.push_back(Command::Close {
                        socket,
                        code: CLOSE_UNANSWERED,
                        reason: "resync timeout",
                    });
                    self.on_close(now, CLOSE_ABNORMAL, why.to_owned());
                    return;
                }
                if let Some(limit) = self.stale_limit()
                    && now.saturating_since(self.quiet_since) >= limit
                {
                    self.commands.push_back(Command::Close {
                        socket,
                        code: CLOSE_UNANSWERED,
                        reason: "stale",
                    });
                    self.on_close(
                        now,
                        CLOSE_ABNORMAL,
                        "no frames within the staleness limit".to_owned(),
                    );
                    return;
                }
                self.flush_outbox(now);
            }
            Phase::Waiting { due } | Phase::Probing { due } => {
                if now >= due {
                    self.open(now);
                }
            }
            Phase::Idle | Phase::Failed | Phase::Stopped => {}
        }
    }

    /// Silence longer than this closes an open socket: the tighter of the module's own limit
    /// (which knows its data's cadence) and the one the server's announced heartbeat implies
    /// (which covers modules whose data is bursty and have no limit of their own).
    pub(super) fn stale_limit(&self) -> Option<std::time::Duration> {
        match (self.tracker.stale_limit(), self.config.stale_after) {
            (Some(announced), Some(own)) => Some(announced.min(own)),
            (announced, own) => announced.or(own),
        }
    }

    fn on_wake(&mut self, now: Instant) {
        match self.phase {
            Phase::Waiting { .. } | Phase::Probing { .. } => self.open(now),
            Phase::Open { .. } => self.quiet_since = now,
            _ => {}
        }
    }
}
