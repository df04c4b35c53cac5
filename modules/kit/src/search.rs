//! Search state in the URL (`?q=`), so a search is a link an operator can share or reload,
//! and the `/` shortcut's target: the one search box, marked `data-search`.

use wasm_bindgen::JsCast;

/// The search box's marker attribute: the `/` shortcut focuses the element that has it.
pub const MARKER: &str = "data-search";

/// The query parameter `key` of the page's URL, if present.
pub fn query_param(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
}

/// Sets (or, when `value` is empty, removes) the query parameter `key` in the page's URL,
/// in place: no navigation, no history entry per keystroke.
pub fn set_query_param(key: &str, value: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return;
    };
    if value.is_empty() {
        params.delete(key);
    } else {
        params.set(key, value);
    }
    let query = String::from(params.to_string());
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

thread_local! {
    /// The `/` shortcut brought the operator to a page whose search box is not drawn yet: it
    /// takes the focus when it mounts.
    static FOCUS_ON_MOUNT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Asks the next search box that mounts to take the focus.
pub fn focus_on_mount() {
    FOCUS_ON_MOUNT.with(|f| f.set(true));
}

/// Whether a search box that just mounted should take the focus (asked once, then cleared).
pub fn take_focus_request() -> bool {
    FOCUS_ON_MOUNT.with(|f| f.replace(false))
}

/// Focuses the search box, if one is on the page; `true` when it did.
pub fn focus_search() -> bool {
    let found = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&format!("[{MARKER}]")).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match found {
        Some(input) => input.focus().is_ok(),
        None => false,
    }
}

/// Whether a key press goes to something the operator is typing in, where `/` is text.
pub fn typing(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.has_attribute("contenteditable")
        })
}
