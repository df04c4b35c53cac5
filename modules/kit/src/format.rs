//! Number formatting shared by the modules' views.

use std::time::Duration;

/// What a figure reads when it is unknown (no data, no feed): never a zero.
pub const UNKNOWN: &str = "—";

/// Bytes in decimal units, as ISPs bill: `950 B`, `1.5 kB`, `5.2 MB`, `1.2 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A bit rate from bytes per second: `800 bit/s`, `1.2 Mbit/s`.
pub fn rate(bytes_per_sec: f64) -> String {
    let bits = (bytes_per_sec * 8.0).max(0.0);
    let (value, unit) = match bits {
        b if b >= 1e9 => (b / 1e9, "Gbit/s"),
        b if b >= 1e6 => (b / 1e6, "Mbit/s"),
        b if b >= 1e3 => (b / 1e3, "kbit/s"),
        b => return format!("{b:.0} bit/s"),
    };
    format!("{value:.1} {unit}")
}

/// A session length: `42 s`, `3:07`, `1:02:03`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{}:{:02}", s / 60, s % 60),
        _ => format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1500), "1.5 kB");
        assert_eq!(bytes(5_242_880), "5.2 MB");
        assert_eq!(bytes(999_960), "1.0 MB");
        assert_eq!(bytes(u64::MAX), "18446.7 PB");
        assert_eq!(rate(100.0), "800 bit/s");
        assert_eq!(rate(150_000.0), "1.2 Mbit/s");
        assert_eq!(rate(-5.0), "0 bit/s");
        assert_eq!(clock(Duration::from_secs(42)), "42 s");
        assert_eq!(clock(Duration::from_secs(187)), "3:07");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
    }
}
