//! The Switchboard shell: loads `config.json`, runs one connection per module, and lays out
//! the navigation, the overview and each module's page.
//!
//! The shell owns no data. Each dashboard module brings its channels, views and simulator;
//! the shell lists them ([`registry`]), configures them ([`config`]), connects them
//! ([`runtime`]) and routes to them ([`routes`]).

pub use switchboard_core::app_config as config;
mod layout;
mod pages;
pub mod registry;
mod routes;
pub mod runtime;

use std::rc::Rc;

use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

pub use layout::{Shell, ShellProps};
pub use routes::Route;
pub use runtime::{Loaded, Runtimes};

/// The chart redraws since the last call, for the benchmark, flattened as
/// `[waited_ms, draw_ms, ended_at, …]` (see `switchboard_kit::probe`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn paint_samples() -> Vec<f64> {
    switchboard_kit::probe::take()
        .into_iter()
        .flat_map(|s| [s.waited_ms, s.draw_ms, s.ended_at])
        .collect()
}

/// Bytes of wasm linear memory, for the benchmark: `window.wasmBindings.wasm_memory_bytes()`.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0.0, |b| f64::from(b.byte_length()))
}

/// Mounts the app on `<body>`, in place of the static frame `index.html` shows until then.
pub fn start() {
    if let Some(frame) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("sb-boot"))
    {
        frame.remove();
    }
    yew::Renderer::<App>::new().render();
}

/// What came back for `config.json`.
struct Fetched {
    status: u16,
    content_type: String,
    text: String,
}

/// `GET config.json`, revalidated with the server every time (`cache: no-cache`), so a
/// replaced file takes effect on the next load even where a cache sits between: the fetch
/// `index.html` started while the code downloaded (`switchboard_kit::early`), or a new one.
/// An error is the browser's message for a request that got no response at all.
async fn fetch_config() -> Result<Fetched, String> {
    let resp = match switchboard_kit::early::config() {
        Some(started) => wasm_bindgen_futures::JsFuture::from(started)
            .await
            .and_then(|r| r.dyn_into::<web_sys::Response>())
            .map(gloo_net::http::Response::from)
            // As gloo-net words a failed request: the error's `toString()`.
            .map_err(|e| match gloo_utils::errors::JsError::try_from(e) {
                Ok(e) => e.to_string(),
                Err(e) => e.to_string(),
            })?,
        None => gloo_net::http::Request::get("config.json")
            .cache(web_sys::RequestCache::NoCache)
            .send()
            .await
            .map_err(|e| e.to_string())?,
    };
    Ok(Fetched {
        status: resp.status(),
        content_type: resp.headers().get("content-type").unwrap_or_default(),
        text: resp.text().await.unwrap_or_default(),
    })
}

/// Fetches `config.json` next to `index.html`. A missing file means the built-in defaults; a
/// malformed one is reported and the defaults stand in.
async fn load_config() -> Loaded {
    let known = registry::ids();
    let failed = |why: String| Loaded {
        config: Default::default(),
        errors: vec![config::ConfigError {
            field: String::new(),
            message: format!("could not be loaded ({why}); using the built-in defaults"),
        }],
    };
    match fetch_config().await {
        // A CDN with a single-page-app rewrite answers a missing file with index.html.
        Ok(r) if r.status == 404 || r.content_type.contains("text/html") => Loaded {
            config: Default::default(),
            errors: vec![],
        },
        Ok(r) if (200..300).contains(&r.status) => {
            let (config, errors) = config::parse(&r.text, &known);
            Loaded { config, errors }
        }
        Ok(r) => failed(format!("HTTP {}", r.status)),
        Err(e) => failed(e),
    }
}

/// The app: the browser router around the shell, once the config is in. The router's
/// basename comes from `config.json` (`"basename": "/ops"`) when the app is served under a
/// path while its assets live elsewhere; otherwise from `<base href>`, which trunk writes
/// from `public_url`.
#[component]
pub fn App() -> Html {
    let started = use_state(|| None::<(Rc<Loaded>, Rc<Runtimes>)>);
    {
        let started = started.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = Rc::new(load_config().await);
                let runtimes = runtime::start(&loaded);
                started.set(Some((loaded, runtimes)));
            });
        });
    }
    html! {
        if let Some((loaded, runtimes)) = (*started).clone() {
            <BrowserRouter basename={loaded.config.basename.clone().map(AttrValue::from)}>
                <Shell {loaded} {runtimes} />
            </BrowserRouter>
        } else {
            <p style="padding:20px">{ "Loading configuration…" }</p>
        }
    }
}
