//! `LiveSessionMonitor`: the reference's example component. Active sessions with username,
//! IP, NAS, upload, download, live bandwidth and a ticking duration; sortable headers; rows
//! that animate in and out; and the active count over time.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::Frame;
use switchboard_kit::chart::{History, Sample, SeriesSpec, TimeSeriesChart};
use switchboard_kit::format;
use switchboard_kit::handle::now;
use switchboard_kit::hooks::{use_channel_fold, use_now};
use yew::prelude::*;

use crate::data::{SESSION_UPDATE, SessionUpdate};
use crate::table::{ENTER_FOR, Row, SessionTable, SortKey};

const ACTIVE: &[SeriesSpec] = &[SeriesSpec {
    label: "Active sessions",
    color: 1,
}];

/// The monitor's state: the table and the active-count history.
#[derive(Debug)]
pub struct Monitor {
    /// The sessions.
    pub table: SessionTable,
    /// Active sessions over time.
    pub active: History,
}

fn fold(m: &mut Monitor, u: SessionUpdate, frame: &Frame) {
    let at = now();
    m.table.apply(u, at, frame.provenance());
    m.table.prune(at);
    m.active
        .record(at, Sample::new(&[m.table.len() as f64], frame.provenance()));
}

#[hook]
fn use_monitor(max_rows: usize) -> switchboard_kit::hooks::Folded<Monitor> {
    use_channel_fold(
        SESSION_UPDATE,
        || Monitor {
            table: SessionTable::new(max_rows),
            active: History::new(600, Some(Duration::from_secs(600))),
        },
        fold,
    )
}

/// Props of [`LiveSessionMonitor`].
#[derive(Properties, PartialEq, Debug)]
pub struct LiveSessionMonitorProps {
    /// Most rows shown; new sessions beyond it are counted and reported.
    #[prop_or(500)]
    pub max_rows: usize,
}

const COLUMNS: [(SortKey, &str, bool); 7] = [
    (SortKey::Username, "User", false),
    (SortKey::Ip, "IP address", false),
    (SortKey::Nas, "NAS", false),
    (SortKey::Upload, "Upload", true),
    (SortKey::Download, "Download", true),
    (SortKey::Rate, "Bandwidth", true),
    (SortKey::Duration, "Duration", true),
];

fn row_html(row: &Row, now: switchboard_core::Instant, class: &'static str) -> Html {
    let s = &row.session;
    let entering = row.entered_at.until(now) < ENTER_FOR && class.is_empty();
    html! {
        <tr key={s.session_id.clone()} class={classes!(class, entering.then_some("entering"))} data-session={s.session_id.clone()}>
            <td>{ &s.username }</td>
            <td class="mono">{ &s.ip_address }</td>
            <td class="mono">{ &s.nas_ip_address }</td>
            <td class="num">{ format::bytes(s.upload_bytes) }</td>
            <td class="num">{ format::bytes(s.download_bytes) }</td>
            <td class="num">{ format!("↓ {} · ↑ {}", format::rate(row.down_bps), format::rate(row.up_bps)) }</td>
            <td class="num">{ format::clock(row.duration(now)) }</td>
        </tr>
    }
}

/// See the module docs. Render it inside the sessions module's provider.
#[styled_component]
pub fn LiveSessionMonitor(props: &LiveSessionMonitorProps) -> Html {
    let monitor = use_monitor(props.max_rows);
    let now = use_now(1000);
    let sort = use_state(|| (SortKey::Duration, true));
    let m = monitor.borrow();
    let (key, descending) = *sort;
    let rows = m.table.sorted(key, descending, now);
    let headers = COLUMNS.iter().map(|(k, label, numeric)| {
        let active = *k == key;
        let aria = match (active, descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        let onclick = {
            let (sort, k) = (sort.clone(), *k);
            Callback::from(move |_| {
                let (cur, desc) = *sort;
                sort.set(if cur == k { (k, !desc) } else { (k, true) });
            })
        };
        let arrow = if active {
            if descending { " ▼" } else { " ▲" }
        } else {
            ""
        };
        html! {
            <th scope="col" aria-sort={aria} class={classes!(numeric.then_some("num"))}>
                <button type="button" {onclick}>{ label }{ arrow }</button>
            </th>
        }
    });
    let style = css!(
        "display:grid; gap:12px;
         .meta { display:flex; gap:16px; flex-wrap:wrap; font-size:13px; color:var(--sb-muted); }
         .meta b { color:var(--sb-text); font-size:18px; }
         .scroll { overflow-x:auto; }
         table { border-collapse:collapse; width:100%; font-size:13px; }
         th { text-align:left; border-bottom:1px solid var(--sb-border); padding:0; }
         th button { all:unset; cursor:pointer; display:block; padding:6px 8px; font-weight:600;
                     color:var(--sb-muted); white-space:nowrap; }
         th button:focus-visible { outline:2px solid var(--sb-accent); }
         th.num button { text-align:right; }
         td { padding:6px 8px; border-bottom:1px solid var(--sb-border); white-space:nowrap; }
         .num { text-align:right; font-variant-numeric:tabular-nums; }
         .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
         tr.entering { animation:sb-enter 1.5s ease-out; }
         tr.leaving { animation:sb-leave .8s ease-in forwards; }
         @keyframes sb-enter { from { background:color-mix(in srgb, var(--sb-ok) 25%, transparent); } to { background:transparent; } }
         @keyframes sb-leave { from { opacity:1; } to { opacity:0; text-decoration:line-through; } }"
    );
    let leaving: Vec<Html> = m
        .table
        .leaving(now)
        .map(|r| row_html(r, now, "leaving"))
        .collect();
    html! {
        <section class={style} data-testid="sessions" aria-label="Live sessions">
            <div class="meta">
                <span><b data-testid="active-count">{ m.table.len() }</b>{ " active sessions" }</span>
                if m.table.overflow > 0 {
                    <span data-testid="overflow">{ format!("{} not shown (limit {})", m.table.overflow, m.table.max_rows) }</span>
                }
                if m.table.unknown > 0 {
                    <span>{ format!("{} updates for unknown sessions", m.table.unknown) }</span>
                }
            </div>
            <TimeSeriesChart title="Active sessions" unit="sessions" series={ACTIVE}
                             history={m.active.clone()} version={monitor.version()}
                             window_secs={600.0} height={110} decimals={0} />
            <div class="scroll">
                <table>
                    <thead><tr>{ for headers }</tr></thead>
                    <tbody>
                        { for rows.iter().map(|r| row_html(r, now, "")) }
                        { for leaving }
                    </tbody>
                </table>
            </div>
            if m.table.is_empty() { <p>{ "No active sessions." }</p> }
        </section>
    }
}

/// The overview card: the active count and the busiest session.
#[component]
pub fn ActiveSessionsSummary() -> Html {
    let monitor = use_monitor(500);
    let now = use_now(1000);
    let m = monitor.borrow();
    // Rates need two reports; until then there is no "busiest" to name.
    let busiest = m
        .table
        .sorted(SortKey::Rate, true, now)
        .first()
        .filter(|r| r.down_bps > 0.0)
        .map(|r| {
            format!(
                "busiest: {} at {}",
                r.session.username,
                format::rate(r.down_bps)
            )
        });
    html! {
        <p>
            <b data-testid="active-count">{ m.table.len() }</b>{ " active sessions" }
            if let Some(b) = busiest { <br /><span>{ b }</span> }
        </p>
    }
}
