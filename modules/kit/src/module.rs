//! The plugin contract: what a dashboard module declares, and the check over all of them.

use std::collections::BTreeSet;

use switchboard_core::Config;
use switchboard_core::channel::is_valid_channel_name;
use switchboard_core::simulator::Simulator;
use yew::Html;

use crate::WsHandle;

/// A dashboard module. The shell lists modules in one static registry
/// (`&[&dyn WsModule]`); for each it mounts a [`WsProvider`](crate::WsProvider) with the
/// module's URL, channels and settings, and renders the module's views inside it.
///
/// Each method states its rule and its default. [`validate`] checks the rules that can be
/// checked, over the whole registry, in the shell's tests.
///
/// # Example
/// A complete small module:
/// ```
/// use std::time::Duration;
/// use switchboard_core::{Config, Frame, Instant, Provenance, TypedChannel};
/// use switchboard_core::simulator::Simulator;
/// use switchboard_kit::module::{WsModule, validate};
/// use yew::prelude::*;
///
/// #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
/// pub struct Temperature { pub celsius: f64 }
///
/// pub const TEMPERATURE: TypedChannel<Temperature> = TypedChannel::new("temperature_update");
/// const CHANNELS: &[&str] = &[TEMPERATURE.name()];
///
/// struct Thermo;
///
/// impl Simulator for Thermo {
///     fn interval(&self) -> Duration { Duration::from_secs(5) }
///     fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
///         let t = Temperature { celsius: 20.0 + rng.f64() * 5.0 };
///         Frame::new(TEMPERATURE.name(), &t, Some(now), Provenance::Simulated).into_iter().collect()
///     }
/// }
///
/// struct Climate;
///
/// impl WsModule for Climate {
///     fn id(&self) -> &'static str { "climate" }
///     fn title(&self) -> &'static str { "Climate" }
///     fn icon(&self) -> &'static str { "M12 2v14" }
///     fn default_url(&self) -> &'static str { "/ws/climate" }
///     fn channels(&self) -> &'static [&'static str] { CHANNELS }
///     fn simulator(&self) -> Option<Box<dyn Simulator>> { Some(Box::new(Thermo)) }
///     fn page(&self) -> Html { html! { <p>{ "the climate page" }</p> } }
///     fn card(&self) -> Html { html! { <p>{ "climate summary" }</p> } }
/// }
///
/// assert_eq!(validate(&[&Climate as &dyn WsModule]), Ok(()));
/// ```
pub trait WsModule: Sync {
    /// A stable identifier: lower-case letters, digits and `-`, starting with a letter. It
    /// keys runtime config (`config.json` → `modules.<id>`) and logs. Unique in the registry.
    fn id(&self) -> &'static str;

    /// The module's name in navigation and headings, e.g. "Network". Not empty.
    fn title(&self) -> &'static str;

    /// An SVG path (24×24 viewBox, stroked) drawn beside the title.
    fn icon(&self) -> &'static str;

    /// The route segment of the module's page (`/<route>`). Default: the id. Same rules as
    /// the id; unique in the registry; never empty, so it cannot shadow the overview.
    fn route(&self) -> &'static str {
        self.id()
    }

    /// The WebSocket URL used when `config.json` does not set one: absolute (`wss://…`) or a
    /// path (`/ws/network`) resolved against the page's origin.
    fn default_url(&self) -> &'static str;

    /// The channels this module receives, as the `name()`s of its `TypedChannel` constants.
    /// Frames on any other channel are dropped and counted; subscribing to another channel
    /// is an error. At least one; each a valid channel name; no repeats. Channels may be
    /// shared between modules, since each module has its own connection.
    fn channels(&self) -> &'static [&'static str];

    /// Reconnect, staleness, outbox, fatal codes, frame size and rate limit. Default: the
    /// reference's behaviour ([`Config::default`]). The shell fills in `channels`.
    fn connection(&self) -> Config {
        Config::default()
    }

    /// A fresh simulator for the offline fallback, or `None` if the module cannot simulate.
    /// Default: `None`. The deployment may still switch simulation off in `config.json`.
    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        None
    }

    /// How a frame changes the module's state, as its backend keeps it: the module's
    /// [`Backend::keep`](switchboard_core::simulator::Backend::keep). With it, the module's
    /// connection is shared across the browser's tabs (`share_across_tabs`), and a tab that
    /// joins gets the state from the tab that holds the connection. Default: `None`, and
    /// every tab connects on its own.
    fn keep(&self) -> Option<fn(&switchboard_core::Frame) -> switchboard_core::simulator::Keep> {
        None
    }

    /// Attaches the module's state to its connection, for as long as the connection lives:
    /// typically `handle.store(store);` with the module's `fn store(&WsHandle) -> Store<S>`
    /// (see [`crate::store`]), the same function its views pass to `use_store`. The shell
    /// calls it once, right after building the connection and before starting it, so no
    /// frame is missed while no view is mounted. Default: nothing (views that fold state
    /// attach it on first use instead).
    fn attach(&self, handle: &WsHandle) {
        let _ = handle;
    }

    /// Whether the module's page has the search box (marked with
    /// [`search::MARKER`](crate::search::MARKER), its query in the URL as `?q=`): the `/`
    /// key then brings any page there and focuses it. The first module that says so gets the
    /// shortcut. Default: no.
    fn searches(&self) -> bool {
        false
    }

    /// The module's part of a subscriber's page (`/subscriber/<id>`, the id billing gives an
    /// account): what the module holds for that subscriber, rendered inside its provider, or
    /// `None` when the module has nothing per subscriber. The shell composes the page from
    /// every module's part without knowing them. Default: `None`.
    fn subscriber(&self, id: &str) -> Option<Html> {
        let _ = id;
        None
    }

    /// The full page, rendered inside the module's provider.
    fn page(&self) -> Html;

    /// The summary card on the overview, rendered inside the module's provider.
    fn card(&self) -> Html;
}

/// A registry rule that a module breaks. Each names the module, so the fix is obvious.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// An id or route is not lower-case letters, digits and `-` starting with a letter.
    BadSlug {
        module: &'static str,
        field: &'static str,
        value: &'static str,
    },
    /// Two modules share an id or a route.
    Duplicate {
        field: &'static str,
        value: &'static str,
    },
    /// A title is empty.
    EmptyTitle { module: &'static str },
    /// A module declares no channels.
    NoChannels { module: &'static str },
    /// A channel name is malformed.
    BadChannel {
        module: &'static str,
        channel: &'static str,
    },
    /// A module declares a channel twice.
    RepeatedChannel {
        module: &'static str,
        channel: &'static str,
    },
    /// A default URL is neither `ws://`, `wss://` nor a path starting with `/`.
    BadUrl {
        module: &'static str,
        url: &'static str,
    },
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::BadSlug {
                module,
                field,
                value,
            } => {
                write!(
                    f,
                    "module `{module}`: {field} `{value}` must be lower-case letters, digits and `-`"
                )
            }
            RegistryError::Duplicate { field, value } => {
                write!(f, "two modules share the {field} `{value}`")
            }
            RegistryError::EmptyTitle { module } => {
                write!(f, "module `{module}` has an empty title")
            }
            RegistryError::NoChannels { module } => {
                write!(f, "module `{module}` declares no channels")
            }
            RegistryError::BadChannel { module, channel } => {
                write!(
                    f,
                    "module `{module}`: `{channel}` is not a valid channel name"
                )
            }
            RegistryError::RepeatedChannel { module, channel } => {
                write!(f, "module `{module}` declares `{channel}` twice")
            }
            RegistryError::BadUrl { module, url } => {
                write!(
                    f,
                    "module `{module}`: default URL `{url}` is not ws://, wss:// or /path"
                )
            }
        }
    }
}

impl std::error::Error for RegistryError {}

fn is_slug(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// Checks every rule of [`WsModule`] that can be checked, over the whole registry, and
/// returns every violation.
pub fn validate(modules: &[&dyn WsModule]) -> Result<(), Vec<RegistryError>> {
    let mut errors = Vec::new();
    let (mut ids, mut routes) = (BTreeSet::new(), BTreeSet::new());
    for m in modules {
        let id = m.id();
        for (field, value, seen) in [("id", id, &mut ids), ("route", m.route(), &mut routes)] {
            if !is_slug(value) {
                errors.push(RegistryError::BadSlug {
                    module: id,
                    field,
                    value,
                });
            }
            if !seen.insert(value) {
                errors.push(RegistryError::Duplicate { field, value });
            }
        }
        if m.title().trim().is_empty() {
            errors.push(RegistryError::EmptyTitle { module: id });
        }
        if m.channels().is_empty() {
            errors.push(RegistryError::NoChannels { module: id });
        }
        let mut channels = BTreeSet::new();
        for &channel in m.channels() {
            if !is_valid_channel_name(channel) {
                errors.push(RegistryError::BadChannel {
                    module: id,
                    channel,
                });
            }
            if !channels.insert(channel) {
                errors.push(RegistryError::RepeatedChannel {
                    module: id,
                    channel,
                });
            }
        }
        let url = m.default_url();
        if !(url.starts_with("ws://") || url.starts_with("wss://") || url.starts_with('/')) {
            errors.push(RegistryError::BadUrl { module: id, url });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yew::html;

    struct Fake {
        id: &'static str,
        route: &'static str,
        channels: &'static [&'static str],
        url: &'static str,
    }

    impl WsModule for Fake {
        fn id(&self) -> &'static str {
            self.id
        }
        fn title(&self) -> &'static str {
            "Fake"
        }
        fn icon(&self) -> &'static str {
            ""
        }
        fn route(&self) -> &'static str {
            self.route
        }
        fn default_url(&self) -> &'static str {
            self.url
        }
        fn channels(&self) -> &'static [&'static str] {
            self.channels
        }
        fn page(&self) -> Html {
            html! {}
        }
        fn card(&self) -> Html {
            html! {}
        }
    }

    const GOOD: Fake = Fake {
        id: "net",
        route: "net",
        channels: &["a"],
        url: "/ws/net",
    };

    #[test]
    fn a_good_registry_passes() {
        let other = Fake {
            id: "billing",
            route: "billing",
            url: "wss://x/ws",
            ..GOOD
        };
        assert_eq!(validate(&[&GOOD, &other]), Ok(()));
    }

    #[test]
    fn every_rule_is_reported() {
        let dup = Fake {
            route: "other",
            ..GOOD
        };
        let bad = Fake {
            id: "Bad",
            route: "",
            channels: &["x-y", "a", "a"],
            url: "http://x",
        };
        let empty = Fake {
            id: "empty",
            route: "empty",
            channels: &[],
            ..GOOD
        };
        let errors = validate(&[&GOOD, &dup, &bad, &empty]).unwrap_err();
        assert_eq!(
            errors,
            [
                RegistryError::Duplicate {
                    field: "id",
                    value: "net"
                },
                RegistryError::BadSlug {
                    module: "Bad",
                    field: "id",
                    value: "Bad"
                },
                RegistryError::BadSlug {
                    module: "Bad",
                    field: "route",
                    value: ""
                },
                RegistryError::BadChannel {
                    module: "Bad",
                    channel: "x-y"
                },
                RegistryError::RepeatedChannel {
                    module: "Bad",
                    channel: "a"
                },
                RegistryError::BadUrl {
                    module: "Bad",
                    url: "http://x"
                },
                RegistryError::NoChannels { module: "empty" },
            ]
        );
    }
}
