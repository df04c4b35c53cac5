//! Support views: the live queue by priority and age, open tickets by priority, open tickets
//! over time, and the SLA indicator.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::{Frame, Provenance, Status};
use switchboard_kit::WsHandle;
use switchboard_kit::action::{act_button, act_or_note, action_note, unavailable};
use switchboard_kit::bars::{Bar, Bars};
use switchboard_kit::chart::{History, SeriesSpec, TimeSeriesChart};
use switchboard_kit::format;
use switchboard_kit::hooks::{use_now, use_status, use_ws_handle};
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::{Store, use_store};
use yew::prelude::*;

use crate::data::{
    Priority, SET_TICKET_STATUS, SetTicketStatus, SettableStatus, TAKE_TICKET, TICKET_UPDATE,
    TakeTicket, TicketStatus, TicketUpdate,
};
use crate::queue::{DEFAULT_SLA, MAX_TICKETS, Queue};

const OPEN: &[SeriesSpec] = &[SeriesSpec {
    label: "Open tickets",
    color: 1,
}];

/// The support module's state: the queue and the open-tickets history.
#[derive(Debug)]
pub struct State {
    queue: Queue,
    open: History,
    /// Ticket updates folded in.
    seen: u64,
}

impl State {
    fn new() -> Self {
        Self {
            queue: Queue::default(),
            open: History::new(600, Some(Duration::from_secs(1800))),
            seen: 0,
        }
    }
}

fn fold(s: &mut State, t: TicketUpdate, frame: &Frame) {
    s.queue.apply(t);
    s.seen = s.seen.saturating_add(1);
    s.open.record_frame(frame, &[s.queue.active().len() as f64]);
}

/// The support store, beside the connection for its whole life (see `switchboard_kit::store`).
pub fn store(handle: &WsHandle) -> Store<State> {
    Store::new(State::new)
        .carry(|old, new| new.open = old.open.clone())
        .fold(handle, TICKET_UPDATE, fold)
}

fn priority_tone(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "bad",
        Priority::High => "warn",
        Priority::Normal => "series1",
        Priority::Low => "muted",
    }
}

/// The support page.
#[styled_component]
pub fn SupportPage() -> Html {
    let view = use_store(store);
    let now = use_now(1000);
    let handle = use_ws_handle();
    // Re-renders when the connection or an action's state changes.
    let status = use_status();
    let note = use_state(|| None::<String>);
    let (s, provenance) = view.pick(|s| s.seen > 0);
    // Actions are offered on live rows only, to a token the server granted them.
    let live = provenance == Provenance::Live;
    let (may_take, may_set) = (
        live && handle.granted(TAKE_TICKET.name()),
        live && handle.granted(SET_TICKET_STATUS.name()),
    );
    let acting = may_take || may_set;
    let connected = status.status == Status::Connected;
    let breaches = s.queue.breaches(now, DEFAULT_SLA);
    let bars: Vec<Bar> = s
        .queue
        .by_priority()
        .into_iter()
        .map(|(p, n)| Bar {
            label: p.as_str().into(),
            value: n as f64,
            text: n.to_string().into(),
            tone: priority_tone(p),
        })
        .collect();
    let style = css!(
        "display:grid; gap:24px; grid-template-columns:repeat(auto-fit, minmax(360px, 1fr));
         h3 { margin:0 0 8px; font-size:14px; }
         .prio { font-weight:700; text-transform:uppercase; font-size:11px; }
         .late { color:var(--sb-bad); font-weight:600; }
         tr[data-provenance=simulated] td { font-style:italic; opacity:.75; }
         tr[data-provenance=simulated] td:first-child { box-shadow:inset 3px 0 0 var(--sb-warn); }
         .acts { display:flex; gap:6px; align-items:center; flex-wrap:wrap; }
         .sla { padding:8px 12px; border-radius:6px; font-weight:600; border:1px solid; }"
    );
    let provenance_name = provenance.as_str();
    let rows = s.queue.active().into_iter().map(|t| {
        let age = t.age(now);
        let late = age.is_some_and(|a| a > DEFAULT_SLA);
        let age_text = age.map_or_else(|| "unknown".to_owned(), format::clock);
        html! {
            <tr data-ticket={t.ticket_id.clone()} data-provenance={provenance_name}>
                <td class="prio" style={format!("color:var(--sb-{})", priority_tone(t.priority))}>{ t.priority.as_str() }</td>
                <td>{ &t.subject }</td>
                <td>{ t.status.as_str() }</td>
                <td>{ t.assignee.clone().unwrap_or_else(|| "unassigned".into()) }</td>
                <td class={classes!(late.then_some("late"))}>{ age_text }{ if late { " ⚠ SLA" } else { "" } }</td>
                if acting { { ticket_actions(&handle, t, (may_take, may_set), connected, &note) } }
            </tr>
        }
    });
    // No data and no feed: the SLA is unknown, not a green "0".
    let known = view.known(|s| s.seen > 0);
    let (sla_tone, sla_text) = match (known, breaches) {
        (false, _) => (
            "muted",
            "SLA unknown: no ticket data, the feed is offline".to_owned(),
        ),
        (true, n) => (
            if n > 0 { "bad" } else { "ok" },
            format!(
                "{n} ticket(s) open longer than {} h (SLA)",
                DEFAULT_SLA.as_secs() / 3600
            ),
        ),
    };
    html! {
        <div class={style} data-testid="support">
            <section>
                <h3>{ "Ticket queue " }<SourceTag {provenance} live_at={view.live_at()} /></h3>
                if let Some(why) = unavailable(status.status).filter(|_| acting) {
                    <p class="sb-action-note" data-testid="actions-unavailable">{ why }</p>
                }
                if let Some(why) = (*note).clone() {
                    <p class="sb-action-note refused" role="alert" data-testid="action-error">{ why }</p>
                }
                <table class="sb-table">
                    <thead><tr><th scope="col">{ "Priority" }</th><th scope="col">{ "Subject" }</th>
                        <th scope="col">{ "Status" }</th><th scope="col">{ "Assignee" }</th><th scope="col">{ "Age" }</th>
                        if acting { <th scope="col"><span class="sb-visually-hidden">{ "Actions" }</span></th> }
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </section>
            <section style="display:grid; gap:16px; align-content:start;">
                <div class="sla" data-testid="sla" data-known={known.to_string()} style={format!("color:var(--sb-{sla_tone})")}>
                    { sla_text }
                </div>
                if s.queue.not_kept() > 0 {
                    <p data-testid="not-kept" style="color:var(--sb-muted); margin:0">
                        { format!("{} tickets not kept: the queue holds {MAX_TICKETS}, resolved and least urgent go first", s.queue.not_kept()) }
                    </p>
                }
                <Bars title="Open tickets by priority" {bars} />
                <TimeSeriesChart title="Open tickets" unit="tickets" series={OPEN} hold={true} history={s.open.clone()}
                                 version={view.version()} outages={view.outages()} window_secs={1800.0} height={140} decimals={0} />
            </section>
        </div>
    }
}

/// A ticket's actions: take it when unassigned, park it as pending, resolve it; and where the
/// last action on it stands.
fn ticket_actions(
    handle: &WsHandle,
    t: &TicketUpdate,
    (may_take, may_set): (bool, bool),
    connected: bool,
    note: &UseStateHandle<Option<String>>,
) -> Html {
    let entry = handle.action_on(&t.ticket_id);
    let idle = connected && !entry.as_ref().is_some_and(|e| e.phase.is_pending());
    let take = {
        let (handle, note, id) = (handle.clone(), note.clone(), t.ticket_id.clone());
        Callback::from(move |_: MouseEvent| {
            let payload = TakeTicket {
                ticket_id: id.clone(),
            };
            act_or_note(&handle, TAKE_TICKET, payload, &note);
        })
    };
    let set = |status: SettableStatus| {
        let (handle, note, id) = (handle.clone(), note.clone(), t.ticket_id.clone());
        Callback::from(move |_: MouseEvent| {
            let payload = SetTicketStatus {
                ticket_id: id.clone(),
                status,
            };
            act_or_note(&handle, SET_TICKET_STATUS, payload, &note);
        })
    };
    html! {
        <td class="act"><span class="acts">
            if may_take && t.assignee.is_none() { { act_button("Take", "take", idle, take) } }
            if may_set && t.status != TicketStatus::Pending {
                { act_button("Pending", "set-pending", idle, set(SettableStatus::Pending)) }
            }
            if may_set { { act_button("Resolve", "resolve", idle, set(SettableStatus::Resolved)) } }
            { action_note(entry.as_ref()) }
        </span></td>
    }
}

/// The overview card: open tickets and SLA breaches.
#[component]
pub fn SupportSummary() -> Html {
    let view = use_store(store);
    let now = use_now(5000);
    let (s, provenance) = view.pick(|s| s.seen > 0);
    let urgent = s.queue.by_priority()[0].1;
    let known = view.known(|s| s.seen > 0);
    let open = if known {
        s.queue.active().len().to_string()
    } else {
        format::UNKNOWN.to_owned()
    };
    let detail = if known {
        format!(
            " · {urgent} urgent · {} past the {} h SLA",
            s.queue.breaches(now, DEFAULT_SLA),
            DEFAULT_SLA.as_secs() / 3600
        )
    } else {
        String::new()
    };
    html! {
        <p data-provenance={provenance.as_str()}>
            <SourceTag {provenance} live_at={view.live_at()} /><br />
            <b data-testid="open-count">{ open }</b>{ " open tickets" }{ detail }
        </p>
    }
}

/// Props of [`SubscriberTickets`].
#[derive(Debug, Properties, PartialEq)]
pub struct SubscriberTicketsProps {
    /// The subscriber's id.
    pub id: AttrValue,
}

/// The support part of a subscriber's page: the tickets held about the account. Tickets
/// carry a `subscriber_id` only when the backend sends one.
#[component]
pub fn SubscriberTickets(props: &SubscriberTicketsProps) -> Html {
    let view = use_store(store);
    let (s, provenance) = view.pick(|s| s.seen > 0);
    let tickets = s.queue.of_subscriber(&props.id);
    let rows = tickets.iter().map(|t| {
        html! {
            <tr data-ticket={t.ticket_id.clone()} data-provenance={provenance.as_str()}>
                <td>{ &t.ticket_id }</td>
                <td style={format!("color:var(--sb-{})", priority_tone(t.priority))}>{ t.priority.as_str() }</td>
                <td>{ &t.subject }</td>
                <td>{ t.status.as_str() }</td>
                <td>{ t.assignee.clone().unwrap_or_else(|| "unassigned".into()) }</td>
            </tr>
        }
    });
    html! {
        <div data-testid="subscriber-tickets">
            <p><SourceTag {provenance} live_at={view.live_at()} />{ format!(" Tickets held: {}", tickets.len()) }</p>
            if !tickets.is_empty() {
                <table class="sb-table">
                    <thead><tr><th scope="col">{ "Ticket" }</th><th scope="col">{ "Priority" }</th>
                        <th scope="col">{ "Subject" }</th><th scope="col">{ "Status" }</th>
                        <th scope="col">{ "Assignee" }</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        </div>
    }
}
