//! The module registry: one static list, checked as a whole by the tests.
//!
//! To add a module, add its crate and put its `MODULE` here; see `docs/ADDING_A_MODULE.md`.

use switchboard_kit::module::WsModule;

/// Every module the shell shows, in navigation order.
pub static MODULES: &[&dyn WsModule] = &[
    &switchboard_network::ui::MODULE,
    &switchboard_sessions::ui::MODULE,
    &switchboard_billing::ui::MODULE,
    &switchboard_support::ui::MODULE,
];

/// The ids, for validating `config.json`.
pub fn ids() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.id()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_kit::module::validate;

    #[test]
    fn the_registry_is_valid() {
        assert_eq!(validate(MODULES), Ok(()));
        assert_eq!(ids(), ["network", "sessions", "billing", "support"]);
    }

    /// `cargo xtask dist` puts the config's socket origins in the CSP's `connect-src`; a
    /// default URL is not in the config, so it must be covered by `'self'`. An absolute URL
    /// belongs in each environment's `config.json`.
    #[test]
    fn every_default_url_is_a_path_on_the_pages_origin() {
        for m in MODULES {
            let url = m.default_url();
            assert!(
                url.starts_with('/') && !url.starts_with("//"),
                "{}: default URL {url:?} is not a path; set absolute URLs in config.json",
                m.id()
            );
        }
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
