//! The support views' model, without a browser: the active queue sorted by priority then age,
//! open tickets by priority, and SLA breaches. Closed tickets leave the queue.

use std::collections::BTreeMap;
use std::time::Duration;

use switchboard_core::{Instant, Provenance};

use crate::data::{Priority, TicketStatus, TicketUpdate};

/// Tickets older than this breach the response SLA.
pub const DEFAULT_SLA: Duration = Duration::from_secs(2 * 3600);
/// Most tickets kept in the queue.
pub const MAX_TICKETS: usize = 1000;

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    tickets: BTreeMap<String, TicketUpdate>,
    /// Whether the contents came from the simulator; live data then replaces them.
    simulated: bool,
}

impl Queue {
    /// Applies a ticket update.
    pub fn apply(&mut self, t: TicketUpdate, provenance: Provenance) {
        let simulated = provenance == Provenance::Simulated;
        if self.simulated && !simulated {
            self.tickets.clear();
        }
        self.simulated = simulated;
        if t.status == TicketStatus::Closed {
            self.tickets.remove(&t.ticket_id);
        } else if self.tickets.len() < MAX_TICKETS || self.tickets.contains_key(&t.ticket_id) {
            self.tickets.insert(t.ticket_id.clone(), t);
        }
    }

    /// Tickets still needing work (open or pending), most urgent first, then oldest first.
    pub fn active(&self) -> Vec<&TicketUpdate> {
        let mut v: Vec<&TicketUpdate> = self
            .tickets
            .values()
            .filter(|t| t.status.is_active())
            .collect();
        v.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then_with(|| a.created_at.cmp(&b.created_at))
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

    /// How long a ticket has been open at `now`.
    pub fn age(t: &TicketUpdate, now: Instant) -> Duration {
        Instant::parse_rfc3339(&t.created_at)
            .map(|c| c.until(now))
            .unwrap_or_default()
    }

    /// Active tickets older than `sla`.
    pub fn breaches(&self, now: Instant, sla: Duration) -> usize {
        self.active()
            .iter()
            .filter(|t| Self::age(t, now) > sla)
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
        }
    }

    impl Queue {
        fn apply_live(&mut self, t: TicketUpdate) {
            self.apply(t, Provenance::Live);
        }
    }

    #[test]
    fn live_data_replaces_simulated_tickets() {
        let mut q = Queue::default();
        q.apply(
            ticket(
                "sim",
                Priority::High,
                TicketStatus::Open,
                "2025-10-16T11:00:00Z",
            ),
            Provenance::Simulated,
        );
        q.apply_live(ticket(
            "live",
            Priority::Low,
            TicketStatus::Open,
            "2025-10-16T11:00:00Z",
        ));
        assert_eq!(
            q.active()
                .iter()
                .map(|t| t.ticket_id.as_str())
                .collect::<Vec<_>>(),
            ["live"]
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
}
