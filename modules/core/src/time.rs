//! Time as a value. The core never reads a clock: every event carries `now`.
//!
//! [`Instant`] is wall-clock milliseconds since the Unix epoch, because the browser's only
//! clock that keeps counting through a laptop's sleep is `Date.now()`. Wall clocks can step
//! backwards, so every difference saturates at zero instead of panicking or wrapping.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

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

    /// Parses an RFC 3339 timestamp with any offset (`Z`, `+05:30`, `-08:00`) and any
    /// fractional seconds, as the instant it names. A stamp with no offset at all is read as
    /// UTC, because Python's `datetime.utcnow().isoformat()` (the reference backend) writes
    /// none. Instants before 1970 read as the epoch. The parsing is the `time` crate's.
    pub fn parse_rfc3339(s: &str) -> Option<Instant> {
        use ::time::OffsetDateTime;
        use ::time::format_description::well_known::Rfc3339;
        let parsed = OffsetDateTime::parse(s, &Rfc3339).or_else(|_| {
            // Only a stamp whose time part has no offset gets a `Z`; anything else stays an
            // error (`2025-10-16` alone, `…+05` without minutes).
            let time_part = s.split_once(['T', 't', ' ']).map_or("", |(_, t)| t);
            if time_part.contains(['Z', 'z', '+', '-']) || s.len() > 64 {
                return Err(());
            }
            OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339).map_err(|_| ())
        });
        let ms = parsed.ok()?.unix_timestamp_nanos() / 1_000_000;
        Some(Instant(u64::try_from(ms.max(0)).unwrap_or(u64::MAX)))
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
    fn any_offset_names_the_same_instant() {
        let noon = Instant::from_millis(1_760_616_000_000); // 2025-10-16T12:00:00Z
        for same in [
            "2025-10-16T12:00:00Z",
            "2025-10-16T12:00:00z",
            "2025-10-16T12:00:00+00:00",
            "2025-10-16T17:30:00+05:30",
            "2025-10-16T04:00:00-08:00",
            "2025-10-16T12:00:00",
            "2025-10-16T12:00:00.000000",
            "2025-10-16T12:00:00.000000000Z",
        ] {
            assert_eq!(Instant::parse_rfc3339(same), Some(noon), "{same}");
        }
        let late = Instant::parse_rfc3339("2025-10-16T12:00:00.987654321+00:00");
        assert_eq!(late, Some(noon.plus(Duration::from_millis(987))));
        assert_eq!(
            Instant::parse_rfc3339("1969-12-31T23:59:59Z"),
            Some(Instant::from_millis(0)),
            "before the epoch reads as the epoch"
        );
        assert_eq!(
            Instant::parse_rfc3339("9999-12-31T23:59:59Z").map(|i| i.as_millis()),
            Some(253_402_300_799_000)
        );
        for bad in [
            "2025-10-16",
            "2025-10-16T12:00:00+05",
            "2025-13-16T12:00:00Z",
            "2025-10-16T12:00:00+25:00",
            "",
            "T",
        ] {
            assert_eq!(Instant::parse_rfc3339(bad), None, "{bad}");
        }
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
