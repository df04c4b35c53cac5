//! A fifth dashboard module, for tests only: lab probe temperatures. It is shaped like the
//! real modules (channels and payload, a simulator, a `BACKEND`, and with `ui` a store, a card,
//! a page and its `WsModule`), and it is in no shipped build: the registry lists it only with
//! its `fixture` feature, which `cargo xtask test` turns on for the browser tests and their
//! development backend. If a registry-wide check or the backend breaks with a fifth module,
//! those tests fail.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_core::simulator::{Actor, Backend, Keep, Simulator, check, keep_as};
use switchboard_core::{Frame, Instant, Provenance, TypedChannel};

/// One probe's reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabReading {
    /// Which probe, e.g. `rack-1`.
    pub probe: String,
    /// Degrees Celsius.
    pub celsius: f64,
}

/// The module's one channel.
pub const LAB_READING: TypedChannel<LabReading> = TypedChannel::new("lab_reading");
/// Every channel the module receives.
pub const CHANNELS: &[&str] = &[LAB_READING.name()];

/// Readings every 2 s from two probes.
#[derive(Debug, Default)]
pub struct LabSimulator;

impl Actor for LabSimulator {}

impl Simulator for LabSimulator {
    fn interval(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        ["rack-1", "rack-2"]
            .into_iter()
            .filter_map(|probe| {
                let reading = LabReading {
                    probe: probe.to_owned(),
                    celsius: 18.0 + rng.f64() * 8.0,
                };
                Frame::new(
                    LAB_READING.name(),
                    &reading,
                    Some(now),
                    Provenance::Simulated,
                )
                .ok()
            })
            .collect()
    }
}

/// What the development backend serves for this module.
pub const BACKEND: Backend = Backend {
    id: "lab",
    channels: CHANNELS,
    main_channel: LAB_READING.name(),
    check: |f| check(LAB_READING, f),
    simulator: || Box::new(LabSimulator),
    keep: |f| keep_as(LAB_READING, f, |r| r.probe.clone()).unwrap_or(Keep::Skip),
    actions: &[],
};

/// The views and the `WsModule` declaration.
#[cfg(feature = "ui")]
pub mod ui {
    use std::collections::BTreeMap;

    use switchboard_core::Frame;
    use switchboard_kit::WsHandle;
    use switchboard_kit::module::WsModule;
    use switchboard_kit::status::SourceTag;
    use switchboard_kit::store::{Store, use_store};
    use yew::prelude::*;

    use super::{CHANNELS, LAB_READING, LabReading, LabSimulator};

    /// The latest reading of each probe.
    pub type State = BTreeMap<String, f64>;

    fn fold(s: &mut State, r: LabReading, _: &Frame) {
        s.insert(r.probe, r.celsius);
    }

    /// The lab store.
    pub fn store(handle: &WsHandle) -> Store<State> {
        Store::new(State::new).fold(handle, LAB_READING, fold)
    }

    /// The probes, for the card and the page.
    #[component]
    fn Probes() -> Html {
        let view = use_store(store);
        let (state, provenance) = view.pick(|s| !s.is_empty());
        let rows = state
            .iter()
            .map(|(probe, c)| html! { <li data-probe={probe.clone()}>{ format!("{probe}: {c:.1} °C") }</li> });
        html! {
            <div data-provenance={provenance.as_str()}>
                <SourceTag {provenance} live_at={view.live_at()} />
                <ul data-testid="lab">{ for rows }</ul>
            </div>
        }
    }

    /// The lab module.
    #[derive(Debug)]
    pub struct Lab;

    /// The registry entry.
    pub static MODULE: Lab = Lab;

    impl WsModule for Lab {
        fn id(&self) -> &'static str {
            "lab"
        }
        fn title(&self) -> &'static str {
            "Lab"
        }
        fn icon(&self) -> &'static str {
            "M9 3v6l-5 9h16l-5-9V3"
        }
        fn default_url(&self) -> &'static str {
            "/ws/lab"
        }
        fn channels(&self) -> &'static [&'static str] {
            CHANNELS
        }
        fn simulator(&self) -> Option<Box<dyn switchboard_core::simulator::Simulator>> {
            Some(Box::new(LabSimulator))
        }
        fn keep(&self) -> Option<fn(&Frame) -> super::Keep> {
            Some(super::BACKEND.keep)
        }
        fn attach(&self, handle: &WsHandle) {
            handle.store(store);
        }
        fn page(&self) -> Html {
            html! { <Probes /> }
        }
        fn card(&self) -> Html {
            html! { <Probes /> }
        }
    }
}
