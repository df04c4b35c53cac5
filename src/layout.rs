//! The frame around every page: header, navigation with each module's status, config
//! problems, and the routed page.

use std::rc::Rc;

use stylist::yew::styled_component;
use switchboard_kit::hooks::use_status;
use switchboard_kit::nav::Navigate;
use switchboard_kit::provider::WsScope;
use switchboard_kit::search;
use switchboard_kit::status::status_word;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::pages::{ModulePage, NotFound, Overview, SubscriberPage};
use crate::routes::{Route, use_current_route};
use crate::runtime::{Loaded, ModuleRuntime, Runtimes};

/// A module's icon: an SVG path on a 24×24 grid, stroked in the text colour.
pub fn icon(path: &'static str) -> Html {
    html! {
        <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none"
             stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d={path} />
        </svg>
    }
}

/// The status dot and word beside a module in the navigation.
#[styled_component]
fn NavStatus() -> Html {
    let status = use_status().status;
    let tone = match status {
        switchboard_core::Status::Connected => "ok",
        switchboard_core::Status::Connecting => "warn",
        _ => "bad",
    };
    let style = css!(
        "display:inline-flex; align-items:center; gap:4px; font-size:11px; color:var(--sb-muted);
         .dot { width:7px; height:7px; border-radius:50%; background:var(--sb-${tone}); }",
        tone = tone
    );
    html! {
        <span class={style} data-status={status.as_str()}>
            <span class="dot" aria-hidden="true" />{ status_word(status) }
        </span>
    }
}

fn nav_item(rt: &ModuleRuntime) -> Html {
    let m = rt.module;
    let status = match &rt.handle {
        Ok(handle) => html! { <WsScope handle={handle.clone()}><NavStatus /></WsScope> },
        Err(_) => html! { <span class="nav-error">{ "config error" }</span> },
    };
    html! {
        <Link<Route> to={Route::Module { module: m.route().to_owned() }}>
            { icon(m.icon()) }<span>{ m.title() }</span>{ status }
        </Link<Route>>
    }
}

fn page(route: Route, runtimes: &Rc<Runtimes>) -> Html {
    match route {
        Route::Overview => html! { <Overview runtimes={runtimes.clone()} /> },
        Route::Module { module } => html! { <ModulePage runtimes={runtimes.clone()} {module} /> },
        Route::Subscriber { id } => html! { <SubscriberPage runtimes={runtimes.clone()} {id} /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

/// `/` on any page (unless the operator is typing) focuses the search box of the module
/// that `searches`, going to its page first if need be.
#[hook]
fn use_search_shortcut(route: Option<&'static str>) {
    let navigator = use_navigator();
    use_effect_with((route, navigator), |(route, navigator)| {
        let (route, navigator) = (*route, navigator.clone());
        let document = web_sys::window().and_then(|w| w.document());
        let listener = route.zip(document).map(|(route, document)| {
            // Not passive (gloo's default): the `/` must not be typed into the box it focuses.
            let options = gloo_events::EventListenerOptions::enable_prevent_default();
            gloo_events::EventListener::new_with_options(&document, "keydown", options, move |e| {
                let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
                    return;
                };
                if key.key() != "/" || key.ctrl_key() || key.meta_key() || key.alt_key() {
                    return;
                }
                if search::typing(e.target()) {
                    return;
                }
                e.prevent_default();
                if !search::focus_search() {
                    search::focus_on_mount();
                    if let Some(navigator) = &navigator {
                        navigator.push(&Route::Module {
                            module: route.to_owned(),
                        });
                    }
                }
            })
        });
        move || drop(listener)
    });
}

/// How modules' links reach the router (see `switchboard_kit::nav`).
#[hook]
fn use_navigate(basename: Option<String>) -> Navigate {
    let navigator = use_navigator();
    (*use_memo(navigator, move |navigator| {
        let navigator = navigator.clone();
        Navigate {
            go: Callback::from(move |path: String| {
                if let Some(navigator) = &navigator {
                    navigator.push(&Route::from_path(&path, None));
                }
            }),
            base: basename.map(AttrValue::from).unwrap_or_default(),
        }
    }))
    .clone()
}

/// Props of [`Shell`].
#[derive(Properties, PartialEq, Debug)]
pub struct ShellProps {
    /// The configuration and its problems.
    pub loaded: Rc<Loaded>,
    /// The modules, running (`runtime::start`).
    pub runtimes: Rc<Runtimes>,
}

/// Header, navigation, config problems and the routed page. Needs a router above it.
#[styled_component]
pub fn Shell(props: &ShellProps) -> Html {
    let runtimes = &props.runtimes;
    let header = css!(
        "display:flex; align-items:center; gap:24px; padding:10px 20px; flex-wrap:wrap;
         background:var(--sb-surface); border-bottom:1px solid var(--sb-border);
         h1 { font-size:17px; margin:0; letter-spacing:.02em; }
         nav { display:flex; gap:4px; flex-wrap:wrap; }
         nav a { display:inline-flex; align-items:center; gap:6px; padding:6px 10px; border-radius:6px;
                 text-decoration:none; color:var(--sb-text); }
         nav a:hover { background:var(--sb-bg); }
         nav a.active { background:var(--sb-bg); font-weight:600; }
         .nav-error { font-size:11px; color:var(--sb-bad); }"
    );
    let main = css!("padding:20px; max-width:1400px; margin:0 auto;");
    let problems = css!(
        "margin:12px 20px 0; padding:10px 14px; border-radius:6px; border:1px solid var(--sb-bad);
         color:var(--sb-bad); font-size:13px; ul { margin:4px 0 0; padding-left:18px; }"
    );
    let errors = &props.loaded.errors;
    let route = use_current_route();
    let search = runtimes
        .iter()
        .find(|rt| rt.module.searches())
        .map(|rt| rt.module.route());
    use_search_shortcut(search);
    let navigate = use_navigate(props.loaded.config.basename.clone());
    html! {
        <div data-testid="shell">
            <header class={header}>
                <h1>{ "Switchboard" }</h1>
                <nav aria-label="Modules">
                    <Link<Route> to={Route::Overview}>{ "Overview" }</Link<Route>>
                    { for runtimes.iter().map(nav_item) }
                </nav>
            </header>
            if !errors.is_empty() {
                <div class={problems} role="alert" data-testid="config-errors">
                    { "The runtime configuration has problems; defaults are used where it is wrong:" }
                    <ul>{ for errors.iter().map(|e| html! { <li>{ e.to_string() }</li> }) }</ul>
                </div>
            }
            <main class={main}>
                <ContextProvider<Navigate> context={navigate}>
                    { page(route, runtimes) }
                </ContextProvider<Navigate>>
            </main>
        </div>
    }
}
