//! What `index.html`'s first script started while the code downloaded: the fetch of
//! `config.json`, which the shell takes (`src/lib.rs`), and each module's WebSocket, which
//! the module's connection adopts as its first socket, so that the socket is open when the
//! code arrives. Each is taken once; without the script (tests, an embedding page) there is
//! nothing to take and everything starts here.
//!
//! The script's rules:
//! - It knows each module's default URL from its `data-sockets` attribute, which a test
//!   keeps equal to the registry (`src/registry.rs`); `config.json`'s `modules.<id>.url`
//!   and `enabled` apply as in `switchboard_core::app_config`, and a path becomes
//!   `ws(s)://<host><path>` as `resolve_url` makes it.
//! - It opens nothing for a module whose connection another tab leads (a held lock named
//!   `switchboard:<id>:…`, see `switchboard_core::share::group`): that tab serves this one.
//! - A socket not adopted 3 s after it opened is closed: a server closes a socket that sends
//!   no auth frame (the gateway after 5 s), which the connection would take for a refusal.
//! - It sits before the stylesheet, which would hold a script until it has loaded.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::WebSocket;

/// The script's global: `{ config: Promise<Response>, sockets: { [url]: WebSocket[] } }`.
const GLOBAL: &str = "__switchboard";

/// `window.__switchboard`, if the script ran.
fn early() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &GLOBAL.into())
        .ok()
        .filter(JsValue::is_object)
}

/// `window.__switchboard[key]`, taken from there.
fn take(key: &str) -> Option<JsValue> {
    let early = early()?;
    let value = Reflect::get(&early, &key.into()).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    let _ = Reflect::set(&early, &key.into(), &JsValue::UNDEFINED);
    Some(value)
}

/// The early fetch of `config.json`: a promise of its `Response`, or `None` when there was
/// none or it was taken already.
pub fn config() -> Option<Promise> {
    take("config")?.dyn_into().ok()
}

/// A socket to exactly `url` that the script opened, that is still connecting or open and
/// that no connection adopted yet, now marked as adopted (`ws.adopted`: the script closes
/// the others 3 s after they open).
pub(crate) fn socket(url: &str) -> Option<WebSocket> {
    let sockets = Reflect::get(&early()?, &"sockets".into()).ok()?;
    let list: Array = Reflect::get(&sockets, &url.into()).ok()?.dyn_into().ok()?;
    let adopted = JsValue::from_str("adopted");
    let ws = list.iter().find_map(|ws| {
        let ws = ws.dyn_into::<WebSocket>().ok()?;
        let taken = Reflect::get(&ws, &adopted).is_ok_and(|a| a.is_truthy());
        (!taken && ws.ready_state() <= WebSocket::OPEN).then_some(ws)
    })?;
    let _ = Reflect::set(&ws, &adopted, &JsValue::TRUE);
    Some(ws)
}
