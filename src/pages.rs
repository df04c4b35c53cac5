//! The shell's pages: the overview of every module's card, a module's page, and 404.

use std::rc::Rc;

use stylist::yew::styled_component;
use switchboard_core::{DropReason, Instant, Status};
use switchboard_kit::hooks::{use_now, use_status, use_ws_handle};
use switchboard_kit::provider::WsScope;
use switchboard_kit::status::{OfflineBanner, StatusBadge, short_duration};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::layout::icon;
use crate::routes::Route;
use crate::runtime::Runtimes;

/// "last live data 3 s ago", or why there is none.
#[component]
fn DataAge() -> Html {
    let handle = use_ws_handle();
    let now = use_now(1000);
    let status = use_status().status;
    let stats = handle.stats();
    let last = stats.channels.values().filter_map(|c| c.last_at).max();
    let text = data_age(last, stats.in_sync_at, status, now);
    html! { <span class="age" data-testid="data-age">{ text }</span> }
}

/// What [`DataAge`] says: how old the last live data is, and whether the feed is proven
/// current since (a heartbeat at the last applied position): a quiet feed in sync does not
/// read like an outage.
fn data_age(
    last: Option<Instant>,
    in_sync_at: Option<Instant>,
    status: Status,
    now: Instant,
) -> String {
    let connected = status == Status::Connected;
    match last {
        Some(at) if connected && in_sync_at.is_some_and(|s| s >= at) => {
            format!("in sync, no changes for {}", short_duration(at.until(now)))
        }
        Some(at) => format!("last live data {} ago", short_duration(at.until(now))),
        None if connected => "connected, waiting for data".to_owned(),
        None => "no live data yet".to_owned(),
    }
}

/// What the connection has counted: frames in, drops by reason, decode errors, reconnects.
#[component]
fn Counters() -> Html {
    let handle = use_ws_handle();
    let _ = use_now(1000);
    let stats = handle.stats();
    let drops: Vec<String> = DropReason::ALL
        .iter()
        .filter(|r| stats.drops(**r) > 0)
        .map(|r| format!("{} {}", stats.drops(*r), r))
        .collect();
    let drops = if drops.is_empty() {
        "none".to_owned()
    } else {
        drops.join(", ")
    };
    // Shown once the server speaks the resume extension: what recovery did.
    let resumed = stats.replays + stats.snapshots + stats.resumed_live + stats.heartbeats > 0;
    let mut resume = if resumed {
        format!(
            " · resumed: {} replays, {} snapshots · {} duplicates dropped · {} gaps",
            stats.replays, stats.snapshots, stats.duplicates, stats.gaps
        )
    } else {
        String::new()
    };
    // Data frames handed to the module: what a doubled frame would change.
    let applied: u64 = stats.channels.values().map(|c| c.frames).sum();
    if stats.lost > 0 {
        resume.push_str(&format!(
            " · {} frames lost: the page could not keep up",
            stats.lost
        ));
    }
    html! {
        <p class="counters" data-testid="counters" data-replays={stats.replays.to_string()}
           data-snapshots={stats.snapshots.to_string()} data-duplicates={stats.duplicates.to_string()}
           data-gaps={stats.gaps.to_string()} data-heartbeats={stats.heartbeats.to_string()}
           data-lost={stats.lost.to_string()} data-applied={applied.to_string()}
           data-position={handle.position().unwrap_or_default()}>
            { format!(
                "{} frames received · dropped: {drops} · {} payloads of the wrong shape · {} reconnects{resume}",
                stats.frames_in,
                stats.total_decode_errors(),
                stats.reconnects
            ) }
        </p>
    }
}

fn module_error(message: &str) -> Html {
    html! { <p class="module-error" role="alert" data-testid="module-error">{ message.to_owned() }</p> }
}

/// Props of [`Overview`] and [`ModulePage`].
#[derive(Properties, PartialEq, Debug)]
pub struct OverviewProps {
    /// The running modules.
    pub runtimes: Rc<Runtimes>,
}

/// `/`: every module's summary card, with its own status.
#[styled_component]
pub fn Overview(props: &OverviewProps) -> Html {
    let style = css!(
        "display:grid; gap:16px; grid-template-columns:repeat(auto-fill, minmax(320px, 1fr)); align-items:start;
         article { background:var(--sb-surface); border:1px solid var(--sb-border); border-radius:10px;
                   padding:14px 16px; display:grid; gap:10px; align-content:start; min-width:0; }
         header { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
         h2 { font-size:15px; margin:0; display:flex; align-items:center; gap:6px; }
         h2 a { color:var(--sb-text); text-decoration:none; }
         .age { font-size:12px; color:var(--sb-muted); margin-left:auto; }
         .module-error { color:var(--sb-bad); margin:0; }
         p { margin:0; }"
    );
    let cards = props.runtimes.iter().map(|rt| {
        let m = rt.module;
        let title = html! {
            <h2>{ icon(m.icon()) }<Link<Route> to={Route::Module { module: m.route().to_owned() }}>{ m.title() }</Link<Route>></h2>
        };
        match &rt.handle {
            Ok(handle) => html! {
                <article data-module={m.id()}>
                    <WsScope handle={handle.clone()}>
                        <header>{ title }<StatusBadge controls={false} /><DataAge /></header>
                        <OfflineBanner title={m.title()} />
                        { m.card() }
                    </WsScope>
                </article>
            },
            Err(e) => html! { <article data-module={m.id()}><header>{ title }</header>{ module_error(e) }</article> },
        }
    });
    html! {
        <>
            <h2 class="sb-visually-hidden">{ "Overview" }</h2>
            if props.runtimes.is_empty() {
                <p>{ "No dashboard modules are enabled in this deployment." }</p>
            }
            <div class={style}>{ for cards }</div>
        </>
    }
}

/// Props of [`ModulePage`].
#[derive(Properties, PartialEq, Debug)]
pub struct ModulePageProps {
    /// The running modules.
    pub runtimes: Rc<Runtimes>,
    /// The route segment from the URL.
    pub module: String,
}

/// `/<module>`: the module's page with its status, controls and counters; 404 for an unknown
/// or disabled module.
#[styled_component]
pub fn ModulePage(props: &ModulePageProps) -> Html {
    let Some(rt) = props
        .runtimes
        .iter()
        .find(|r| r.module.route() == props.module)
    else {
        return html! { <NotFound /> };
    };
    let m = rt.module;
    let style = css!(
        "display:grid; gap:14px;
         > header { display:flex; align-items:center; gap:16px; flex-wrap:wrap; }
         h2 { margin:0; font-size:20px; display:flex; align-items:center; gap:8px; }
         .counters { margin:0; font-size:12px; color:var(--sb-muted); }
         .module-error { color:var(--sb-bad); }
         .body { background:var(--sb-surface); border:1px solid var(--sb-border); border-radius:10px; padding:16px; }"
    );
    let body = match &rt.handle {
        Ok(handle) => html! {
            <WsScope handle={handle.clone()}>
                <header><h2>{ icon(m.icon()) }{ m.title() }</h2><StatusBadge /></header>
                <OfflineBanner title={m.title()} />
                <Counters />
                <div class="body">{ m.page() }</div>
            </WsScope>
        },
        Err(e) => html! { <><header><h2>{ m.title() }</h2></header>{ module_error(e) }</> },
    };
    html! { <section class={style} data-module={m.id()}>{ body }</section> }
}

/// Props of [`SubscriberPage`].
#[derive(Properties, PartialEq, Debug)]
pub struct SubscriberPageProps {
    /// The running modules.
    pub runtimes: Rc<Runtimes>,
    /// The subscriber's id, from the URL.
    pub id: String,
}

/// `/subscriber/<id>`: every module's part for one account (its sessions, invoices and
/// tickets), each inside its module's provider with its status, so a module that is down
/// says so here too. The shell knows no module: it asks each for its part.
#[styled_component]
pub fn SubscriberPage(props: &SubscriberPageProps) -> Html {
    let style = css!(
        "display:grid; gap:16px;
         h2 { margin:0; font-size:20px; }
         h3 { margin:0; font-size:15px; display:flex; align-items:center; gap:8px; }
         > section { background:var(--sb-surface); border:1px solid var(--sb-border);
                     border-radius:10px; padding:16px; display:grid; gap:10px; }
         .module-error { color:var(--sb-bad); }"
    );
    let parts = props.runtimes.iter().filter_map(|rt| {
        let m = rt.module;
        let part = m.subscriber(&props.id)?;
        let body = match &rt.handle {
            Ok(handle) => html! {
                <WsScope handle={handle.clone()}>
                    <h3>{ icon(m.icon()) }{ m.title() }<StatusBadge /></h3>
                    <OfflineBanner title={m.title()} />
                    { part }
                </WsScope>
            },
            Err(e) => html! { <><h3>{ m.title() }</h3>{ module_error(e) }</> },
        };
        Some(html! { <section data-module={m.id()}>{ body }</section> })
    });
    html! {
        <div class={style} data-testid="subscriber" data-subscriber={props.id.clone()}>
            <h2>{ format!("Subscriber {}", props.id) }</h2>
            { for parts }
        </div>
    }
}

/// The 404 page.
#[component]
pub fn NotFound() -> Html {
    html! {
        <section data-testid="not-found">
            <h2>{ "Page not found" }</h2>
            <p>{ "There is no dashboard page at this address. " }
               <Link<Route> to={Route::Overview}>{ "Back to the overview" }</Link<Route>></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_feed_proven_current_reads_in_sync_not_old() {
        let t = |s: u64| Instant::from_millis(s * 1000);
        let now = t(1300);
        // A support feed quiet for 20 min, heartbeats at its position since.
        assert_eq!(
            data_age(Some(t(100)), Some(t(1295)), Status::Connected, now),
            "in sync, no changes for 20 min 0 s"
        );
        // Not proven since the last data, or not connected: its age, as before.
        assert_eq!(
            data_age(Some(t(100)), Some(t(50)), Status::Connected, now),
            "last live data 20 min 0 s ago"
        );
        assert_eq!(
            data_age(Some(t(100)), Some(t(1295)), Status::Connecting, now),
            "last live data 20 min 0 s ago"
        );
    }
}
