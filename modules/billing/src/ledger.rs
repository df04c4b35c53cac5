//! The billing views' model, without a browser: the latest state of each invoice, totals by
//! status in integer minor units, paid revenue, and the recent feeds.
//!
//! Bounded by count and bytes: [`MAX_INVOICES`] invoices (the oldest forgotten first),
//! [`MAX_CURRENCIES`] currencies, feeds of [`FEED_LEN`], and every string cut to
//! [`TEXT_CHARS`], so the ledger stays around 1 MiB whatever arrives. Sums saturate instead
//! of overflowing. Invoices forgotten or refused are counted in [`Ledger::not_kept`].

use std::collections::{BTreeMap, VecDeque};

use switchboard_core::text::clip;

use crate::data::{InvoiceStatus, InvoiceUpdate, Money, SubscriberUpdate};

/// Invoices remembered for the totals; the oldest are forgotten beyond this.
pub const MAX_INVOICES: usize = 2000;
/// Entries in each feed.
pub const FEED_LEN: usize = 20;
/// Distinct currencies tracked; an invoice in a further one is refused and counted.
pub const MAX_CURRENCIES: usize = 16;
/// Longest id, name, plan or timestamp kept, in characters.
pub const TEXT_CHARS: usize = 128;
/// Longest currency code kept (ISO 4217 codes have three letters).
pub const CURRENCY_CHARS: usize = 8;

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    invoices: BTreeMap<String, InvoiceUpdate>,
    order: VecDeque<String>,
    feed: VecDeque<InvoiceUpdate>,
    subscribers: VecDeque<SubscriberUpdate>,
    paid_minor: BTreeMap<String, i64>,
    not_kept: u64,
}

/// One row of the totals: a status with its invoice count and sum per currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    /// The status.
    pub status: InvoiceStatus,
    /// Invoices in it.
    pub count: usize,
    /// Sum in minor units, per currency.
    pub minor: BTreeMap<String, i64>,
}

impl Ledger {
    /// The invoices held for `subscriber_id`, highest invoice number first (the map's own
    /// order, reversed: no sort code in the wasm).
    pub fn invoices_of(&self, subscriber_id: &str) -> Vec<&InvoiceUpdate> {
        self.invoices
            .values()
            .rev()
            .filter(|i| i.subscriber_id == subscriber_id)
            .collect()
    }

    /// Applies an invoice update, its strings cut. Live and simulated updates go to separate
    /// ledgers (the module's store keeps them apart), so a total never mixes the two.
    pub fn invoice(&mut self, mut inv: InvoiceUpdate) {
        inv.invoice_id = clip(inv.invoice_id, TEXT_CHARS);
        inv.subscriber_id = clip(inv.subscriber_id, TEXT_CHARS);
        inv.subscriber_name = clip(inv.subscriber_name, TEXT_CHARS);
        inv.updated_at = clip(inv.updated_at, TEXT_CHARS);
        inv.amount.currency = clip(inv.amount.currency, CURRENCY_CHARS);
        let currency = &inv.amount.currency;
        let known = self.paid_minor.contains_key(currency)
            || self
                .invoices
                .values()
                .any(|i| &i.amount.currency == currency);
        if !known && self.currencies() >= MAX_CURRENCIES {
            self.not_kept = self.not_kept.saturating_add(1);
            return;
        }
        let was_paid = self
            .invoices
            .get(&inv.invoice_id)
            .is_some_and(|i| i.status == InvoiceStatus::Paid);
        if inv.status == InvoiceStatus::Paid && !was_paid {
            let paid = self
                .paid_minor
                .entry(inv.amount.currency.clone())
                .or_default();
            *paid = paid.saturating_add(inv.amount.minor);
        }
        if self
            .invoices
            .insert(inv.invoice_id.clone(), inv.clone())
            .is_none()
        {
            self.order.push_back(inv.invoice_id.clone());
            if self.order.len() > MAX_INVOICES
                && let Some(old) = self.order.pop_front()
            {
                self.invoices.remove(&old);
                self.not_kept = self.not_kept.saturating_add(1);
            }
        }
        self.feed.push_front(inv);
        self.feed.truncate(FEED_LEN);
    }

    /// Distinct currencies in the paid revenue and the kept invoices.
    fn currencies(&self) -> usize {
        let mut all: std::collections::BTreeSet<&str> =
            self.paid_minor.keys().map(String::as_str).collect();
        all.extend(self.invoices.values().map(|i| i.amount.currency.as_str()));
        all.len()
    }

    /// Invoices forgotten (beyond [`MAX_INVOICES`]) or refused (beyond [`MAX_CURRENCIES`]).
    pub fn not_kept(&self) -> u64 {
        self.not_kept
    }

    /// Invoices held for the totals.
    pub fn invoice_count(&self) -> usize {
        self.invoices.len()
    }

    /// Applies a subscriber change, its strings cut.
    pub fn subscriber(&mut self, mut s: SubscriberUpdate) {
        for field in [
            &mut s.subscriber_id,
            &mut s.name,
            &mut s.plan,
            &mut s.changed_at,
        ] {
            *field = clip(std::mem::take(field), TEXT_CHARS);
        }
        self.subscribers.push_front(s);
        self.subscribers.truncate(FEED_LEN);
    }

    /// Recent invoice updates, newest first.
    pub fn feed(&self) -> impl Iterator<Item = &InvoiceUpdate> {
        self.feed.iter()
    }

    /// Recent subscriber changes, newest first.
    pub fn subscriber_changes(&self) -> impl Iterator<Item = &SubscriberUpdate> {
        self.subscribers.iter()
    }

    /// Paid revenue so far, in minor units of `currency`.
    pub fn paid(&self, currency: &str) -> i64 {
        self.paid_minor.get(currency).copied().unwrap_or(0)
    }

    /// Paid since opened, in every currency seen paid, in currency order: an ISP that bills
    /// in USD, or in several currencies, sees each total, never a zero in another one.
    pub fn paid_totals(&self) -> impl Iterator<Item = Money> + '_ {
        self.paid_minor.iter().map(|(currency, minor)| Money {
            minor: *minor,
            currency: currency.clone(),
        })
    }

    /// Totals by status, in [`InvoiceStatus::ALL`] order.
    pub fn totals(&self) -> Vec<Total> {
        InvoiceStatus::ALL
            .iter()
            .map(|&status| {
                let mut t = Total {
                    status,
                    count: 0,
                    minor: BTreeMap::new(),
                };
                for inv in self.invoices.values().filter(|i| i.status == status) {
                    t.count += 1;
                    let sum = t.minor.entry(inv.amount.currency.clone()).or_default();
                    *sum = sum.saturating_add(inv.amount.minor);
                }
                t
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Money;

    fn inv(id: &str, status: InvoiceStatus, minor: i64) -> InvoiceUpdate {
        InvoiceUpdate {
            invoice_id: id.into(),
            subscriber_id: "sub_1".into(),
            subscriber_name: "A".into(),
            amount: Money {
                minor,
                currency: "EUR".into(),
            },
            status,
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_subscribers_invoices_are_theirs_only_newest_first() {
        let mut l = Ledger::default();
        for (id, sub) in [("INV-1", "sub_1"), ("INV-2", "sub_2"), ("INV-3", "sub_1")] {
            l.invoice(InvoiceUpdate {
                subscriber_id: sub.into(),
                ..inv(id, InvoiceStatus::Issued, 100)
            });
        }
        let ids: Vec<&str> = l
            .invoices_of("sub_1")
            .iter()
            .map(|i| i.invoice_id.as_str())
            .collect();
        assert_eq!(ids, ["INV-3", "INV-1"]);
        assert!(l.invoices_of("sub_9").is_empty());
    }

    #[test]
    fn totals_follow_the_latest_status_and_paid_counts_once() {
        use InvoiceStatus::*;
        let mut l = Ledger::default();
        l.invoice(inv("1", Draft, 1000));
        l.invoice(inv("1", Issued, 1000));
        l.invoice(inv("2", Issued, 250));
        l.invoice(inv("1", Paid, 1000));
        l.invoice(inv("1", Paid, 1000)); // a repeat must not double the revenue
        assert_eq!(l.paid("EUR"), 1000);
        let totals = l.totals();
        let by = |s| totals.iter().find(|t| t.status == s).unwrap().clone();
        assert_eq!((by(Paid).count, by(Paid).minor["EUR"]), (1, 1000));
        assert_eq!((by(Issued).count, by(Issued).minor["EUR"]), (1, 250));
        assert_eq!(by(Draft).count, 0);
        assert_eq!(l.feed().count(), 5);
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = Ledger::default();
        for i in 0..(MAX_INVOICES + 50) {
            l.invoice(inv(&i.to_string(), InvoiceStatus::Draft, 1));
        }
        assert_eq!(l.totals()[0].count, MAX_INVOICES);
        assert_eq!(l.feed().count(), FEED_LEN);
    }

    #[test]
    fn paid_is_totalled_in_every_currency() {
        let mut l = Ledger::default();
        for (id, minor, currency) in [("A", 1000, "USD"), ("B", 250, "USD"), ("C", 99, "EUR")] {
            l.invoice(InvoiceUpdate {
                invoice_id: id.into(),
                subscriber_id: "s".into(),
                subscriber_name: "n".into(),
                amount: Money {
                    minor,
                    currency: currency.into(),
                },
                status: InvoiceStatus::Paid,
                updated_at: String::new(),
            });
        }
        let paid: Vec<String> = l.paid_totals().map(|m| m.to_string()).collect();
        assert_eq!(paid, ["0.99 EUR", "12.50 USD"]);
    }
}
