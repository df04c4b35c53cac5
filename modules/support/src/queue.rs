//! The support views' model, without a browser: the active queue sorted by priority then age,
//! open tickets by priority, and SLA breaches. Closed tickets leave the queue.
//!
//! Bounded by count and by bytes: at most [`MAX_TICKETS`] tickets, each string cut (see
//! [`Queue::apply`]), so the queue holds well under 1 MiB whatever arrives. When it is full,
//! the least important ticket makes room: resolved tickets first, oldest first; then active
//! ones, lowest priority first and newest first. An urgent open ticket is never evicted while
//! a less important one remains. Every ticket evicted or refused is counted in
//! [`Queue::not_kept`], which the page shows.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

use switchboard_core::Instant;
use switchboard_core::text::clip;

use crate::data::{Priority, TicketStatus, TicketUpdate};

/// Tickets older than this breach the response SLA.
pub const DEFAULT_SLA: Duration = Duration::from_secs(2 * 3600);
/// Most tickets kept in the queue.
pub const MAX_TICKETS: usize = 1000;
/// Longest subject kept, in characters.
pub const SUBJECT_CHARS: usize = 200;
/// Longest id, assignee or timestamp kept, in characters.
pub const SHORT_CHARS: usize = 64;

/// A ticket with its opening time read once, as an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// The ticket as last reported, its strings cut.
    pub update: TicketUpdate,
    /// `created_at` as an instant; `None` when it is not an RFC 3339 timestamp.
    pub created: Option<Instant>,
}

impl Deref for Ticket {
    type Target = TicketUpdate;
    fn deref(&self) -> &TicketUpdate {
        &self.update
    }
}

impl Ticket {
    /// How long the ticket has been open at `now`; `None` when its opening time is unknown.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.created.map(|c| c.until(now))
    }

    /// Lower is evicted first (see the module docs).
    fn keep_rank(&self) -> (u8, u8, u64) {
        let created = self.created.map_or(0, Instant::as_millis);
        if self.status.is_active() {
            let priority = match self.priority {
                Priority::Low => 0,
                Priority::Normal => 1,
                Priority::High => 2,
                Priority::Urgent => 3,
            };
            (1, priority, u64::MAX - created)
        } else {
            (0, 0, created)
        }
    }
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    tickets: BTreeMap<String, Ticket>,
    not_kept: u64,
}

impl Queue {
    /// Applies a ticket update, its strings cut to [`SUBJECT_CHARS`] and [`SHORT_CHARS`].
    /// Live and simulated tickets go to separate queues (the module's store keeps them
    /// apart), so a queue never mixes the two.
    pub fn apply(&mut self, mut t: TicketUpdate) {
        t.ticket_id = clip(t.ticket_id, SHORT_CHARS);
        if t.status == TicketStatus::Closed {
            self.tickets.remove(&t.ticket_id);
            return;
        }
        t.subject = clip(t.subject, SUBJECT_CHARS);
        t.assignee = t.assignee.map(|a| clip(a, SHORT_CHARS));
        t.subscriber_id = t.subscriber_id.map(|s| clip(s, SHORT_CHARS));
        t.created_at = clip(t.created_at, SHORT_CHARS);
        t.updated_at = clip(t.updated_at, SHORT_CHARS);
        let ticket = Ticket {
            created: Instant::parse_rfc3339(&t.created_at),
            update: t,
        };
        if self.tickets.len() >= MAX_TICKETS && !self.tickets.contains_key(&ticket.ticket_id) {
            let victim = self
                .tickets
                .values()
                .min_by_key(|t| t.keep_rank())
                .filter(|v| v.keep_rank() < ticket.keep_rank())
                .map(|v| v.ticket_id.clone());
            self.not_kept = self.not_kept.saturating_add(1);
            match victim {
                Some(id) => {
                    self.tickets.remove(&id);
                }
                None => return, // the newcomer is the least important
            }
        }
        self.tickets.insert(ticket.ticket_id.clone(), ticket);
    }

    /// Tickets evicted or refused because the queue was full.
    pub fn not_kept(&self) -> u64 {
        self.not_kept
    }

    /// The tickets held about `subscriber_id`, active or resolved, newest id first.
    pub fn of_subscriber(&self, subscriber_id: &str) -> Vec<&Ticket> {
        self.tickets
            .values()
            .rev()
            .filter(|t| t.subscriber_id.as_deref() == Some(subscriber_id))
            .collect()
    }

    /// Tickets held, active or resolved.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// Whether no ticket is held.
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    /// Tickets still needing work (open or pending), most urgent first, then oldest first by
    /// instant (whatever offset each was stamped with); unknown opening times last.
    pub fn active(&self) -> Vec<&Ticket> {
        let mut v: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| t.status.is_active())
            .collect();
        v.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then_with(|| match (a.created, b.created) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                })
                .then_with(|| a.ticket_id.cmp(&b.ticket_id))
        });
        v
    }

    /// Open or pending tickets per priority, in [`Priority::ALL`] order.
    pub fn by_priority(&self) -> [(Priority, usize); 4] {
        Priority::ALL.map(|p| {
            (
                p,
                self.tickets
                    .values()
                    .filter(|t| t.status.is_active() && t.priority == p)
                    .count(),
            )
        })
    }

    /// Active tickets older than `sla`.
    pub fn breaches(&self, now: Instant, sla: Duration) -> usize {
        self.tickets
            .values()
            .filter(|t| t.status.is_active() && t.age(now).is_some_and(|a| a > sla))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, p: Priority, s: TicketStatus, created: &str) -> TicketUpdate {
        TicketUpdate {
            ticket_id: id.into(),
            subject: "x".into(),
            priority: p,
            status: s,
            assignee: None,
            created_at: created.into(),
            updated_at: created.into(),
            subscriber_id: None,
        }
    }

    impl Queue {
        fn apply_live(&mut self, t: TicketUpdate) {
            self.apply(t);
        }
    }

    #[test]
    fn a_subscribers_tickets_are_theirs_only_and_their_id_is_cut() {
        let mut q = Queue::default();
        for (id, sub) in [
            ("T-1", Some("sub_1")),
            ("T-2", None),
            ("T-3", Some("sub_1")),
        ] {
            let mut t = ticket(
                id,
                Priority::Normal,
                TicketStatus::Open,
                "2025-10-16T12:00:00Z",
            );
            t.subscriber_id = sub.map(str::to_owned);
            q.apply(t);
        }
        let ids: Vec<&str> = q
            .of_subscriber("sub_1")
            .iter()
            .map(|t| t.ticket_id.as_str())
            .collect();
        assert_eq!(ids, ["T-3", "T-1"]);
        let mut long = ticket(
            "T-4",
            Priority::Low,
            TicketStatus::Open,
            "2025-10-16T12:00:00Z",
        );
        long.subscriber_id = Some("x".repeat(100_000));
        q.apply(long);
        assert_eq!(q.len(), 4);
        assert!(
            q.active().iter().all(|t| t
                .subscriber_id
                .as_ref()
                .is_none_or(|s| s.chars().count() <= SHORT_CHARS)),
            "a long id is kept cut"
        );
    }

    #[test]
    fn ordered_by_priority_then_age_with_sla_breaches() {
        use Priority::*;
        use TicketStatus::*;
        let mut q = Queue::default();
        q.apply_live(ticket("n-new", Normal, Open, "2025-10-16T11:00:00Z"));
        q.apply_live(ticket("n-old", Normal, Open, "2025-10-16T08:00:00Z"));
        q.apply_live(ticket("u", Urgent, Pending, "2025-10-16T11:30:00Z"));
        q.apply_live(ticket("done", High, Resolved, "2025-10-16T07:00:00Z"));
        let ids: Vec<_> = q.active().iter().map(|t| t.ticket_id.as_str()).collect();
        assert_eq!(ids, ["u", "n-old", "n-new"]);
        // The same instants in other styles sort by instant, not by text.
        q.apply_live(ticket("n-ist", Normal, Open, "2025-10-16T14:00:00+05:30")); // 08:30Z
        q.apply_live(ticket("n-naive", Normal, Open, "2025-10-16T07:00:00")); // 07:00Z
        let ids: Vec<_> = q.active().iter().map(|t| t.ticket_id.as_str()).collect();
        assert_eq!(ids, ["u", "n-naive", "n-old", "n-ist", "n-new"]);
        q.apply_live(ticket("n-ist", Normal, Closed, ""));
        q.apply_live(ticket("n-naive", Normal, Closed, ""));
        assert_eq!(
            q.by_priority(),
            [(Urgent, 1), (High, 0), (Normal, 2), (Low, 0)]
        );
        let noon = Instant::parse_rfc3339("2025-10-16T12:00:00Z").unwrap();
        assert_eq!(
            q.breaches(noon, DEFAULT_SLA),
            1,
            "only the 08:00 ticket is over 2 h"
        );
        q.apply_live(ticket("u", Urgent, Closed, "2025-10-16T11:30:00Z"));
        assert_eq!(q.active().len(), 2);
    }

    #[test]
    fn an_urgent_ticket_three_hours_old_breaches_whatever_its_offset() {
        let noon = Instant::parse_rfc3339("2025-10-16T12:00:00Z").unwrap();
        for stamp in [
            "2025-10-16T09:00:00Z",
            "2025-10-16T09:00:00+00:00",
            "2025-10-16T14:30:00+05:30",
            "2025-10-16T09:00:00",
        ] {
            let mut q = Queue::default();
            q.apply_live(ticket("u", Priority::Urgent, TicketStatus::Open, stamp));
            assert_eq!(q.breaches(noon, DEFAULT_SLA), 1, "{stamp}");
            assert_eq!(q.active()[0].age(noon), Some(Duration::from_secs(3 * 3600)));
        }
    }

    #[test]
    fn a_full_queue_evicts_resolved_then_least_urgent_and_counts_it() {
        use Priority::*;
        use TicketStatus::*;
        let mut q = Queue::default();
        let at = |i: usize| format!("2025-10-16T{:02}:{:02}:00Z", i / 60 % 24, i % 60);
        q.apply_live(ticket("urgent", Urgent, Open, &at(0)));
        for i in 1..MAX_TICKETS {
            let status = if i % 2 == 0 { Resolved } else { Open };
            q.apply_live(ticket(&format!("t{i}"), Low, status, &at(i)));
        }
        assert_eq!((q.len(), q.not_kept()), (MAX_TICKETS, 0));
        // Resolved ones go first, oldest first.
        q.apply_live(ticket("n1", Normal, Open, &at(5000)));
        assert_eq!(q.not_kept(), 1);
        assert!(!q.tickets.contains_key("t2") && q.tickets.contains_key("t4"));
        for i in 0..2000 {
            q.apply_live(ticket(&format!("h{i}"), High, Open, &at(i)));
        }
        assert_eq!(q.len(), MAX_TICKETS);
        assert!(q.tickets.contains_key("urgent"), "never the urgent one");
        assert!(
            q.tickets.values().all(|t| t.status.is_active()),
            "no resolved left"
        );
        // A low ticket arriving at a queue of high ones is the one not kept.
        let before = q.not_kept();
        q.apply_live(ticket("late-low", Low, Open, &at(1)));
        assert!(!q.tickets.contains_key("late-low"));
        assert_eq!(q.not_kept(), before + 1);
    }

    #[test]
    fn long_strings_are_cut() {
        let mut q = Queue::default();
        let mut t = ticket(
            "x",
            Priority::Low,
            TicketStatus::Open,
            "2025-10-16T09:00:00Z",
        );
        t.subject = "s".repeat(1 << 20);
        t.assignee = Some("a".repeat(1000));
        q.apply_live(t);
        let kept = &q.active()[0];
        assert_eq!(kept.subject.chars().count(), SUBJECT_CHARS);
        assert_eq!(
            kept.assignee.as_ref().map(|a| a.chars().count()),
            Some(SHORT_CHARS)
        );
    }
}
