//! Any well-formed `ticket_update`, with timestamps far in the past, far in the future, in
//! any offset or not timestamps at all, through the queue and what the views show: no panic,
//! and the bounds hold.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proptest::prelude::*;
use switchboard_core::Instant;
use switchboard_kit::format;
use switchboard_support::data::{Priority, TicketStatus, TicketUpdate};
use switchboard_support::queue::{DEFAULT_SLA, MAX_TICKETS, Queue, SUBJECT_CHARS};

fn stamp() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u32..=9999,
            1u32..=12,
            1u32..=28,
            0u32..24,
            0u32..60,
            -23i32..=23,
            0u32..60
        )
            .prop_map(|(y, mo, d, h, mi, oh, om)| {
                let sign = if oh < 0 { '-' } else { '+' };
                format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00.123456{sign}{:02}:{om:02}",
                    oh.abs()
                )
            }),
        (1970u32..2100, 1u32..=12).prop_map(|(y, m)| format!("{y:04}-{m:02}-01T00:00:00Z")),
        (1970u32..2100).prop_map(|y| format!("{y:04}-06-01T12:00:00")),
        any::<String>(),
    ]
}

fn ticket() -> impl Strategy<Value = TicketUpdate> {
    let priority = prop::sample::select(Priority::ALL.to_vec());
    let status = prop::sample::select(vec![
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ]);
    let subject = prop_oneof!["[a-z ]{0,20}", (1usize..5000).prop_map(|n| "ü".repeat(n))];
    (
        0u32..3000,
        priority,
        status,
        subject,
        stamp(),
        prop::option::of("[a-z]{1,300}"),
    )
        .prop_map(
            |(id, priority, status, subject, created_at, assignee)| TicketUpdate {
                ticket_id: format!("TCK-{id}"),
                subject,
                priority,
                status,
                assignee,
                updated_at: created_at.clone(),
                created_at,
                subscriber_id: None,
            },
        )
}

/// A distinct, open ticket: enough of them fill the queue.
fn open_ticket(i: usize) -> TicketUpdate {
    TicketUpdate {
        ticket_id: format!("FILL-{i}"),
        subject: "filler".into(),
        priority: Priority::ALL[i % Priority::ALL.len()],
        status: TicketStatus::Open,
        assignee: None,
        created_at: "2025-10-16T12:00:00Z".into(),
        updated_at: "2025-10-16T12:00:00Z".into(),
        subscriber_id: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_queue_takes_anything_and_stays_bounded(
        tickets in prop::collection::vec(ticket(), 1..300),
        filler in 0..MAX_TICKETS * 2,
        now in any::<u64>(),
    ) {
        let mut q = Queue::default();
        for t in tickets {
            q.apply(t);
            prop_assert!(q.len() <= MAX_TICKETS);
        }
        // Past the bound: as many distinct open tickets again as the queue keeps, and more.
        for i in 0..filler {
            q.apply(open_ticket(i));
            prop_assert!(q.len() <= MAX_TICKETS);
        }
        if filler >= MAX_TICKETS {
            prop_assert_eq!(q.len(), MAX_TICKETS, "full, not emptied");
            prop_assert!(q.not_kept() as usize >= filler - MAX_TICKETS);
        }
        let now = Instant::from_millis(now);
        let active = q.active();
        prop_assert!(active.windows(2).all(|w| w[0].priority <= w[1].priority));
        for t in &active {
            prop_assert!(t.subject.chars().count() <= SUBJECT_CHARS);
            let _ = t.age(now).map(format::clock);
        }
        prop_assert!(q.breaches(now, DEFAULT_SLA) <= active.len());
        let _ = q.breaches(now, Duration::ZERO);
        let _ = q.by_priority();
    }
}
