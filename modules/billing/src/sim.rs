//! The billing simulator: invoices move through draft → issued → paid or overdue (and
//! sometimes void), and subscribers are now and then suspended, restored or terminated.
//! Billing is slow traffic: one tick every 3 s.

use std::time::Duration;

use switchboard_core::simulator::{Actor, Simulator};
use switchboard_core::{Frame, Instant, Provenance};

use crate::data::{
    INVOICE_UPDATE, InvoiceStatus, InvoiceUpdate, Money, SUBSCRIBER_UPDATE, SubscriberStatus,
    SubscriberUpdate,
};

/// One tick every 3 s.
pub const INTERVAL: Duration = Duration::from_secs(3);

const NAMES: [&str; 10] = [
    "Anna Kowalska",
    "Ben Tran",
    "Chen Wei",
    "Dara O'Neill",
    "Emil Strand",
    "Fatima Rahman",
    "Goran Petrov",
    "Hana Mori",
    "Ivan Dimitrov",
    "Jules Bernard",
];
const PLANS: [(&str, i64); 4] = [
    ("Fibre 100", 2999),
    ("Fibre 500", 4499),
    ("Fibre 1000", 5999),
    ("Business 1G", 12900),
];

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct BillingSimulator {
    next_invoice: u64,
    /// Invoices not yet paid or void.
    open: Vec<InvoiceUpdate>,
}

impl BillingSimulator {
    fn subscriber(&self, rng: &mut fastrand::Rng) -> (String, &'static str, (&'static str, i64)) {
        let i = rng.usize(0..NAMES.len());
        (
            format!("sub_{}", 1000 + i),
            NAMES[i],
            PLANS[i % PLANS.len()],
        )
    }

    /// The invoice updates and subscriber changes of one tick.
    pub fn step(
        &mut self,
        now: Instant,
        rng: &mut fastrand::Rng,
    ) -> (Vec<InvoiceUpdate>, Vec<SubscriberUpdate>) {
        let stamp = now.to_rfc3339();
        let mut invoices = Vec::new();
        let odds = if self.open.len() < 8 { 2 } else { 8 };
        if rng.u8(0..odds) == 0 {
            self.next_invoice += 1;
            let (subscriber_id, name, (_, price)) = self.subscriber(rng);
            let invoice = InvoiceUpdate {
                invoice_id: format!("INV-{:06}", self.next_invoice),
                subscriber_id,
                subscriber_name: name.to_owned(),
                amount: Money {
                    minor: price * rng.i64(1..=3),
                    currency: "EUR".into(),
                },
                status: InvoiceStatus::Draft,
                updated_at: stamp.clone(),
            };
            self.open.push(invoice.clone());
            invoices.push(invoice);
        }
        for _ in 0..2 {
            if self.open.is_empty() || rng.u8(0..5) < 2 {
                continue;
            }
            let i = rng.usize(0..self.open.len());
            let inv = &mut self.open[i];
            inv.status = match (inv.status, rng.u8(0..10)) {
                (InvoiceStatus::Draft, 0) => InvoiceStatus::Void,
                (InvoiceStatus::Draft, _) => InvoiceStatus::Issued,
                (InvoiceStatus::Issued, 0..=6) => InvoiceStatus::Paid,
                (InvoiceStatus::Issued, _) => InvoiceStatus::Overdue,
                (InvoiceStatus::Overdue, 0..=5) => InvoiceStatus::Paid,
                (InvoiceStatus::Overdue, _) => InvoiceStatus::Void,
                (done, _) => done,
            };
            inv.updated_at = stamp.clone();
            invoices.push(inv.clone());
            if matches!(inv.status, InvoiceStatus::Paid | InvoiceStatus::Void) {
                self.open.swap_remove(i);
            }
        }
        let mut subscribers = Vec::new();
        if rng.u8(0..4) == 0 {
            let (subscriber_id, name, (plan, _)) = self.subscriber(rng);
            let status = match rng.u8(0..10) {
                0 => SubscriberStatus::Terminated,
                1..=4 => SubscriberStatus::Suspended,
                _ => SubscriberStatus::Active,
            };
            subscribers.push(SubscriberUpdate {
                subscriber_id,
                name: name.to_owned(),
                plan: plan.to_owned(),
                status,
                changed_at: stamp,
            });
        }
        (invoices, subscribers)
    }
}

/// Carries out no action: the module declares none.
impl Actor for BillingSimulator {}

impl Simulator for BillingSimulator {
    fn interval(&self) -> Duration {
        INTERVAL
    }

    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        let (invoices, subscribers) = self.step(now, rng);
        let stamp = Some(now);
        let invoices = invoices.iter().filter_map(|i| {
            Frame::new(INVOICE_UPDATE.name(), i, stamp, Provenance::Simulated).ok()
        });
        let subscribers = subscribers.iter().filter_map(|s| {
            Frame::new(SUBSCRIBER_UPDATE.name(), s, stamp, Provenance::Simulated).ok()
        });
        invoices.chain(subscribers).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn invoices_follow_their_life_cycle() {
        let mut sim = BillingSimulator::default();
        let mut rng = fastrand::Rng::with_seed(2);
        let mut last: BTreeMap<String, InvoiceStatus> = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut subscriber_changes = 0;
        for i in 0..3_000u64 {
            let (invoices, subscribers) = sim.step(Instant::from_millis(i * 3000), &mut rng);
            subscriber_changes += subscribers.len();
            for inv in invoices {
                assert!(inv.amount.minor > 0 && inv.amount.currency == "EUR");
                let before = last.insert(inv.invoice_id.clone(), inv.status);
                let ok = matches!(
                    (before, inv.status),
                    (None, InvoiceStatus::Draft)
                        | (
                            Some(InvoiceStatus::Draft),
                            InvoiceStatus::Issued | InvoiceStatus::Void
                        )
                        | (
                            Some(InvoiceStatus::Issued),
                            InvoiceStatus::Paid | InvoiceStatus::Overdue
                        )
                        | (
                            Some(InvoiceStatus::Overdue),
                            InvoiceStatus::Paid | InvoiceStatus::Void
                        )
                );
                assert!(ok, "{before:?} -> {:?}", inv.status);
                seen.insert(inv.status);
            }
        }
        assert_eq!(seen.len(), 5, "every status occurs: {seen:?}");
        assert!(subscriber_changes > 300);
        assert!(sim.open.len() < 200, "invoices settle");
    }
}
