//! `LiveSessionMonitor`: the reference's example component. Active sessions with username,
//! IP, NAS, upload, download, live bandwidth and a ticking duration; sortable headers; rows
//! that animate in and out; and the active count over time.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::Status;
use switchboard_core::{Frame, Provenance};
use switchboard_kit::WsHandle;
use switchboard_kit::action::{ConfirmDialog, act_or_note, action_note, unavailable};
use switchboard_kit::chart::{History, SeriesSpec, TimeSeriesChart};
use switchboard_kit::format;
use switchboard_kit::handle::now;
use switchboard_kit::hooks::{use_now, use_status, use_ws_handle};
use switchboard_kit::nav::{AppLink, subscriber_path};
use switchboard_kit::search;
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::{FIGURES_EVERY_MS, Store, use_store, use_store_spaced};
use yew::prelude::*;

use super::backend_search::{BackendSearch, ask, use_backend_search};
use crate::data::{
    DISCONNECT, Disconnect, DisconnectReason, MAX_NOTE, MAX_QUERY, SESSION_UPDATE, Session,
    SessionUpdate, matches, normalize,
};
use crate::table::{ENTER_FOR, Row, SessionTable, SortKey, Window};

/// Height of a table row in CSS pixels; the stylesheet below fixes rows to it.
const ROW_PX: u32 = 33;
/// The scrolling body shows this many rows; only those (and a few either side) are rendered.
const VIEW_ROWS: u32 = 15;
/// Rows rendered beyond the view either side, so a fast scroll does not show blanks.
const OVERSCAN: usize = 6;

const ACTIVE: &[SeriesSpec] = &[SeriesSpec {
    label: "Active sessions",
    color: 1,
}];

/// Most sessions the table holds; new ones beyond it are counted and reported.
pub const MAX_ROWS: usize = 500;

/// The sessions module's state: the table and the active-count history.
#[derive(Debug)]
pub struct Monitor {
    /// The sessions.
    pub table: SessionTable,
    /// Active sessions over time.
    pub active: History,
    /// Session updates folded in.
    pub seen: u64,
}

impl Monitor {
    fn new() -> Self {
        Self {
            table: SessionTable::new(MAX_ROWS),
            active: History::new(600, Some(Duration::from_secs(600))),
            seen: 0,
        }
    }
}

fn fold(m: &mut Monitor, u: SessionUpdate, frame: &Frame) {
    let at = now();
    m.table.apply(u, at);
    m.table.prune(at);
    m.seen = m.seen.saturating_add(1);
    m.active.record_frame(frame, &[m.table.active() as f64]);
}

/// The sessions store, beside the connection for its whole life (see
/// `switchboard_kit::store`).
pub fn store(handle: &WsHandle) -> Store<Monitor> {
    Store::new(Monitor::new)
        .carry(|old, new| {
            new.active = old.active.clone();
            new.table.remember(&old.table);
        })
        .fold(handle, SESSION_UPDATE, fold)
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

/// A value that may be long (a user name of 128 characters, an IPv6 address): cut to its
/// column's width with an ellipsis, so the other columns stay in view, and shown whole on
/// hover (`title`) and on keyboard focus (a popup drawn from `data-full`, which does not
/// change the row's height).
fn cut(text: &str) -> Html {
    html! {
        <span class="cut" tabindex="0" title={text.to_owned()} data-full={text.to_owned()}>{ text }</span>
    }
}

/// The actions column of a row, when the operator may act on live rows.
struct RowActions<'a> {
    handle: &'a WsHandle,
    /// Connected: the button works. Offline, it shows disabled.
    connected: bool,
    /// Opens the confirmation dialog for a session.
    ask: &'a Callback<Session>,
}

impl RowActions<'_> {
    fn cell(&self, session: &Session, leaving: bool) -> Html {
        let entry = self.handle.action_on(&session.session_id);
        let pending = entry.as_ref().is_some_and(|e| e.phase.is_pending());
        let onclick = {
            let (ask, session) = (self.ask.clone(), session.clone());
            Callback::from(move |_: MouseEvent| ask.emit(session.clone()))
        };
        let label = format!("Disconnect {}", session.username);
        html! {
            <td class="act"><span class="acts">
                if !pending && !leaving {
                    <button type="button" class="sb-act danger" data-testid="disconnect"
                            aria-label={label} disabled={!self.connected} {onclick}>
                        { "Disconnect" }
                    </button>
                }
                { action_note(entry.as_ref()) }
            </span></td>
        }
    }
}

/// The username, linked to the subscriber's page when the session names its subscriber.
fn user_cell(s: &Session) -> Html {
    match &s.subscriber_id {
        Some(id) => html! {
            <AppLink to={subscriber_path(id)} testid="subscriber-link">{ cut(&s.username) }</AppLink>
        },
        None => cut(&s.username),
    }
}

fn row_html(
    row: &Row,
    index: usize,
    now: switchboard_core::Instant,
    leaving: bool,
    provenance: Provenance,
    actions: Option<&RowActions<'_>>,
) -> Html {
    let s = &row.session;
    let class = if leaving {
        Some("leaving")
    } else {
        (row.entered_at.until(now) < ENTER_FOR).then_some("entering")
    };
    // Row 1 is the header row.
    html! {
        <tr key={s.session_id.clone()} class={classes!(class, (provenance == Provenance::Simulated).then_some("simulated"))}
            data-session={s.session_id.clone()} data-provenance={provenance.as_str()}
            aria-rowindex={(index + 2).to_string()}>
            <td>{ user_cell(s) }</td>
            <td class="mono">{ cut(&s.ip_address) }</td>
            <td class="mono">{ cut(&s.nas_ip_address) }</td>
            <td class="num">{ format::bytes(s.upload_bytes) }</td>
            <td class="num">{ format::bytes(s.download_bytes) }</td>
            <td class="num">{ format!("↓ {} · ↑ {}", format::rate(row.down_bps), format::rate(row.up_bps)) }</td>
            <td class="num">{ format::clock(row.duration(now)) }</td>
            if let Some(actions) = actions { { actions.cell(s, leaving) } }
        </tr>
    }
}

/// See the module docs. Render it inside the sessions module's provider; it shows the
/// module's store, so every instance shows the same sessions.
#[styled_component]
pub fn LiveSessionMonitor() -> Html {
    // Under a flood every session's counters change many times a second: the table renders
    // at most every FIGURES_EVERY_MS (its layout is the page's largest cost), the chart every
    // frame; the operator's own sorting, scrolling and searching show at once.
    let view = use_store_spaced(store, FIGURES_EVERY_MS);
    let handle = use_ws_handle();
    // Re-renders when the connection or an action's state changes.
    let status = use_status();
    // The session the confirmation dialog asks about.
    let asking = use_state(|| None::<Session>);
    let form = Form {
        reason: use_state(|| None),
        note: use_state(String::new),
    };
    let refusal = use_state(|| None::<String>);
    // The search: its text is in the URL (`?q=`), so it survives a reload and can be shared.
    let query = use_state(|| search::query_param("q").unwrap_or_default());
    let search_box = use_node_ref();
    {
        // The `/` shortcut brought the operator here: the box takes the focus.
        let search_box = search_box.clone();
        use_effect_with((), move |()| {
            if search::take_focus_request()
                && let Some(input) = search_box.cast::<web_sys::HtmlElement>()
            {
                let _ = input.focus();
            }
        });
    }
    let now = use_now(1000);
    let sort = use_state(|| (SortKey::Duration, true));
    // The first row scrolled into view; a re-render only when it changes.
    let top_row = use_state_eq(|| 0u32);
    let onscroll = {
        let top_row = top_row.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<web_sys::Element>() {
                top_row.set(el.scroll_top().max(0) as u32 / ROW_PX);
            }
        })
    };
    let (m, provenance) = view.pick(|m| m.seen > 0);
    // Actions are offered on live rows only, to a token the server granted them.
    let granted = provenance == Provenance::Live && handle.granted(DISCONNECT.name());
    let connected = status.status == Status::Connected;
    let ask = {
        let (asking, refusal, form) = (asking.clone(), refusal.clone(), form.clone());
        Callback::from(move |session: Session| {
            refusal.set(None);
            // A new question starts with an empty form.
            form.reason.set(None);
            form.note.set(String::new());
            asking.set(Some(session));
        })
    };
    let on_done = {
        let (asking, handle, refusal) = (asking.clone(), handle.clone(), refusal.clone());
        Callback::from(move |payload: Option<Disconnect>| {
            asking.set(None);
            if let Some(payload) = payload {
                act_or_note(&handle, DISCONNECT, payload, &refusal);
            }
        })
    };
    let row_actions = granted.then_some(RowActions {
        handle: &handle,
        connected,
        ask: &ask,
    });
    let (key, descending) = *sort;
    let needle = normalize(&query).unwrap_or_default();
    let mut rows = m.table.sorted(key, descending, now);
    rows.retain(|r| matches(&r.session, &needle));
    // A search that came in the URL asks the backend once the feed can answer.
    let backend = use_backend_search(&handle, &query, provenance == Provenance::Live, connected);
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
         .scroll { overflow:auto; max-height:calc(var(--row) * (var(--rows) + 1)); }
         table { border-collapse:collapse; width:100%; font-size:13px; }
         th { text-align:left; border-bottom:1px solid var(--sb-border); padding:0;
              position:sticky; top:0; z-index:1; background:var(--sb-surface); }
         th button { all:unset; cursor:pointer; display:block; padding:6px 8px; font-weight:600;
                     color:var(--sb-muted); white-space:nowrap; }
         th button:focus-visible { outline:2px solid var(--sb-accent); }
         th.num button { text-align:right; }
         tbody tr { height:var(--row); transition:background-color .4s ease-out; }
         td { padding:0 8px; border-bottom:1px solid var(--sb-border); white-space:nowrap; }
         tr.spacer td { padding:0; border:0; }
         .num { text-align:right; font-variant-numeric:tabular-nums; }
         .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
         .cut { display:inline-block; max-width:22ch; overflow:hidden; text-overflow:ellipsis;
                vertical-align:bottom; }
         .mono .cut { max-width:20ch; }
         td { position:relative; }
         .cut:focus-visible { outline:2px solid var(--sb-accent); outline-offset:1px; }
         .cut:focus::after { content:attr(data-full); position:absolute; left:4px; top:2px; bottom:2px;
                z-index:3; display:flex; align-items:center; white-space:nowrap; padding:0 8px;
                background:var(--sb-surface); color:var(--sb-text); border:1px solid var(--sb-accent);
                border-radius:4px; box-shadow:0 2px 8px rgba(0,0,0,.25); }
         .acts { display:flex; gap:8px; align-items:center; }
         .search { display:grid; gap:6px; }
         .search form { display:flex; gap:8px; align-items:center; flex-wrap:wrap; }
         .search label { font-weight:600; }
         .search input { font:inherit; padding:5px 8px; min-width:min(340px, 100%); color:inherit;
                         background:var(--sb-bg); border:1px solid var(--sb-border); border-radius:4px; }
         .search .hint { color:var(--sb-muted); font-size:12px; }
         .search p { margin:0; }
         tr.simulated td { font-style:italic; color:var(--sb-muted); }
         tr.simulated td:first-child { box-shadow:inset 3px 0 0 var(--sb-warn); }
         tr.entering { background-color:color-mix(in srgb, var(--sb-ok) 25%, transparent); }
         tr.leaving { animation:sb-leave .8s ease-in forwards; }
         @keyframes sb-leave { from { opacity:1; } to { opacity:0; text-decoration:line-through; } }"
    );
    // Active rows in order, then the ones fading out; only the window of them is rendered,
    // between two spacers that keep the scroll height true.
    let all: Vec<(&Row, bool)> = rows
        .iter()
        .map(|r| (*r, false))
        .chain(
            m.table
                .leaving(now)
                .filter(|r| matches(&r.session, &needle))
                .map(|r| (r, true)),
        )
        .collect();
    let window = Window::of(
        all.len(),
        ROW_PX,
        *top_row * ROW_PX,
        VIEW_ROWS * ROW_PX,
        OVERSCAN,
    );
    let columns = COLUMNS.len() + usize::from(granted);
    let spacer = |rows: usize, key: &'static str| {
        (rows > 0).then(|| {
            let height = format!("height:{}px", rows as u32 * ROW_PX);
            html! { <tr key={key} class="spacer" aria-hidden="true"><td colspan={columns.to_string()} style={height} /></tr> }
        })
    };
    let shown = all
        .get(window.first..window.end)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, (row, leaving))| {
            row_html(
                row,
                window.first + i,
                now,
                *leaving,
                provenance,
                row_actions.as_ref(),
            )
        });
    let sizes = format!("--row:{ROW_PX}px; --rows:{VIEW_ROWS}");
    let count = if view.known(|m| m.seen > 0) {
        active_count(&m.table)
    } else {
        format::UNKNOWN.to_owned()
    };
    let not_shown = (m.table.not_shown() > 0).then(|| {
        format!(
            "{} not shown: the table shows the most recent {}",
            m.table.not_shown(),
            m.table.len()
        )
    });
    html! {
        <section class={style} data-testid="sessions" aria-label="Live sessions">
            <div class="meta">
                <span><b data-testid="active-count">{ count }</b>{ " active sessions" }</span>
                <SourceTag {provenance} live_at={view.live_at()} />
                if let Some(note) = not_shown {
                    <span data-testid="not-shown">{ note }</span>
                }
                if m.table.unknown > 0 {
                    <span>{ format!("{} updates for unknown sessions", m.table.unknown) }</span>
                }
                if let Some(why) = unavailable(status.status).filter(|_| granted) {
                    <span data-testid="actions-unavailable">{ why }</span>
                }
                if let Some(why) = (*refusal).clone() {
                    <span class="sb-action-note refused" role="alert" data-testid="action-error">{ why }</span>
                }
            </div>
            { disconnect_dialog(asking.as_ref(), &form, &on_done) }
            { search_panel(&handle, &query, &search_box, &backend, connected, &m.table, rows.len()) }
            <ActiveChart {provenance} />
            <div class="scroll" style={sizes} {onscroll} data-testid="sessions-scroll">
                <table aria-rowcount={(all.len() + 1).to_string()}>
                    <thead><tr>
                        { for headers }
                        if granted { <th scope="col"><span class="sb-visually-hidden">{ "Action" }</span></th> }
                    </tr></thead>
                    <tbody>
                        { spacer(window.first, "above") }
                        { for shown }
                        { spacer(all.len() - window.end, "below") }
                    </tbody>
                </table>
            </div>
            if m.table.is_empty() { <p>{ "No active sessions." }</p> }
        </section>
    }
}

/// The search box (its text in the URL), how many rows of the table match, and the
/// backend's answer for the sessions beyond the table's rows.
fn search_panel(
    handle: &WsHandle,
    query: &UseStateHandle<String>,
    search_box: &NodeRef,
    backend: &BackendSearch,
    connected: bool,
    table: &SessionTable,
    matching: usize,
) -> Html {
    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let text = input.value();
            search::set_query_param("q", text.trim());
            query.set(text);
        })
    };
    let may_search = backend.may && connected;
    let wanted = query.trim().to_owned();
    let onsubmit = {
        let (handle, wanted) = (handle.clone(), wanted.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if may_search {
                ask(&handle, &wanted);
            }
        })
    };
    let (entry, found) = (&backend.entry, &backend.found);
    let beyond: Vec<&Session> = found
        .as_ref()
        .map(|f| {
            f.sessions
                .iter()
                .filter(|s| !table.holds(&s.session_id))
                .collect()
        })
        .unwrap_or_default();
    let summary = (!wanted.is_empty()).then(|| format!("{matching} of the rows held match"));
    let answer = found.as_ref().map(|f| {
        format!(
            "The backend has {} matching session{}; {} not among the rows held{}",
            f.total,
            if f.total == 1 { "" } else { "s" },
            beyond.len(),
            if f.total > f.sessions.len() {
                format!(" (its first {} shown)", f.sessions.len())
            } else {
                String::new()
            }
        )
    });
    let results = beyond.iter().map(|s| {
        html! {
            <tr data-session={s.session_id.clone()}>
                <td>{ user_cell(s) }</td><td class="mono">{ &s.ip_address }</td>
                <td class="mono">{ &s.nas_ip_address }</td><td class="mono">{ &s.session_id }</td>
            </tr>
        }
    });
    let hint = if may_search {
        "Enter asks the backend for every session"
    } else {
        "Filters the rows held; the backend is asked when the feed is live"
    };
    html! {
        <div class="search" role="search">
            <form {onsubmit}>
                <label for="session-search">{ "Search sessions" }</label>
                <input id="session-search" type="search" ref={search_box.clone()}
                       data-search="" data-testid="session-search" value={(**query).clone()}
                       placeholder="username, IP, NAS or session id  ( / )" {oninput}
                       maxlength={MAX_QUERY.to_string()} autocomplete="off" />
                <span class="hint">{ hint }</span>
            </form>
            if let Some(summary) = summary { <span data-testid="search-held">{ summary }</span> }
            if found.is_none() { { action_note(entry.as_ref()) } }
            if let Some(answer) = answer {
                <p data-testid="search-answer">{ answer }</p>
                if !beyond.is_empty() {
                    <table class="sb-table" data-testid="search-results">
                        <thead><tr><th scope="col">{ "User" }</th><th scope="col">{ "IP address" }</th>
                            <th scope="col">{ "NAS" }</th><th scope="col">{ "Session" }</th></tr></thead>
                        <tbody>{ for results }</tbody>
                    </table>
                }
            }
        </div>
    }
}

/// The dialog's form: which reason, and the note. Held by the table, which asks.
#[derive(Clone)]
struct Form {
    reason: UseStateHandle<Option<DisconnectReason>>,
    note: UseStateHandle<String>,
}

/// Asks before a session is ended: which session, why (the short list, and a note). `on_done`
/// gets the request to send, or `None` (cancelled).
fn disconnect_dialog(
    session: Option<&Session>,
    form: &Form,
    on_done: &Callback<Option<Disconnect>>,
) -> Html {
    let payload = match (session, *form.reason) {
        (Some(s), Some(reason)) => Some(Disconnect {
            session_id: s.session_id.clone(),
            reason,
            note: form.note.trim().to_owned(),
        }),
        _ => None,
    };
    let problem = payload.as_ref().and_then(Disconnect::problem);
    let ready = payload.is_some() && problem.is_none();
    let on_confirm = {
        let on_done = on_done.clone();
        Callback::from(move |()| on_done.emit(payload.clone()))
    };
    let on_cancel = {
        let on_done = on_done.clone();
        Callback::from(move |()| on_done.emit(None))
    };
    let title = session.map_or_else(String::new, |s| format!("Disconnect {}?", s.username));
    let choices = DisconnectReason::ALL.iter().map(|r| {
        let onchange = {
            let (reason, r) = (form.reason.clone(), *r);
            Callback::from(move |_: Event| reason.set(Some(r)))
        };
        html! {
            <label><input type="radio" name="disconnect-reason" checked={*form.reason == Some(*r)}
                          {onchange} />{ " " }{ r.label() }</label>
        }
    });
    let oninput = {
        let note = form.note.clone();
        Callback::from(move |e: InputEvent| {
            let area: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            note.set(area.value());
        })
    };
    html! {
        <ConfirmDialog open={session.is_some()} {title} confirm="Disconnect" {ready}
                       {on_confirm} {on_cancel}>
            if let Some(s) = session {
                <p>{ "The NAS ends this session now (RADIUS Disconnect-Message). The subscriber can log in again." }</p>
                <dl>
                    <dt>{ "Session" }</dt><dd>{ &s.session_id }</dd>
                    <dt>{ "IP address" }</dt><dd>{ &s.ip_address }</dd>
                    <dt>{ "NAS" }</dt><dd>{ &s.nas_ip_address }</dd>
                </dl>
                <fieldset>
                    <legend>{ "Reason" }</legend>
                    { for choices }
                </fieldset>
                <label for="disconnect-note">{ "Note (required for “Other”)" }</label>
                <textarea id="disconnect-note" maxlength={MAX_NOTE.to_string()} value={(*form.note).clone()} {oninput} />
                if let Some(problem) = problem {
                    <p class="sb-action-note refused">{ problem }</p>
                }
            }
        </ConfirmDialog>
    }
}

/// The active count as the operator reads it: every active session, with "at least" when the
/// count stopped matching ends (past `MAX_HIDDEN`).
fn active_count(table: &SessionTable) -> String {
    let n = table.active().to_string();
    if table.counted_all() {
        n
    } else {
        format!("at least {n}")
    }
}

/// Props of [`ActiveChart`].
#[derive(Properties, PartialEq)]
struct ActiveChartProps {
    /// Which state the panel around the chart shows (and says it shows).
    provenance: Provenance,
}

/// Active sessions over time, drawn every animation frame while the table around it renders
/// at most every [`FIGURES_EVERY_MS`]. It draws the state the panel says it shows, so for the
/// moment until the panel catches up with a switch to live data, it shows nothing rather
/// than live data under a "simulated" tag.
#[component]
fn ActiveChart(props: &ActiveChartProps) -> Html {
    let view = use_store(store);
    let history = match props.provenance {
        Provenance::Live => view.live().active.clone(),
        Provenance::Simulated => view
            .simulated()
            .map(|m| m.active.clone())
            .unwrap_or_else(|| History::new(0, None)),
    };
    html! {
        <TimeSeriesChart title="Active sessions" unit="sessions" series={ACTIVE} hold={true}
                         {history} version={view.version()} outages={view.outages()}
                         window_secs={600.0} height={110} decimals={0} />
    }
}

/// The overview card: the active count and the busiest session.
#[component]
pub fn ActiveSessionsSummary() -> Html {
    let view = use_store(store);
    let (m, provenance) = view.pick(|m| m.seen > 0);
    let count = if view.known(|m| m.seen > 0) {
        active_count(&m.table)
    } else {
        format::UNKNOWN.to_owned()
    };
    // Rates need two reports; until then there is no "busiest" to name.
    let busiest = m.table.busiest().filter(|r| r.down_bps > 0.0).map(|r| {
        format!(
            "busiest: {} at {}",
            r.session.username,
            format::rate(r.down_bps)
        )
    });
    html! {
        <p data-provenance={provenance.as_str()}>
            <SourceTag {provenance} live_at={view.live_at()} /><br />
            <b data-testid="active-count">{ count }</b>{ " active sessions" }
            if let Some(b) = busiest { <br /><span>{ b }</span> }
        </p>
    }
}
