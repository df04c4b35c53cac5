//! The module registry: one static list, written once, that gives the shell every module's
//! views ([`MODULES`], feature `ui`) and the development backend what it serves
//! ([`BACKENDS`]), in navigation order. Adding a module is one crate under `modules/` (a
//! workspace member by the `modules/*` glob), one line in [`registry!`]'s call below, and
//! two lines in this crate's `Cargo.toml` (the dependency, and its `ui` in our `ui`); see
//! `docs/ADDING_A_MODULE.md`. Feature `fixture` adds a fifth, test-only module
//! (`tests/fixture-module`), so the tests prove a fifth module needs nothing more.

use switchboard_core::simulator::Backend;

/// Declares both lists from the module crates' names. Each crate provides `BACKEND` and, with
/// its `ui` feature, `ui::MODULE`.
macro_rules! registry {
    ($($(#[$when:meta])* $krate:ident),+ $(,)?) => {
        /// What the development backend serves, one per module, in navigation order.
        pub static BACKENDS: &[&Backend] = &[$($(#[$when])* &$krate::BACKEND),+];

        /// Every module the shell shows, in navigation order.
        #[cfg(feature = "ui")]
        pub static MODULES: &[&dyn switchboard_kit::module::WsModule] =
            &[$($(#[$when])* &$krate::ui::MODULE),+];
    };
}

registry!(
    switchboard_network,
    switchboard_sessions,
    switchboard_billing,
    switchboard_support,
    #[cfg(feature = "fixture")]
    switchboard_fixture,
);

#[cfg(test)]
mod tests {
    use super::BACKENDS;

    #[test]
    fn every_backend_is_well_formed_and_unique() {
        let mut ids: Vec<&str> = BACKENDS.iter().map(|b| b.id).collect();
        for b in BACKENDS {
            assert!(
                b.channels.contains(&b.main_channel),
                "{}: the main channel is one of its channels",
                b.id
            );
            // The generator the backend runs produces frames, and only on declared channels.
            let mut rng = fastrand::Rng::with_seed(1);
            let mut sim = (b.simulator)();
            let frames: Vec<_> = (0..50)
                .flat_map(|i| sim.tick(switchboard_core::Instant::from_millis(i * 2000), &mut rng))
                .collect();
            assert!(!frames.is_empty(), "{} simulates", b.id);
            for f in &frames {
                assert!(
                    b.channels.contains(&f.channel()),
                    "{} simulates undeclared `{}`",
                    b.id,
                    f.channel()
                );
            }
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), BACKENDS.len(), "unique ids");
    }

    /// The shell's views and the backend's list are the same modules, in the same order.
    #[cfg(feature = "ui")]
    #[test]
    fn views_and_backends_agree() {
        let views: Vec<(&str, &[&str])> = super::MODULES
            .iter()
            .map(|m| (m.id(), m.channels()))
            .collect();
        let backends: Vec<(&str, &[&str])> = BACKENDS.iter().map(|b| (b.id, b.channels)).collect();
        assert_eq!(views, backends);
    }
}
