//! The app's routes: the overview, one page per module, and a 404 page.

use yew_router::prelude::*;

/// Where the app can be.
#[derive(Clone, Debug, PartialEq, Eq, Routable)]
pub enum Route {
    /// Every module's summary card with its status.
    #[at("/")]
    Overview,
    /// A module's full page, by its route segment.
    #[at("/:module")]
    Module {
        /// The module's route segment, e.g. `network`.
        module: String,
    },
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
}
