//! The shell's own pages: the overview, a module's page, and 404.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::registry::{MODULES, by_route};
use crate::routes::Route;

/// `/`: every module's summary card.
#[component]
pub fn Overview() -> Html {
    let cards = MODULES
        .iter()
        .map(|m| html! { <section><h2>{ m.title }</h2></section> });
    html! {
        <>
            <h2>{ "Overview" }</h2>
            if MODULES.is_empty() {
                <p>{ "No dashboard modules are registered in this build." }</p>
            } else {
                { for cards }
            }
        </>
    }
}

/// Props of [`ModulePage`].
#[derive(Properties, PartialEq)]
pub struct ModulePageProps {
    /// The route segment from the URL.
    pub module: String,
}

/// `/<module>`: a module's full page, or 404 for an unknown segment.
#[component]
pub fn ModulePage(props: &ModulePageProps) -> Html {
    match by_route(&props.module) {
        Some(m) => html! { <h2>{ m.title }</h2> },
        None => html! { <NotFound /> },
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
