//! The modules the shell shows: the registry crate's one list (`modules/registry`), which the
//! development backend reads too, checked here as a whole.
//!
//! To add a module, add its crate and one line in `modules/registry/src/lib.rs`; see
//! `docs/ADDING_A_MODULE.md`.

#[cfg(test)]
use switchboard_kit::module::WsModule;
pub use switchboard_registry::MODULES;

/// The ids, for validating `config.json`.
pub fn ids() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.id()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_kit::module::validate;

    /// The checks every registry must pass, whatever its modules. Default URLs must be paths:
    /// `cargo xtask dist` puts the config's socket origins in the CSP's `connect-src`, and a
    /// default URL is not in the config, so `'self'` must cover it.
    fn check(registry: &[&dyn WsModule]) {
        assert_eq!(validate(registry), Ok(()));
        for m in registry {
            let url = m.default_url();
            assert!(
                switchboard_core::config::is_page_path(url),
                "{}: default URL {url:?} is not a path; set absolute URLs in config.json",
                m.id()
            );
        }
    }

    #[test]
    fn the_registry_is_valid() {
        check(MODULES);
        assert_eq!(ids().len(), MODULES.len());
    }

    /// A fifth module is one crate and one registry line: a registry with an extra module
    /// passes the same checks, with no other test edited.
    #[test]
    fn a_registry_with_a_fifth_module_passes_the_same_checks() {
        #[derive(Debug)]
        struct Climate;
        impl WsModule for Climate {
            fn id(&self) -> &'static str {
                "climate"
            }
            fn title(&self) -> &'static str {
                "Climate"
            }
            fn icon(&self) -> &'static str {
                "M12 2v14"
            }
            fn default_url(&self) -> &'static str {
                "/ws/climate"
            }
            fn channels(&self) -> &'static [&'static str] {
                &["temperature_update"]
            }
            fn page(&self) -> yew::Html {
                yew::Html::default()
            }
            fn card(&self) -> yew::Html {
                yew::Html::default()
            }
        }
        let mut registry: Vec<&dyn WsModule> = MODULES.to_vec();
        registry.push(&Climate);
        check(&registry);
    }

    /// `index.html` opens each module's socket before the code arrives, from its own copy of
    /// the default URLs (`data-sockets`): the copy must name every module with the URL its
    /// connection opens, or that module's socket would open twice, or late.
    #[test]
    fn index_html_opens_early_the_sockets_the_modules_open() {
        let html = include_str!("../index.html");
        let list = html
            .split_once("data-sockets='")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(list, _)| list)
            .expect("index.html's early script has data-sockets");
        let early: std::collections::BTreeMap<String, String> =
            serde_json::from_str(list).expect("data-sockets is a JSON object of URLs");
        let defaults = MODULES
            .iter()
            // The tests' fifth module (feature `fixture`) gets no early socket.
            .filter(|m| !(cfg!(feature = "fixture") && m.id() == "lab"))
            .map(|m| (m.id().to_owned(), m.default_url().to_owned()))
            .collect();
        assert_eq!(early, defaults);
    }

    #[test]
    fn every_module_can_simulate_and_declares_what_it_simulates() {
        for m in MODULES {
            let mut sim = m
                .simulator()
                .unwrap_or_else(|| panic!("{} has no simulator", m.id()));
            let mut rng = fastrand::Rng::with_seed(1);
            let mut seen = std::collections::BTreeSet::new();
            for i in 0..50 {
                for f in sim.tick(switchboard_core::Instant::from_millis(i * 2000), &mut rng) {
                    seen.insert(f.channel().to_owned());
                }
            }
            for channel in &seen {
                assert!(
                    m.channels().contains(&channel.as_str()),
                    "{} simulates undeclared `{channel}`",
                    m.id()
                );
            }
            assert_eq!(
                seen.len(),
                m.channels().len(),
                "{} simulates every channel",
                m.id()
            );
        }
    }
}
