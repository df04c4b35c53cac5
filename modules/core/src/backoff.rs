//! Reconnect delays: `min(interval * 2^attempt, max_delay)`, plus jitter.
//!
//! The jitter is drawn from a random source the caller passes in, so tests can assert the
//! exact sequence for a seed, and many dashboards that lost the same server do not come
//! back in lockstep.

use std::time::Duration;

/// The reconnect policy. Defaults are the reference's: 3 s, 30 s, 10 attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay (`reconnectInterval`).
    pub interval: Duration,
    /// The cap on the exponential part.
    pub max_delay: Duration,
    /// Automatic attempts before giving up and falling back to the slow probe.
    pub max_attempts: u32,
    /// Extra random delay, as a fraction of the capped delay: `0.2` adds up to 20 %.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3),
            max_delay: Duration::from_secs(30),
            max_attempts: 10,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay without jitter before retry number `attempt` (0 for the first retry).
    pub fn base_delay(&self, attempt: u32) -> Duration {
        // 2^attempt overflows quickly; past 2^20 the cap has long been reached.
        let factor = 1u32 << attempt.min(20);
        self.interval.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay before retry number `attempt`, with jitter in `[0, jitter * base)` added.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let base = self.base_delay(attempt);
        let jitter = self.jitter.clamp(0.0, 1.0);
        base + base.mul_f64(jitter * rng.f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_sequence_without_jitter() {
        let b = Backoff::default();
        let secs: Vec<u64> = (0..8).map(|a| b.base_delay(a).as_secs()).collect();
        assert_eq!(secs, [3, 6, 12, 24, 30, 30, 30, 30]);
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn jitter_stays_within_bounds_and_is_reproducible() {
        let b = Backoff::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let first: Vec<Duration> = (0..10).map(|a| b.delay(a, &mut rng)).collect();
        let mut rng = fastrand::Rng::with_seed(7);
        let again: Vec<Duration> = (0..10).map(|a| b.delay(a, &mut rng)).collect();
        assert_eq!(first, again, "same seed, same delays");
        for (a, d) in (0..10).zip(&first) {
            let base = b.base_delay(a);
            assert!(
                *d >= base && *d < base.mul_f64(1.2),
                "attempt {a}: {d:?} vs {base:?}"
            );
        }
        assert_ne!(
            first[4], first[5],
            "jitter varies between equal base delays"
        );
    }

    #[test]
    fn zero_jitter_is_exact() {
        let b = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(b.delay(2, &mut rng), Duration::from_secs(12));
    }
}
