//! The frame around every page: header, navigation and main area.

use stylist::yew::styled_component;
use switchboard_kit::theme::ThemeStyles;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::pages::{ModulePage, NotFound, Overview};
use crate::registry::MODULES;
use crate::routes::Route;

fn switch(route: Route) -> Html {
    match route {
        Route::Overview => html! { <Overview /> },
        Route::Module { module } => html! { <ModulePage {module} /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

/// Header, navigation and the routed page. Needs a router above it.
#[styled_component]
pub fn Shell() -> Html {
    let header = css!(
        "display:flex; align-items:center; gap:24px; padding:10px 20px;
         background:var(--sb-surface); border-bottom:1px solid var(--sb-border);
         h1 { font-size:17px; margin:0; letter-spacing:.02em; }
         nav { display:flex; gap:4px; flex-wrap:wrap; }
         nav a { padding:6px 10px; border-radius:6px; text-decoration:none; color:var(--sb-text); }
         nav a:hover { background:var(--sb-bg); }
         nav a.active { background:var(--sb-bg); font-weight:600; }"
    );
    let main = css!("padding:20px; max-width:1400px; margin:0 auto;");
    let links = MODULES.iter().map(|m| {
        html! {
            <Link<Route> to={Route::Module { module: m.id.to_owned() }}>{ m.title }</Link<Route>>
        }
    });
    html! {
        <div data-testid="shell">
            <ThemeStyles />
            <header class={header}>
                <h1>{ "Switchboard" }</h1>
                <nav aria-label="Modules">
                    <Link<Route> to={Route::Overview}>{ "Overview" }</Link<Route>>
                    { for links }
                </nav>
            </header>
            <main class={main}>
                <Switch<Route> render={switch} />
            </main>
        </div>
    }
}
