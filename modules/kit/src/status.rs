//! The standard status widgets: a badge that says the status in words, with the retry
//! countdown and manual controls, and the banner that labels simulated data.

use std::time::Duration;

use stylist::yew::styled_component;
use switchboard_core::share::Role;
use switchboard_core::{ConnectionError, Instant, Provenance, Status, StatusSnapshot};
use yew::prelude::*;

use crate::hooks::{use_now, use_status, use_ws_handle};

/// "5 s", "1 min 52 s": a short duration for countdowns and ages.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The status word an operator reads.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Connected => "Connected",
        Status::Connecting => "Connecting",
        Status::Disconnected => "Disconnected",
        Status::Error => "Error",
    }
}

/// The line under the status word: what is happening and what comes next.
pub fn status_detail(s: &StatusSnapshot, now: Instant) -> String {
    let countdown = s.next_retry_at.map(|at| short_duration(now.until(at)));
    match (s.status, &s.error, countdown) {
        (Status::Error, Some(e), _) => format!("{e}. {}", e.advice()),
        (Status::Connected, _, _) => match s.connected_since {
            Some(since) => format!("up {}", short_duration(since.until(now))),
            None => String::new(),
        },
        (_, _, Some(c)) if s.gave_up => {
            format!(
                "gave up after {} attempts; next probe in {c}",
                s.max_attempts
            )
        }
        (_, _, Some(c)) => format!("retry in {c} (attempt {} of {})", s.attempt, s.max_attempts),
        (Status::Connecting, _, None) => "opening connection…".into(),
        _ => "not connected".into(),
    }
}

/// Props of [`StatusBadge`].
#[derive(Properties, PartialEq, Debug)]
pub struct StatusBadgeProps {
    /// Show the detail line and the buttons. Off for compact places such as cards.
    #[prop_or(true)]
    pub controls: bool,
}

/// The connection status in words and colour, announced politely to screen readers, with the
/// retry countdown and the "Reconnect now" and "Disconnect" buttons.
#[styled_component]
pub fn StatusBadge(props: &StatusBadgeProps) -> Html {
    let snapshot = use_status();
    let now = use_now(1000);
    let handle = use_ws_handle();
    let tone = match snapshot.status {
        Status::Connected => "var(--sb-ok)",
        Status::Connecting => "var(--sb-warn)",
        Status::Disconnected | Status::Error => "var(--sb-bad)",
    };
    let style = css!(
        "display:inline-flex; align-items:center; gap:8px; flex-wrap:wrap; font-size:13px;
         .dot { width:9px; height:9px; border-radius:50%; background:${tone}; flex:none; }
         .word { font-weight:600; }
         .detail { color:var(--sb-muted); }
         button { font:inherit; font-size:12px; padding:2px 10px; border-radius:6px; cursor:pointer;
                  border:1px solid var(--sb-border); background:var(--sb-surface); color:var(--sb-text); }",
        tone = tone,
    );
    let detail = status_detail(&snapshot, now);
    let offline = snapshot.status != Status::Connected;
    let reconnect = {
        let h = handle.clone();
        Callback::from(move |_| h.reconnect())
    };
    let disconnect = {
        let h = handle.clone();
        Callback::from(move |_| h.disconnect())
    };
    let manual_off = snapshot.status == Status::Disconnected && snapshot.next_retry_at.is_none();
    // Where the connection is, when the module shares it across tabs.
    let role = handle.share_role();
    let shared = role.map(|r| r.describe());
    let share_attr = role.map(|r| match r {
        Role::Leading => "leader",
        Role::Following => "follower",
        Role::Deciding | Role::Frozen => "waiting",
    });
    html! {
        <span class={style} data-testid="status" data-status={snapshot.status.as_str()} data-share={share_attr}>
            <span class="dot" aria-hidden="true" />
            <span class="word" role="status" aria-live="polite">{ status_word(snapshot.status) }</span>
            if props.controls {
                <span class="detail" data-testid="status-detail">{ detail }</span>
                if let Some(shared) = shared {
                    <span class="detail" data-testid="status-share">{ shared }</span>
                }
                if offline {
                    <button type="button" onclick={reconnect}>{ "Reconnect now" }</button>
                }
                if !manual_off {
                    <button type="button" onclick={disconnect}>{ "Disconnect" }</button>
                }
            }
        </span>
    }
}

/// Props of [`SourceTag`].
#[derive(Properties, PartialEq, Debug)]
pub struct SourceTagProps {
    /// Where the panel's figures come from.
    pub provenance: Provenance,
    /// When the last live frame arrived (see `StoreView::live_at`).
    #[prop_or_default]
    pub live_at: Option<Instant>,
}

/// A panel's source, for its header: "Simulated" (dashed, in the warning colour) when the
/// panel shows simulated figures; "Live · as of 14:02:10, 40 s ago" when it shows live
/// figures while the feed is down; "Waiting for data" when connected with nothing yet;
/// "No data · feed offline" when nothing was ever received and the feed is down; nothing
/// when live and connected.
#[styled_component]
pub fn SourceTag(props: &SourceTagProps) -> Html {
    let snapshot = use_status();
    let now = use_now(1000);
    let style = css!(
        "font-size:11px; font-weight:600; padding:1px 8px; border-radius:10px; white-space:nowrap;
         &.sim { color:var(--sb-warn); border:1px dashed var(--sb-warn); }
         &.stale, &.waiting { color:var(--sb-muted); border:1px solid var(--sb-border); }"
    );
    let connected = snapshot.status == Status::Connected;
    match (props.provenance, props.live_at) {
        (Provenance::Simulated, _) => html! {
            <span class={classes!(style, "sim")} data-testid="simulated-panel" data-provenance="simulated">
                { "Simulated" }
            </span>
        },
        (Provenance::Live, Some(at)) if !connected => html! {
            <span class={classes!(style, "stale")} data-testid="live-as-of" data-provenance="live">
                { format!("Live · as of {}, {} ago", clock_time(at), short_duration(now.saturating_since(at))) }
            </span>
        },
        (Provenance::Live, None) if connected => html! {
            <span class={classes!(style, "waiting")} data-testid="waiting">{ "Waiting for data" }</span>
        },
        // Nothing live yet, nothing simulated, and no feed: the figures are unknown.
        (Provenance::Live, None) => html! {
            <span class={classes!(style, "waiting")} data-testid="no-data" data-provenance="none">
                { "No data · feed offline" }
            </span>
        },
        _ => html! {},
    }
}

/// `14:02:10`, the time of day of `at` in the browser's time zone.
pub fn clock_time(at: Instant) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.as_millis() as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// Props of [`OfflineBanner`].
#[derive(Properties, PartialEq, Debug)]
pub struct OfflineBannerProps {
    /// The module's title, to name it when the operator may not see it.
    #[prop_or_default]
    pub title: Option<AttrValue>,
}

/// What the banner says when the server refused this operator the module (4003).
pub fn forbidden_notice(title: Option<&str>) -> String {
    let module = title.unwrap_or("this module");
    format!(
        "Not allowed: this operator may not see {module}. Nothing retries until the token \
         changes; ask an administrator to add {module} to your access. The other modules are \
         not affected."
    )
}

/// "Live feed offline since 14:02:10 …", shown while the feed is down after a real failure.
/// It says what the panels do, but the panels label themselves ([`SourceTag`]): a page-level
/// banner alone cannot tell which figures are simulated. When the server refused this
/// operator the module (4003), it says that instead, naming the module.
#[styled_component]
pub fn OfflineBanner(props: &OfflineBannerProps) -> Html {
    let snapshot = use_status();
    let handle = use_ws_handle();
    let style = css!(
        "display:flex; align-items:center; gap:8px; padding:6px 12px; border-radius:6px;
         font-size:13px; font-weight:600; color:var(--sb-warn);
         border:1px dashed var(--sb-warn); background:color-mix(in srgb, var(--sb-warn) 10%, transparent);"
    );
    if let Some(ConnectionError::Forbidden { .. }) = snapshot.error {
        return html! {
            <div class={style} role="alert" data-testid="forbidden">
                { forbidden_notice(props.title.as_deref()) }
            </div>
        };
    }
    let Some(since) = snapshot
        .down_since
        .filter(|_| snapshot.status != Status::Connected)
    else {
        return html! {};
    };
    let what = if handle.is_simulating() {
        "each panel shows its last live data, or simulated data, labelled, where it has none"
    } else {
        "each panel shows its last live data"
    };
    html! {
        <div class={style} role="status" data-testid="offline">
            { format!("Live feed offline since {} — {what}", clock_time(since)) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::Instant;

    fn snapshot(status: Status) -> StatusSnapshot {
        StatusSnapshot {
            status,
            attempt: 2,
            max_attempts: 10,
            next_retry_at: None,
            gave_up: false,
            last_close: None,
            connected_since: None,
            error: None,
            down_since: None,
        }
    }

    #[test]
    fn details_say_what_happens_next() {
        let now = Instant::from_millis(100_000);
        let mut s = snapshot(Status::Connecting);
        s.next_retry_at = Some(Instant::from_millis(105_000));
        assert_eq!(status_detail(&s, now), "retry in 5 s (attempt 2 of 10)");
        s.gave_up = true;
        s.status = Status::Disconnected;
        s.next_retry_at = Some(Instant::from_millis(212_000));
        assert_eq!(
            status_detail(&s, now),
            "gave up after 10 attempts; next probe in 1 min 52 s"
        );
        let mut e = snapshot(Status::Error);
        e.error = Some(ConnectionError::AuthRejected {
            code: Some(4001),
            reason: "token expired".into(),
        });
        assert_eq!(
            status_detail(&e, now),
            "authentication rejected: token expired. Fix the token, then reconnect."
        );
        e.error = Some(ConnectionError::PolicyViolation {
            reason: "rate limit".into(),
        });
        let detail = status_detail(&e, now);
        assert_eq!(
            detail,
            "closed by the server for a policy violation: rate limit. Nothing retries on its own; reconnect when the cause is fixed."
        );
        assert!(!detail.contains("token"), "{detail}");
        e.error = Some(ConnectionError::Forbidden {
            reason: "module not in the token's modules claim".into(),
        });
        assert_eq!(
            status_detail(&e, now),
            "this operator may not see this module (module not in the token's modules claim). \
             Ask an administrator to add it to your access; the other modules are not affected."
        );
        assert!(
            forbidden_notice(Some("Billing"))
                .starts_with("Not allowed: this operator may not see Billing.")
        );
        let mut c = snapshot(Status::Connected);
        c.connected_since = Some(Instant::from_millis(40_000));
        assert_eq!(status_detail(&c, now), "up 1 min 0 s");
    }
}
