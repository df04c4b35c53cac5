//! The subscription registry: who receives which channel, in what order.
//!
//! The registry is generic over the handler so it stays free of any UI framework: the kit
//! stores Yew callbacks in it, tests store plain values. Dispatch order is the order of
//! subscription, always. A handler is looked up by value ([`Subscriptions::matching`] clones
//! the handles out), so a handler may subscribe or unsubscribe while a frame is being
//! delivered without invalidating the delivery in progress.

use std::borrow::Cow;

use crate::channel::WILDCARD;

/// Identifies one subscription, for [`Subscriptions::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(u64);

/// What a subscription listens to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Every delivered frame (`"*"`).
    All,
    /// One channel.
    Channel(Cow<'static, str>),
}

impl Pattern {
    /// `"*"` becomes [`Pattern::All`], anything else a channel.
    pub fn parse(s: impl Into<Cow<'static, str>>) -> Self {
        let s = s.into();
        if s == WILDCARD {
            Pattern::All
        } else {
            Pattern::Channel(s)
        }
    }

    /// Whether a frame on `channel` matches.
    pub fn matches(&self, channel: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Channel(c) => c == channel,
        }
    }

    /// The pattern as written: `"*"` or the channel name.
    pub fn as_str(&self) -> &str {
        match self {
            Pattern::All => WILDCARD,
            Pattern::Channel(c) => c,
        }
    }
}

#[derive(Debug)]
struct Entry<H> {
    id: SubscriptionId,
    pattern: Pattern,
    handler: H,
}

/// Subscriptions, kept in subscription order.
#[derive(Debug)]
pub struct Subscriptions<H> {
    next_id: u64,
    entries: Vec<Entry<H>>,
}

impl<H> Default for Subscriptions<H> {
    fn default() -> Self {
        Self {
            next_id: 0,
            entries: Vec::new(),
        }
    }
}

impl<H> Subscriptions<H> {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscription. Several subscriptions to one channel are independent.
    pub fn subscribe(&mut self, pattern: Pattern, handler: H) -> SubscriptionId {
        let id = SubscriptionId(self.next_id);
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            pattern,
            handler,
        });
        id
    }

    /// Removes a subscription. Returns `false` when it was already gone, which is harmless:
    /// unsubscribing twice is allowed so that cleanup code never has to track state.
    pub fn unsubscribe(&mut self, id: SubscriptionId) -> bool {
        // Entries are sorted by id, because ids only grow and new entries are pushed.
        match self.entries.binary_search_by_key(&id, |e| e.id) {
            Ok(i) => {
                self.entries.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// How many subscriptions use exactly this pattern (the reference count of a channel).
    pub fn count(&self, pattern: &Pattern) -> usize {
        self.entries
            .iter()
            .filter(|e| &e.pattern == pattern)
            .count()
    }

    /// Total number of subscriptions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no subscriptions.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether anyone listens to `channel`, directly or through `*`.
    pub fn is_wanted(&self, channel: &str) -> bool {
        self.entries.iter().any(|e| e.pattern.matches(channel))
    }

    /// The handlers for a frame on `channel`, in subscription order, cloned out so that the
    /// caller can run them while the registry changes.
    pub fn matching(&self, channel: &str) -> Vec<(SubscriptionId, H)>
    where
        H: Clone,
    {
        self.entries
            .iter()
            .filter(|e| e.pattern.matches(channel))
            .map(|e| (e.id, e.handler.clone()))
            .collect()
    }

    /// Whether `id` is still subscribed. A dispatcher checks this before each call, so a
    /// handler removed by an earlier handler of the same frame is not called.
    pub fn contains(&self, id: SubscriptionId) -> bool {
        self.entries.binary_search_by_key(&id, |e| e.id).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(name: &'static str) -> Pattern {
        Pattern::parse(name)
    }

    #[test]
    fn dispatch_order_is_subscription_order_and_wildcard_matches_all() {
        let mut subs = Subscriptions::new();
        subs.subscribe(ch("b"), "b1");
        subs.subscribe(Pattern::parse("*"), "all");
        subs.subscribe(ch("a"), "a1");
        subs.subscribe(ch("b"), "b2");
        let names: Vec<_> = subs.matching("b").into_iter().map(|(_, h)| h).collect();
        assert_eq!(names, ["b1", "all", "b2"]);
        let names: Vec<_> = subs.matching("zzz").into_iter().map(|(_, h)| h).collect();
        assert_eq!(names, ["all"]);
    }

    #[test]
    fn reference_counts_and_unsubscribe() {
        let mut subs = Subscriptions::new();
        let one = subs.subscribe(ch("a"), 1);
        let two = subs.subscribe(ch("a"), 2);
        assert_eq!(subs.count(&ch("a")), 2);
        assert!(subs.unsubscribe(one));
        assert!(!subs.unsubscribe(one), "second unsubscribe is a no-op");
        assert_eq!(subs.count(&ch("a")), 1);
        assert!(subs.is_wanted("a"));
        assert!(subs.contains(two));
        assert!(subs.unsubscribe(two));
        assert!(!subs.is_wanted("a"));
        assert!(subs.is_empty());
    }
}
