//! The support simulator: tickets are opened (a few urgent, most normal), picked up,
//! parked as pending, resolved and closed. One tick every 4 s.

use std::time::Duration;

use switchboard_core::simulator::{Acted, Actor, Call, Simulator};
use switchboard_core::{Frame, Instant, Provenance};

use crate::data::{
    Priority, SET_TICKET_STATUS, TAKE_TICKET, TICKET_UPDATE, TicketStatus, TicketUpdate,
};

/// One tick every 4 s.
pub const INTERVAL: Duration = Duration::from_secs(4);

const SUBJECTS: [&str; 8] = [
    "No internet since this morning",
    "Speed far below plan",
    "Router keeps rebooting",
    "Invoice amount looks wrong",
    "Move service to new address",
    "Static IP request",
    "Packet loss in the evening",
    "Cannot log in to the portal",
];
const AGENTS: [&str; 4] = ["amira", "bruno", "chloe", "dmitri"];

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct SupportSimulator {
    next_id: u64,
    active: Vec<TicketUpdate>,
}

impl SupportSimulator {
    /// The ticket changes of one tick.
    pub fn step(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<TicketUpdate> {
        let stamp = now.to_rfc3339();
        let mut out = Vec::new();
        let odds = if self.active.len() < 8 { 2 } else { 6 };
        if rng.u8(0..odds) == 0 {
            self.next_id += 1;
            let priority = match rng.u8(0..20) {
                0 => Priority::Urgent,
                1..=4 => Priority::High,
                5..=15 => Priority::Normal,
                _ => Priority::Low,
            };
            // Some tickets were opened a while ago, so the queue has a realistic age spread.
            let age = Duration::from_secs(rng.u64(0..4 * 3600));
            let created =
                Instant::from_millis(now.as_millis().saturating_sub(age.as_millis() as u64));
            let ticket = TicketUpdate {
                ticket_id: format!("TCK-{}", 10_000 + self.next_id),
                subject: SUBJECTS[rng.usize(0..SUBJECTS.len())].to_owned(),
                priority,
                status: TicketStatus::Open,
                assignee: None,
                created_at: created.to_rfc3339(),
                updated_at: stamp.clone(),
                // About one of billing's accounts, `sub_1000`…`sub_1009`.
                subscriber_id: Some(format!("sub_{}", 1000 + self.next_id % 10)),
            };
            self.active.push(ticket.clone());
            out.push(ticket);
        }
        for _ in 0..2 {
            if self.active.is_empty() || rng.u8(0..5) < 2 {
                continue;
            }
            let i = rng.usize(0..self.active.len());
            let t = &mut self.active[i];
            match (t.status, t.assignee.is_some(), rng.u8(0..10)) {
                (TicketStatus::Open, false, _) => {
                    t.assignee = Some(AGENTS[rng.usize(0..AGENTS.len())].to_owned())
                }
                (TicketStatus::Open, true, 0..=2) => t.status = TicketStatus::Pending,
                (TicketStatus::Open | TicketStatus::Pending, true, _) => {
                    t.status = TicketStatus::Resolved
                }
                (TicketStatus::Pending, false, _) => t.status = TicketStatus::Open,
                (TicketStatus::Resolved, _, 0) => t.status = TicketStatus::Open,
                (TicketStatus::Resolved | TicketStatus::Closed, _, _) => {
                    t.status = TicketStatus::Closed
                }
            }
            t.updated_at = stamp.clone();
            out.push(t.clone());
            if t.status == TicketStatus::Closed {
                self.active.swap_remove(i);
            }
        }
        out
    }
}

/// `take_ticket` and `set_ticket_status`, on the tickets in the queue.
impl Actor for SupportSimulator {
    fn act(&mut self, now: Instant, call: &Call<'_>) -> Acted {
        let (id, status) = if let Some(take) = call.payload(TAKE_TICKET) {
            (take.ticket_id, None)
        } else if let Some(set) = call.payload(SET_TICKET_STATUS) {
            (set.ticket_id, Some(set.status.status()))
        } else {
            return Acted::Refused(format!("`{}` is not a support action", call.action));
        };
        let Some(t) = self.active.iter_mut().find(|t| t.ticket_id == id) else {
            return Acted::Refused("no such open ticket".to_owned());
        };
        if !t.status.is_active() {
            return Acted::Refused(format!("ticket already {}", t.status.as_str()));
        }
        match (status, t.assignee.as_deref()) {
            (Some(status), _) => t.status = status,
            (None, Some(who)) if who != call.operator => {
                return Acted::Refused(format!("already taken by {who}"));
            }
            (None, _) => t.assignee = Some(call.operator.to_owned()),
        }
        t.updated_at = now.to_rfc3339();
        Acted::Done {
            frames: Frame::new(TICKET_UPDATE.name(), &*t, Some(now), Provenance::Live)
                .into_iter()
                .collect(),
            result: None,
        }
    }
}

impl Simulator for SupportSimulator {
    fn interval(&self) -> Duration {
        INTERVAL
    }

    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        self.step(now, rng)
            .iter()
            .filter_map(|t| {
                Frame::new(TICKET_UPDATE.name(), t, Some(now), Provenance::Simulated).ok()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn call<'a>(action: &'a str, data: &'a str, operator: &'a str) -> Call<'a> {
        Call {
            action,
            data,
            operator,
            state: &[],
        }
    }

    #[test]
    fn operators_take_and_resolve_tickets_and_conflicts_are_refused_in_words() {
        let mut sim = SupportSimulator::default();
        let mut rng = fastrand::Rng::with_seed(2);
        let now = Instant::from_millis(1_760_616_000_000);
        while sim.active.iter().all(|t| t.assignee.is_some()) {
            sim.step(now, &mut rng);
        }
        let id = sim
            .active
            .iter()
            .find(|t| t.assignee.is_none())
            .map(|t| t.ticket_id.clone())
            .unwrap();
        let take = format!(r#"{{"ticket_id":"{id}","request_id":"r1"}}"#);
        let Acted::Done { frames, .. } = sim.act(now, &call("take_ticket", &take, "Ada")) else {
            panic!("an unassigned ticket can be taken");
        };
        let t = TICKET_UPDATE.decode(&frames[0]).unwrap();
        assert_eq!(t.assignee.as_deref(), Some("Ada"));
        assert!(matches!(
            sim.act(now, &call("take_ticket", &take, "Ben")),
            Acted::Refused(why) if why == "already taken by Ada"
        ));
        // Taking one's own ticket again changes nothing and is not an error.
        assert!(matches!(
            sim.act(now, &call("take_ticket", &take, "Ada")),
            Acted::Done { .. }
        ));
        let resolve = format!(r#"{{"ticket_id":"{id}","status":"resolved","request_id":"r2"}}"#);
        let Acted::Done { frames, .. } = sim.act(now, &call("set_ticket_status", &resolve, "Ben"))
        else {
            panic!("an open ticket can be resolved");
        };
        assert_eq!(
            TICKET_UPDATE.decode(&frames[0]).unwrap().status,
            TicketStatus::Resolved
        );
        assert!(matches!(
            sim.act(now, &call("take_ticket", &take, "Ben")),
            Acted::Refused(why) if why == "ticket already resolved"
        ));
        let gone = r#"{"ticket_id":"TCK-0","request_id":"r3"}"#;
        assert!(matches!(
            sim.act(now, &call("take_ticket", gone, "Ada")),
            Acted::Refused(_)
        ));
    }

    #[test]
    fn tickets_move_forward_and_the_queue_stays_bounded() {
        let mut sim = SupportSimulator::default();
        let mut rng = fastrand::Rng::with_seed(8);
        let mut tickets: BTreeMap<String, TicketUpdate> = BTreeMap::new();
        let mut priorities = std::collections::BTreeSet::new();
        for i in 0..5_000u64 {
            let now = Instant::from_millis(1_760_616_000_000 + i * 4000);
            for t in sim.step(now, &mut rng) {
                assert!(
                    Instant::parse_rfc3339(&t.created_at) <= Instant::parse_rfc3339(&t.updated_at)
                );
                if let Some(old) = tickets.get(&t.ticket_id) {
                    assert_eq!(old.created_at, t.created_at, "created_at never changes");
                    assert_ne!(
                        old.status,
                        TicketStatus::Closed,
                        "closed tickets stay closed"
                    );
                }
                priorities.insert(t.priority);
                tickets.insert(t.ticket_id.clone(), t);
            }
            let active = tickets.values().filter(|t| t.status.is_active()).count();
            assert!(active <= 40, "queue of {active} at tick {i}");
        }
        assert_eq!(priorities.len(), 4);
        assert!(tickets.values().any(|t| t.status == TicketStatus::Closed));
    }
}
