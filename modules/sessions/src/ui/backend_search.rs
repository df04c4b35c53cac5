//! Asking the backend to search its sessions (`search_sessions`): what the sessions page and
//! a subscriber's page share. The answer lives in the connection's ledger, keyed by the
//! request's entity, so both pages read it the same way.

use switchboard_core::action::{ActionPayload, Entry, Phase};
use switchboard_kit::WsHandle;
use yew::prelude::*;

use crate::data::{SEARCH_SESSIONS, SearchResult, SearchSessions};

/// Where the backend's search for one query stands.
#[derive(Debug)]
pub(super) struct BackendSearch {
    /// The backend answers searches for this token, and the data shown is live.
    pub may: bool,
    /// The latest request for the query, if one was made.
    pub entry: Option<Entry>,
    /// Its answer, once done.
    pub found: Option<SearchResult>,
}

fn request(query: &str) -> SearchSessions {
    SearchSessions {
        query: query.trim().to_owned(),
    }
}

/// Asks the backend for `query` (nothing for an empty one).
pub(super) fn ask(handle: &WsHandle, query: &str) {
    let request = request(query);
    if !request.query.is_empty() {
        let _ = handle.act(SEARCH_SESSIONS, request);
    }
}

/// The backend's search for `query`, asked once by itself as soon as the feed is live and
/// connected (a search that came in a link, a subscriber's page); later asks are the
/// caller's ([`ask`]).
#[hook]
pub(super) fn use_backend_search(
    handle: &WsHandle,
    query: &str,
    live: bool,
    connected: bool,
) -> BackendSearch {
    let may = live && handle.granted(SEARCH_SESSIONS.name());
    {
        let (handle, asked, wanted) = (handle.clone(), use_mut_ref(|| false), query.to_owned());
        use_effect_with((may, connected), move |(may, connected)| {
            if *may && *connected && !*asked.borrow() {
                *asked.borrow_mut() = true;
                ask(&handle, &wanted);
            }
        });
    }
    let request = request(query);
    let entry = (!request.query.is_empty())
        .then(|| handle.action_on(&request.entity()))
        .flatten();
    let found = entry.as_ref().and_then(|e| match &e.phase {
        // Through the text decoder the client has anyway (`from_value` would add another).
        Phase::Done { result: Some(v) } => {
            serde_json::from_str::<SearchResult>(&v.to_string()).ok()
        }
        _ => None,
    });
    BackendSearch { may, entry, found }
}
