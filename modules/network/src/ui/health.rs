//! The network health panel: the health score, each site with its devices, and the active
//! alerts by severity.

use stylist::yew::styled_component;
use switchboard_core::{Provenance, Status};
use switchboard_kit::action::{act_button, act_or_note, action_note, unavailable};
use switchboard_kit::hooks::{use_status, use_ws_handle};
use switchboard_kit::status::{SourceTag, clock_time};
use switchboard_kit::store::{FIGURES_EVERY_MS, use_store, use_store_spaced};
use yew::prelude::*;

use super::bandwidth::store;
use crate::data::{ACKNOWLEDGE_ALERT, AcknowledgeAlert, Health, Severity};

fn health_word(h: Health) -> &'static str {
    match h {
        Health::Up => "Up",
        Health::Degraded => "Degraded",
        Health::Down => "Down",
    }
}

fn health_tone(h: Health) -> &'static str {
    match h {
        Health::Up => "ok",
        Health::Degraded => "warn",
        Health::Down => "bad",
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::Major => "Major",
        Severity::Minor => "Minor",
        Severity::Info => "Info",
    }
}

/// The health score and sites (used by the page and, compactly, by the card).
#[styled_component]
pub fn NetworkHealthPanel() -> Html {
    let view = use_store_spaced(store, FIGURES_EVERY_MS);
    let handle = use_ws_handle();
    // Re-renders when the connection or an action's state changes.
    let status_now = use_status();
    let note = use_state(|| None::<String>);
    let (state, provenance) = view.pick(|s| s.health.is_some());
    // Offered on live data only, to a token the server granted it.
    let may_ack = provenance == Provenance::Live && handle.granted(ACKNOWLEDGE_ALERT.name());
    let connected = status_now.status == Status::Connected;
    let style = css!(
        "display:grid; gap:12px; align-content:start;
         .score { font-size:28px; font-weight:700; font-variant-numeric:tabular-nums; }
         td { font-variant-numeric:tabular-nums; }
         .tone { font-weight:600; }
         .tone::before { content:''; display:inline-block; width:8px; height:8px; border-radius:50%; margin-right:6px; background:currentColor; }
         .ok { color:var(--sb-ok); } .warn { color:var(--sb-warn); } .bad { color:var(--sb-bad); }
         ul { list-style:none; margin:0; padding:0; display:grid; gap:6px; }
         li { display:flex; gap:8px; align-items:baseline; font-size:13px; }
         li { flex-wrap:wrap; }
         .acked { color:var(--sb-muted); font-size:12px; }
         .sev { font-size:11px; font-weight:700; text-transform:uppercase; padding:1px 6px; border-radius:4px; border:1px solid currentColor; }"
    );
    let Some(status) = state.health.as_ref() else {
        return html! { <p class={style}>{ "Waiting for the first health report…" }</p> };
    };
    let sites = status.sites.iter().map(|s| {
        html! {
            <tr>
                <td>{ &s.name }</td>
                <td><span class={classes!("tone", health_tone(s.status))}>{ health_word(s.status) }</span></td>
                <td>{ format!("{} / {}", s.devices_up, s.devices_total) }</td>
            </tr>
        }
    });
    let alerts = status.alerts.iter().map(|a| {
        let tone = match a.severity {
            Severity::Critical => "bad",
            Severity::Major | Severity::Minor => "warn",
            Severity::Info => "ok",
        };
        let acked = a.acknowledged_by.as_ref().map(|by| {
            let at = a
                .acknowledged_at
                .as_deref()
                .and_then(switchboard_core::Instant::parse_rfc3339)
                .map_or_else(String::new, |at| format!(" at {}", clock_time(at)));
            format!("Acknowledged by {by}{at}")
        });
        let entry = handle.action_on(&a.id);
        let idle = connected && !entry.as_ref().is_some_and(|e| e.phase.is_pending());
        let ack = {
            let (handle, note, id) = (handle.clone(), note.clone(), a.id.clone());
            Callback::from(move |_: MouseEvent| {
                let payload = AcknowledgeAlert {
                    alert_id: id.clone(),
                };
                act_or_note(&handle, ACKNOWLEDGE_ALERT, payload, &note);
            })
        };
        html! {
            <li data-alert={a.id.clone()}>
                <span class={classes!("sev", tone)}>{ severity_word(a.severity) }</span>{ &a.message }
                if let Some(text) = acked {
                    <span class="acked" data-testid="acknowledged">{ text }</span>
                } else if may_ack {
                    { act_button("Acknowledge", "acknowledge", idle, ack) }
                }
                { action_note(entry.as_ref()) }
            </li>
        }
    });
    html! {
        <section class={style} data-testid="health" aria-label="Network health" data-provenance={provenance.as_str()}>
            <div><span class="score">{ status.health_score }</span>{ " / 100 health " }<SourceTag {provenance} live_at={view.live_at()} /></div>
            <table class="sb-table">
                <thead><tr><th scope="col">{ "Site" }</th><th scope="col">{ "Status" }</th><th scope="col">{ "Devices up" }</th></tr></thead>
                <tbody>{ for sites }</tbody>
            </table>
            if status.alerts.is_empty() {
                <p>{ "No active alerts." }</p>
            } else {
                <ul aria-label="Active alerts">{ for alerts }</ul>
            }
            if let Some(why) = unavailable(status_now.status).filter(|_| may_ack) {
                <p class="sb-action-note" data-testid="actions-unavailable">{ why }</p>
            }
            if let Some(why) = (*note).clone() {
                <p class="sb-action-note refused" role="alert" data-testid="action-error">{ why }</p>
            }
        </section>
    }
}

/// The overview card's summary: the score and the count of sites not up.
#[component]
pub fn NetworkHealthSummary() -> Html {
    let view = use_store(store);
    let (state, provenance) = view.pick(|s| s.health.is_some());
    match state.health.as_ref() {
        Some(s) => {
            let troubled = s
                .sites
                .iter()
                .filter(|site| site.status != Health::Up)
                .count();
            html! {
                <p data-provenance={provenance.as_str()}>
                    { format!("Health {} / 100 · {} of {} sites with issues ", s.health_score, troubled, s.sites.len()) }
                    <SourceTag {provenance} live_at={view.live_at()} />
                </p>
            }
        }
        None => {
            let what = if view.known(|s| s.health.is_some()) {
                "waiting for data"
            } else {
                "unknown"
            };
            html! {
                <p data-testid="health-unknown">
                    { format!("Health: {what} ") }<SourceTag {provenance} live_at={view.live_at()} />
                </p>
            }
        }
    }
}
