//! Billing views: the live invoice feed, totals by status, paid revenue over time, and recent
//! subscriber changes.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::Frame;
use switchboard_kit::WsHandle;
use switchboard_kit::bars::{Bar, Bars};
use switchboard_kit::chart::{History, SeriesSpec, TimeSeriesChart};
use switchboard_kit::format;
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::{Store, use_store};
use yew::prelude::*;

use crate::data::{
    INVOICE_UPDATE, InvoiceStatus, InvoiceUpdate, Money, SUBSCRIBER_UPDATE, SubscriberUpdate,
};
use crate::ledger::{Ledger, MAX_CURRENCIES, MAX_INVOICES};

const REVENUE: &[SeriesSpec] = &[SeriesSpec {
    label: "Paid revenue",
    color: 2,
}];

/// The billing module's state: the ledger and the revenue history.
#[derive(Debug)]
pub struct State {
    ledger: Ledger,
    revenue: History,
    /// The currency the revenue chart follows: the first one seen paid (a chart has one
    /// unit; the card lists every currency).
    chart_currency: Option<String>,
    /// Invoice and subscriber updates folded in.
    seen: u64,
}

impl State {
    fn new() -> Self {
        Self {
            ledger: Ledger::default(),
            revenue: History::new(600, Some(Duration::from_secs(1800))),
            chart_currency: None,
            seen: 0,
        }
    }
}

fn on_invoice(s: &mut State, inv: InvoiceUpdate, frame: &Frame) {
    if s.chart_currency.is_none() && inv.status == InvoiceStatus::Paid {
        s.chart_currency = Some(inv.amount.currency.clone());
    }
    s.ledger.invoice(inv);
    s.seen = s.seen.saturating_add(1);
    let Some(currency) = s.chart_currency.as_deref() else {
        return;
    };
    let major = s.ledger.paid(currency) as f64 / 100.0; // drawing only; totals stay integer
    s.revenue.record_frame(frame, &[major]);
}

fn on_subscriber(s: &mut State, u: SubscriberUpdate, _: &Frame) {
    s.ledger.subscriber(u);
    s.seen = s.seen.saturating_add(1);
}

/// The billing store, beside the connection for its whole life (see `switchboard_kit::store`).
pub fn store(handle: &WsHandle) -> Store<State> {
    Store::new(State::new)
        .carry(|old, new| {
            new.revenue = old.revenue.clone();
            new.chart_currency = old.chart_currency.clone();
        })
        .fold(handle, INVOICE_UPDATE, on_invoice)
        .fold(handle, SUBSCRIBER_UPDATE, on_subscriber)
}

fn status_tone(s: InvoiceStatus) -> &'static str {
    match s {
        InvoiceStatus::Draft => "muted",
        InvoiceStatus::Issued => "series1",
        InvoiceStatus::Paid => "ok",
        InvoiceStatus::Overdue => "bad",
        InvoiceStatus::Void => "series3",
    }
}

fn total_text(minor: &std::collections::BTreeMap<String, i64>, count: usize) -> String {
    let sums: Vec<String> = minor
        .iter()
        .map(|(c, m)| {
            Money {
                minor: *m,
                currency: c.clone(),
            }
            .to_string()
        })
        .collect();
    if sums.is_empty() {
        format!("0 ({count})")
    } else {
        format!("{} ({count})", sums.join(" + "))
    }
}

/// The billing page.
#[styled_component]
pub fn BillingPage() -> Html {
    let view = use_store(store);
    let (state, provenance) = view.pick(|s| s.seen > 0);
    let ledger = &state.ledger;
    let bars: Vec<Bar> = ledger
        .totals()
        .into_iter()
        .map(|t| Bar {
            label: t.status.as_str().into(),
            value: t.minor.values().map(|m| *m as f64).sum(),
            text: total_text(&t.minor, t.count).into(),
            tone: status_tone(t.status),
        })
        .collect();
    let style = css!(
        "display:grid; gap:24px; grid-template-columns:repeat(auto-fit, minmax(360px, 1fr));
         h3 { margin:0 0 8px; font-size:14px; }
         td { white-space:nowrap; }
         .status { font-weight:600; text-transform:capitalize; }
         tr[data-provenance=simulated] td { font-style:italic; opacity:.75; }
         tr[data-provenance=simulated] td:first-child { box-shadow:inset 3px 0 0 var(--sb-warn); }"
    );
    let feed = ledger.feed().map(|i| {
        html! {
            <tr data-provenance={provenance.as_str()}>
                <td>{ &i.invoice_id }</td>
                <td>{ &i.subscriber_name }</td>
                <td class="num">{ i.amount.to_string() }</td>
                <td class="status" style={format!("color:var(--sb-{})", status_tone(i.status))}>{ i.status.as_str() }</td>
            </tr>
        }
    });
    let subscribers = ledger.subscriber_changes().map(|s| {
        html! { <tr><td>{ &s.name }</td><td>{ &s.plan }</td><td class="status">{ s.status.as_str() }</td></tr> }
    });
    let revenue_title = match &state.chart_currency {
        Some(c) => format!("Paid revenue, {c}"),
        None => "Paid revenue".to_owned(),
    };
    html! {
        <div class={style} data-testid="billing">
            <section>
                <h3>{ "Invoice feed " }<SourceTag {provenance} live_at={view.live_at()} /></h3>
                <table class="sb-table">
                    <thead><tr><th scope="col">{ "Invoice" }</th><th scope="col">{ "Subscriber" }</th>
                        <th scope="col" class="num">{ "Amount" }</th><th scope="col">{ "Status" }</th></tr></thead>
                    <tbody>{ for feed }</tbody>
                </table>
            </section>
            <section style="display:grid; gap:16px; align-content:start;">
                if ledger.not_kept() > 0 {
                    <p data-testid="not-kept" style="color:var(--sb-muted); margin:0">
                        { format!("{} invoices not kept: the totals hold the latest {MAX_INVOICES} in up to {MAX_CURRENCIES} currencies", ledger.not_kept()) }
                    </p>
                }
                <Bars title="Totals by status" {bars} />
                <TimeSeriesChart title={revenue_title} unit="" series={REVENUE} hold={true}
                                 history={state.revenue.clone()} version={view.version()} outages={view.outages()} window_secs={1800.0}
                                 height={140} decimals={2} />
                <div>
                    <h3>{ "Subscriber changes" }</h3>
                    <table class="sb-table">
                        <thead><tr><th scope="col">{ "Subscriber" }</th><th scope="col">{ "Plan" }</th><th scope="col">{ "Now" }</th></tr></thead>
                        <tbody>{ for subscribers }</tbody>
                    </table>
                </div>
            </section>
        </div>
    }
}

/// The overview card: paid revenue and overdue invoices.
#[component]
pub fn BillingSummary() -> Html {
    let view = use_store(store);
    let (state, provenance) = view.pick(|s| s.seen > 0);
    let ledger = &state.ledger;
    let overdue = ledger
        .totals()
        .into_iter()
        .find(|t| t.status == InvoiceStatus::Overdue);
    let known = view.known(|s| s.seen > 0);
    let overdue = match overdue {
        _ if !known => format::UNKNOWN.to_owned(),
        Some(t) => t.count.to_string(),
        None => "0".to_owned(),
    };
    let paid: Vec<String> = ledger.paid_totals().map(|m| m.to_string()).collect();
    let paid = if !known {
        format::UNKNOWN.to_owned()
    } else if paid.is_empty() {
        "nothing yet".to_owned()
    } else {
        paid.join(" · ")
    };
    html! {
        <p data-provenance={provenance.as_str()}>
            <SourceTag {provenance} live_at={view.live_at()} /><br />
            { "Paid since opened: " }<b data-testid="paid">{ paid }</b><br />
            { format!("Overdue invoices: {overdue}") }
        </p>
    }
}

/// Props of [`SubscriberInvoices`].
#[derive(Debug, Properties, PartialEq)]
pub struct SubscriberInvoicesProps {
    /// The subscriber's id.
    pub id: AttrValue,
}

/// The billing part of a subscriber's page: the invoices held for the account.
#[component]
pub fn SubscriberInvoices(props: &SubscriberInvoicesProps) -> Html {
    let view = use_store(store);
    let (state, provenance) = view.pick(|s| s.seen > 0);
    let invoices = state.ledger.invoices_of(&props.id);
    let name = invoices.first().map(|i| i.subscriber_name.clone());
    let rows = invoices.iter().map(|i| {
        html! {
            <tr data-invoice={i.invoice_id.clone()} data-provenance={provenance.as_str()}>
                <td>{ &i.invoice_id }</td>
                <td class="num">{ i.amount.to_string() }</td>
                <td style={format!("color:var(--sb-{})", status_tone(i.status))}>{ i.status.as_str() }</td>
                <td>{ &i.updated_at }</td>
            </tr>
        }
    });
    html! {
        <div data-testid="subscriber-invoices">
            <p>
                <SourceTag {provenance} live_at={view.live_at()} />{ " " }
                if let Some(name) = name { <b data-testid="subscriber-name">{ name }</b>{ " · " } }
                { format!("Invoices held: {}", invoices.len()) }
            </p>
            if !invoices.is_empty() {
                <table class="sb-table">
                    <thead><tr><th scope="col">{ "Invoice" }</th><th scope="col" class="num">{ "Amount" }</th>
                        <th scope="col">{ "Status" }</th><th scope="col">{ "Updated" }</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        </div>
    }
}
