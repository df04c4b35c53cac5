//! The sessions part of a subscriber's page: the rows held for the account, and what the
//! backend finds for it beyond them.

use switchboard_core::Provenance;
use switchboard_kit::format;
use switchboard_kit::handle::now;
use switchboard_kit::hooks::{use_status, use_ws_handle};
use switchboard_kit::status::SourceTag;
use switchboard_kit::store::use_store;
use yew::prelude::*;

use super::backend_search::use_backend_search;
use super::monitor::store;
use crate::data::Session;
use crate::table::SortKey;

/// Props of [`SubscriberSessions`].
#[derive(Debug, Properties, PartialEq)]
pub struct SubscriberSessionsProps {
    /// The subscriber's id.
    pub id: AttrValue,
}

/// See the module docs. Sessions carry a `subscriber_id` only when the backend sends one;
/// the others cannot be attributed, and the part says how many rows that leaves out.
#[component]
pub fn SubscriberSessions(props: &SubscriberSessionsProps) -> Html {
    let view = use_store(store);
    let handle = use_ws_handle();
    let status = use_status();
    let (m, provenance) = view.pick(|m| m.seen > 0);
    let id = props.id.to_string();
    let rows = m.table.sorted(SortKey::Duration, true, now());
    let unattributed = rows
        .iter()
        .filter(|r| r.session.subscriber_id.is_none())
        .count();
    let held: Vec<&Session> = rows
        .iter()
        .map(|r| &r.session)
        .filter(|s| s.subscriber_id.as_deref() == Some(id.as_str()))
        .collect();
    let connected = status.status == switchboard_core::Status::Connected;
    // The backend holds every session; the table only the newest: ask it, once.
    let found = use_backend_search(&handle, &id, provenance == Provenance::Live, connected).found;
    // The backend's answer matches the id anywhere; only the account's own sessions count.
    let more: Vec<Session> = found
        .map(|f| {
            f.sessions
                .into_iter()
                .filter(|s| s.subscriber_id.as_deref() == Some(id.as_str()))
                .filter(|s| !m.table.holds(&s.session_id))
                .collect()
        })
        .unwrap_or_default();
    let row = |s: &Session, source: &'static str| {
        html! {
            <tr data-session={s.session_id.clone()} data-source={source}>
                <td>{ &s.username }</td><td class="mono">{ &s.ip_address }</td>
                <td class="mono">{ &s.nas_ip_address }</td>
                <td class="num">{ format::clock(std::time::Duration::from_secs(s.session_time_seconds)) }</td>
            </tr>
        }
    };
    let count = held.len() + more.len();
    html! {
        <div data-testid="subscriber-sessions">
            <p>
                <SourceTag {provenance} live_at={view.live_at()} />{ " " }
                <b data-testid="subscriber-session-count">{ count }</b>{ " active sessions" }
                if unattributed > 0 {
                    { format!(" · {unattributed} rows held carry no subscriber id and cannot be attributed") }
                }
            </p>
            if count > 0 {
                <table class="sb-table">
                    <thead><tr><th scope="col">{ "User" }</th><th scope="col">{ "IP address" }</th>
                        <th scope="col">{ "NAS" }</th><th scope="col" class="num">{ "Duration" }</th></tr></thead>
                    <tbody>
                        { for held.iter().map(|s| row(s, "held")) }
                        { for more.iter().map(|s| row(s, "backend")) }
                    </tbody>
                </table>
            }
        </div>
    }
}
