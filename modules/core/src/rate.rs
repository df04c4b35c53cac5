//! A token bucket for outbound frames, with time passed in.
//!
//! The server enforces its own limit (the reference suggests 100 frames a minute) and closes
//! the socket when it is exceeded; this bucket stops a runaway component before that happens.
//! A crate such as `governor` reads its own clock, which a sans-IO core cannot allow, so this
//! is the dozen lines the job needs.

use std::time::Duration;

use crate::time::Instant;

/// Token-bucket settings: `burst` frames at once, refilled at `per_second`.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Bucket size: how many frames may go out back to back.
    pub burst: u32,
    /// Sustained rate, in frames per second.
    pub per_second: f64,
}

impl Default for RateLimit {
    /// 20 at once, then 1.5 a second: under the reference backend's 100 a minute.
    fn default() -> Self {
        Self {
            burst: 20,
            per_second: 1.5,
        }
    }
}

/// The bucket's state.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    updated: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> Self {
        let tokens = f64::from(limit.burst);
        Self {
            limit,
            tokens,
            updated: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(then) = self.updated {
            let earned = now.saturating_since(then).as_secs_f64() * self.limit.per_second;
            self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst));
        }
        self.updated = Some(now);
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be available (now, if one is).
    pub fn next_token_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 || self.limit.per_second <= 0.0 {
            return now;
        }
        let wait = (1.0 - self.tokens) / self.limit.per_second;
        now.plus(Duration::from_secs_f64(wait))
            .plus(Duration::from_millis(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(RateLimit {
            burst: 3,
            per_second: 2.0,
        });
        let t0 = Instant::from_millis(1_000);
        assert!((0..3).all(|_| b.try_take(t0)));
        assert!(!b.try_take(t0));
        let next = b.next_token_at(t0);
        assert_eq!(next, Instant::from_millis(1_501));
        assert!(!b.try_take(Instant::from_millis(1_400)));
        assert!(b.try_take(next));
        // A long pause refills only up to the burst.
        let later = Instant::from_millis(100_000);
        assert!((0..3).all(|_| b.try_take(later)));
        assert!(!b.try_take(later));
    }
}
