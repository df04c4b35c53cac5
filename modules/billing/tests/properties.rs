//! Any well-formed `invoice_update` and `subscriber_update`, with amounts at the ends of
//! `i64`, any currency text and long strings, through the ledger and the money formatting:
//! no panic, no overflow, and the bounds hold.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use switchboard_billing::data::{
    InvoiceStatus, InvoiceUpdate, Money, SubscriberStatus, SubscriberUpdate,
};
use switchboard_billing::ledger::{FEED_LEN, Ledger, MAX_CURRENCIES, MAX_INVOICES};

fn minor() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MAX),
        Just(i64::MIN),
        Just(0),
        any::<i64>(),
        -100_000i64..100_000
    ]
}

fn invoice() -> impl Strategy<Value = InvoiceUpdate> {
    let currency = prop_oneof!["EUR", "JPY", "KWD", "[A-Z]{3}", any::<String>()];
    let status = prop::sample::select(InvoiceStatus::ALL.to_vec());
    (
        0u32..4000,
        minor(),
        currency,
        status,
        prop_oneof!["[a-z]{1,8}", (1usize..3000).prop_map(|n| "x".repeat(n))],
    )
        .prop_map(|(id, minor, currency, status, name)| InvoiceUpdate {
            invoice_id: format!("INV-{id}"),
            subscriber_id: "sub".into(),
            subscriber_name: name,
            amount: Money { minor, currency },
            status,
            updated_at: "2025-10-16T12:00:00Z".into(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_takes_anything_and_stays_bounded(
        invoices in prop::collection::vec(invoice(), 1..300),
        filler in 0..MAX_INVOICES * 2,
    ) {
        let mut ledger = Ledger::default();
        for inv in invoices {
            let currency = inv.amount.currency.clone();
            ledger.invoice(inv);
            ledger.subscriber(SubscriberUpdate {
                subscriber_id: "s".into(),
                name: "n".repeat(2000),
                plan: "p".into(),
                status: SubscriberStatus::Active,
                changed_at: String::new(),
            });
            prop_assert!(ledger.invoice_count() <= MAX_INVOICES);
            let _ = ledger.paid(&currency);
        }
        // Past the bound: as many distinct invoices again as the ledger keeps, and more, in a
        // currency it holds (a new one may be refused past MAX_CURRENCIES).
        let held = ledger.feed().next().map(|i| i.amount.currency.clone()).unwrap_or_default();
        for i in 0..filler {
            ledger.invoice(InvoiceUpdate {
                invoice_id: format!("FILL-{i}"),
                subscriber_id: "sub".into(),
                subscriber_name: "n".into(),
                amount: Money { minor: 100, currency: held.clone() },
                status: InvoiceStatus::Issued,
                updated_at: "2025-10-16T12:00:00Z".into(),
            });
            prop_assert!(ledger.invoice_count() <= MAX_INVOICES);
        }
        if filler >= MAX_INVOICES {
            prop_assert_eq!(ledger.invoice_count(), MAX_INVOICES, "full, not emptied");
        }
        prop_assert!(ledger.feed().count() <= FEED_LEN);
        prop_assert!(ledger.subscriber_changes().count() <= FEED_LEN);
        let mut currencies = std::collections::BTreeSet::new();
        for total in ledger.totals() {
            for (currency, minor) in &total.minor {
                currencies.insert(currency.clone());
                let _ = Money { minor: *minor, currency: currency.clone() }.to_string();
            }
        }
        prop_assert!(currencies.len() <= MAX_CURRENCIES);
        for inv in ledger.feed() {
            let _ = inv.amount.to_string();
        }
    }
}

#[test]
fn sums_saturate_instead_of_overflowing() {
    let mut ledger = Ledger::default();
    for i in 0..3 {
        ledger.invoice(InvoiceUpdate {
            invoice_id: format!("INV-{i}"),
            subscriber_id: "s".into(),
            subscriber_name: "n".into(),
            amount: Money {
                minor: i64::MAX,
                currency: "EUR".into(),
            },
            status: InvoiceStatus::Paid,
            updated_at: String::new(),
        });
    }
    assert_eq!(ledger.paid("EUR"), i64::MAX);
    let paid = &ledger.totals()[2];
    assert_eq!(paid.minor["EUR"], i64::MAX);
}
