//! Outbound frames (send, outbox, rate limit), warnings, and the bookkeeping after every
//! event: the one timer and the status snapshot.

use std::borrow::Cow;

use super::*;

impl Connection {
    pub(super) fn send_text(
        &mut self,
        now: Instant,
        text: String,
    ) -> Result<SendOutcome, SendError> {
        let open = match self.phase {
            Phase::Open { socket, .. } => Some(socket),
            _ => None,
        };
        if let Some(socket) = open
            && self.outbox.is_empty()
        {
            if self.bucket.try_take(now) {
                self.commands.push_back(Command::Send(socket, text));
                self.stats.frames_out += 1;
                return Ok(SendOutcome::Sent);
            }
            if self.config.outbox.is_none() {
                self.stats.rate_limited += 1;
                self.warn(now, Cow::Borrowed("rate_limited"), || {
                    "outbound rate limit reached; dropped a frame".to_owned()
                });
                return Err(SendError::RateLimited);
            }
        }
        let Some(outbox) = &self.config.outbox else {
            self.stats.send_refused += 1;
            self.warn(now, Cow::Borrowed("not_connected"), || {
                "WebSocket is not connected; dropped an outbound frame".to_owned()
            });
            return Err(SendError::NotConnected);
        };
        let max_len = outbox.max_len;
        self.expire_outbox(now);
        if self.outbox.len() >= max_len {
            self.stats.outbox_overflow += 1;
            return Err(SendError::OutboxFull);
        }
        self.outbox.push_back((now, text));
        if open.is_some() {
            self.flush_outbox(now);
        }
        Ok(SendOutcome::Queued)
    }

    fn expire_outbox(&mut self, now: Instant) {
        let Some(outbox) = &self.config.outbox else {
            return;
        };
        let max_age = outbox.max_age;
        while let Some((queued, _)) = self.outbox.front() {
            if now.saturating_since(*queued) <= max_age {
                break;
            }
            self.outbox.pop_front();
            self.stats.outbox_expired += 1;
        }
    }

    /// Sends queued frames, oldest first, as far as the rate limit allows.
    pub(super) fn flush_outbox(&mut self, now: Instant) {
        let Phase::Open { socket, .. } = self.phase else {
            return;
        };
        self.expire_outbox(now);
        while !self.outbox.is_empty() && self.bucket.try_take(now) {
            if let Some((_, text)) = self.outbox.pop_front() {
                self.commands.push_back(Command::Send(socket, text));
                self.stats.frames_out += 1;
            }
        }
    }

    /// Emits a warning unless one of the same `kind` went out within `warn_every`.
    pub(super) fn warn(
        &mut self,
        now: Instant,
        kind: Cow<'static, str>,
        message: impl FnOnce() -> String,
    ) {
        let due = self
            .warned
            .get(&kind)
            .is_none_or(|last| now.saturating_since(*last) >= self.config.warn_every);
        if due {
            self.commands.push_back(Command::Warn(message()));
            self.warned.insert(kind, now);
        }
    }

    /// The earliest moment something must be checked, given the phase.
    fn deadline(&mut self, now: Instant) -> Option<Instant> {
        let phase = self.phase_deadline(now);
        // An action's answer is awaited in every phase: offline, it still becomes "no
        // answer" on time.
        match (phase, self.actions.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn phase_deadline(&mut self, now: Instant) -> Option<Instant> {
        match self.phase {
            Phase::Opening { started, .. } => Some(started.plus(self.config.connect_timeout)),
            Phase::Open { since, .. } => {
                let stable = (self.attempt > 0 || self.restarted)
                    .then(|| since.plus(self.config.stable_after));
                let stale = self.stale_limit().map(|limit| self.quiet_since.plus(limit));
                let token = (!self.outbox.is_empty()).then(|| self.bucket.next_token_at(now));
                let resync = self.answer_due().map(|(due, _)| due);
                [stable, stale, token, resync].into_iter().flatten().min()
            }
            Phase::Waiting { due } | Phase::Probing { due } => Some(due),
            Phase::Idle | Phase::Failed | Phase::Stopped => None,
        }
    }

    /// Re-arms the timer and republishes the snapshot when they changed.
    pub(super) fn after(&mut self, now: Instant) {
        let deadline = self.deadline(now);
        // A deadline that moves later keeps the armed timer, which fires early, finds
        // nothing due and arms the next: every frame moves the staleness deadline, and
        // re-arming a browser timer for each one cost more than handling the frame.
        let rearm = match (deadline, self.armed) {
            (Some(due), Some(armed)) if !self.timer_spent => due < armed,
            (due, armed) => due != armed || (self.timer_spent && due.is_some()),
        };
        if rearm {
            self.armed = deadline;
            self.timer_spent = false;
            self.commands.push_back(Command::Timer(deadline));
        }
        let (status, next_retry_at, connected_since) = match self.phase {
            Phase::Idle | Phase::Stopped => (Status::Disconnected, None, None),
            Phase::Opening { .. } => (Status::Connecting, None, None),
            Phase::Open { since, .. } => (Status::Connected, None, Some(since)),
            Phase::Waiting { due } => (Status::Connecting, Some(due), None),
            Phase::Probing { due } => (Status::Disconnected, Some(due), None),
            Phase::Failed => (Status::Error, None, None),
        };
        let snapshot = StatusSnapshot {
            status,
            attempt: self.attempt,
            max_attempts: self.config.backoff.max_attempts,
            next_retry_at,
            gave_up: self.probing,
            last_close: self.last_close.clone(),
            connected_since,
            error: self.error.clone(),
            down_since: self.down_since,
        };
        if snapshot != self.snapshot {
            self.snapshot = snapshot;
            self.commands.push_back(Command::StatusChanged);
        }
    }
}
