//! Time as a value. The core never reads a clock: every event carries `now`.
//!
//! [`Instant`] is wall-clock milliseconds since the Unix epoch, because the browser's only
//! clock that keeps counting through a laptop's sleep is `Date.now()`. Wall clocks can step
//! backwards, so every difference saturates at zero instead of panicking or wrapping.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later (the clock stepped back).
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// The time from `self` until `later`, or zero when `later` has passed.
    pub fn until(self, later: Instant) -> Duration {
        later.saturating_since(self)
    }

    /// `self + d`, saturating at the far future.
    pub fn plus(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2025-10-16T12:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let t = UNIX_EPOCH + Duration::from_millis(self.0);
        humantime::format_rfc3339_millis(t).to_string()
    }

    /// Parses an RFC 3339 UTC timestamp. A missing `Z` is accepted, because Python's
    /// `datetime.utcnow().isoformat()` (the reference backend) omits it.
    pub fn parse_rfc3339(s: &str) -> Option<Instant> {
        let t: SystemTime = humantime::parse_rfc3339_weak(s).ok()?;
        let ms = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
        u64::try_from(ms).ok().map(Instant)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339() {
        let t = Instant::from_millis(1_760_616_000_000);
        assert_eq!(t.to_rfc3339(), "2025-10-16T12:00:00.000Z");
        assert_eq!(Instant::parse_rfc3339("2025-10-16T12:00:00Z"), Some(t));
        assert_eq!(
            Instant::parse_rfc3339("2025-10-16T12:00:00.250"),
            Some(t.plus(Duration::from_millis(250)))
        );
        assert_eq!(Instant::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn differences_saturate_when_the_clock_steps_back() {
        let a = Instant::from_millis(10_000);
        let b = Instant::from_millis(4_000);
        assert_eq!(a.saturating_since(b), Duration::from_secs(6));
        assert_eq!(b.saturating_since(a), Duration::ZERO);
        assert_eq!(
            Instant::from_millis(u64::MAX)
                .plus(Duration::from_secs(1))
                .as_millis(),
            u64::MAX
        );
    }
}
