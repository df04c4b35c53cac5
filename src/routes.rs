//! The app's routes: the overview, one page per module, and a 404 page.
//!
//! Paths are matched by [`Route::from_path`] rather than yew-router's `Switch`: three routes do
//! not need its general recognizer, which costs about 5 KB of brotli in the wasm. Links still
//! come from yew-router (`Routable` gives each route its path).

use yew::prelude::*;
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
    /// A subscriber's page: what every module holds for one account.
    #[at("/subscriber/:id")]
    Subscriber {
        /// The subscriber's id, e.g. `sub_1003` (percent-encoded in the path).
        id: String,
    },
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// The route for the location's `path` under the router's `basename`: `/` is the
    /// overview, one segment (a trailing `/` allowed) names a module page, anything deeper is
    /// not found. Whether the segment is a module of this build is the page's to decide.
    pub fn from_path(path: &str, basename: Option<&str>) -> Self {
        let path = basename.and_then(|b| path.strip_prefix(b)).unwrap_or(path);
        let path = path.strip_prefix('/').unwrap_or(path);
        let path = path.strip_suffix('/').unwrap_or(path);
        match path.split_once('/') {
            _ if path.is_empty() => Self::Overview,
            None => Self::Module {
                module: path.to_owned(),
            },
            Some(("subscriber", id)) if !id.is_empty() && !id.contains('/') => {
                match switchboard_core::text::decode_segment(id) {
                    Some(id) => Self::Subscriber { id },
                    None => Self::NotFound,
                }
            }
            Some(_) => Self::NotFound,
        }
    }
}

/// The current route; re-renders its component when the location changes. Needs a router
/// above it.
#[hook]
pub fn use_current_route() -> Route {
    let navigator = use_navigator();
    let location = use_location();
    match (navigator, location) {
        (Some(navigator), Some(location)) => {
            Route::from_path(location.path(), navigator.basename())
        }
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        let module = |m: &str| Route::Module {
            module: m.to_owned(),
        };
        assert_eq!(Route::from_path("/", None), Route::Overview);
        assert_eq!(Route::from_path("", None), Route::Overview);
        assert_eq!(Route::from_path("/network", None), module("network"));
        assert_eq!(Route::from_path("/network/", None), module("network"));
        assert_eq!(
            Route::from_path("/nope", None),
            module("nope"),
            "the page says 404"
        );
        assert_eq!(Route::from_path("/network/extra", None), Route::NotFound);
        assert_eq!(Route::from_path("/a/b/c", None), Route::NotFound);
        assert_eq!(
            Route::from_path("/subscriber/sub_1003", None),
            Route::Subscriber {
                id: "sub_1003".into()
            }
        );
        assert_eq!(
            Route::from_path("/subscriber/a%2Fb", None),
            Route::Subscriber { id: "a/b".into() }
        );
        assert_eq!(
            Route::from_path("/subscriber/", None),
            module("subscriber"),
            "no id: a module page, which says 404"
        );
        assert_eq!(Route::from_path("/subscriber/a/b", None), Route::NotFound);
        assert_eq!(Route::from_path("/subscriber/%FF", None), Route::NotFound);
    }

    #[test]
    fn the_basename_is_not_part_of_the_route() {
        let base = Some("/ops");
        assert_eq!(Route::from_path("/ops", base), Route::Overview);
        assert_eq!(Route::from_path("/ops/", base), Route::Overview);
        assert_eq!(
            Route::from_path("/ops/support", base),
            Route::Module {
                module: "support".into()
            }
        );
        assert_eq!(Route::from_path("/opsx/support", base), Route::NotFound);
    }

    #[test]
    fn every_route_links_to_a_path_that_maps_back_to_it() {
        for route in [
            Route::Overview,
            Route::Module {
                module: "billing".into(),
            },
            Route::Subscriber {
                id: "sub_1003".into(),
            },
        ] {
            assert_eq!(Route::from_path(&route.to_path(), None), route);
        }
    }
}
