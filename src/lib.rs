//! The Switchboard shell: the router, the layout, and the module registry.
//!
//! The shell owns no data. Each dashboard module brings its own connection, views and
//! simulator; the shell lists them, routes to them, and lays them out.

mod layout;
mod pages;
pub mod registry;
mod routes;

use yew::prelude::*;
use yew_router::prelude::*;

pub use layout::Shell;
pub use routes::Route;

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<App>::new().render();
}

/// The app with a browser router. The basename comes from `<base href>`, which trunk writes
/// from `public_url`, so the same build works at `/` and under a CDN path.
#[component]
pub fn App() -> Html {
    html! {
        <BrowserRouter>
            <Shell />
        </BrowserRouter>
    }
}
