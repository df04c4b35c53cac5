//! Bounded history for charts and counters: at most `capacity` entries, none older than
//! `window`. Memory stays flat however long a shift runs.

use std::collections::VecDeque;
use std::time::Duration;

use crate::time::Instant;

/// A ring of timestamped values, bounded by count and by age.
#[derive(Clone, Debug, PartialEq)]
pub struct Ring<T> {
    capacity: usize,
    window: Option<Duration>,
    items: VecDeque<(Instant, T)>,
}

impl<T> Ring<T> {
    /// Keeps the last `capacity` entries (at least 1), and with `window`, none older than it
    /// relative to the newest.
    pub fn new(capacity: usize, window: Option<Duration>) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            window,
            items: VecDeque::with_capacity(capacity),
        }
    }

    /// Appends a value, evicting the oldest beyond the bounds.
    pub fn push(&mut self, at: Instant, value: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back((at, value));
        if let Some(window) = self.window {
            while let Some((first, _)) = self.items.front() {
                if at.saturating_since(*first) <= window {
                    break;
                }
                self.items.pop_front();
            }
        }
    }

    /// Removes every entry for which `keep` is false, e.g. simulated points once live data
    /// returns.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|(_, v)| keep(v));
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Entries, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &(Instant, T)> + ExactSizeIterator {
        self.items.iter()
    }

    /// The newest entry.
    pub fn last(&self) -> Option<&(Instant, T)> {
        self.items.back()
    }

    /// Appends a value, or replaces the newest when it has the same instant: the latest value
    /// at a moment is the one that stands (a snapshot's frames, applied within a millisecond,
    /// leave one point, not a ramp).
    pub fn push_or_replace(&mut self, at: Instant, value: T) {
        if self.items.back().is_some_and(|(last, _)| *last == at) {
            self.items.pop_back();
        }
        self.push(at, value);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The count bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Instant {
        Instant::from_millis(s * 1000)
    }

    #[test]
    fn bounded_by_count_and_by_age() {
        let mut r = Ring::new(3, Some(Duration::from_secs(10)));
        for s in 0..5 {
            r.push(at(s), s);
        }
        assert_eq!(r.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [2, 3, 4]);
        r.push(at(20), 20);
        assert_eq!(
            r.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            [20],
            "older than 10 s is gone"
        );
        r.push_or_replace(at(20), 21);
        r.push_or_replace(at(21), 22);
        assert_eq!(r.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [21, 22]);
        r.retain(|v| *v < 20);
        assert!(r.is_empty());
        assert_eq!(Ring::<u8>::new(0, None).capacity(), 1);
    }
}
