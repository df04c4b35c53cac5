//! The network health panel: the health score, each site with its devices, and the active
//! alerts by severity.

use stylist::yew::styled_component;
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::use_store;
use yew::prelude::*;

use super::bandwidth::store;
use crate::data::{Health, Severity};

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
    let view = use_store(store);
    let (state, provenance) = view.pick(|s| s.health.is_some());
    let style = css!(
        "display:grid; gap:12px; align-content:start;
         .score { font-size:28px; font-weight:700; font-variant-numeric:tabular-nums; }
         td { font-variant-numeric:tabular-nums; }
         .tone { font-weight:600; }
         .tone::before { content:''; display:inline-block; width:8px; height:8px; border-radius:50%; margin-right:6px; background:currentColor; }
         .ok { color:var(--sb-ok); } .warn { color:var(--sb-warn); } .bad { color:var(--sb-bad); }
         ul { list-style:none; margin:0; padding:0; display:grid; gap:6px; }
         li { display:flex; gap:8px; align-items:baseline; font-size:13px; }
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
        html! { <li><span class={classes!("sev", tone)}>{ severity_word(a.severity) }</span>{ &a.message }</li> }
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
