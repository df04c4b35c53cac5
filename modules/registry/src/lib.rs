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

    /// Every module's actions are well-formed, unique, and neither a channel nor one of the
    /// protocol's own frame types, so an action frame can never be mistaken for anything
    /// else; and each check refuses a request without its id.
    #[test]
    fn every_action_is_well_formed_unique_and_unmistakable() {
        use switchboard_core::channel::{AUTH, AUTH_ERROR, is_valid_channel_name};
        use switchboard_core::{action, resume};
        let reserved = [
            AUTH,
            AUTH_ERROR,
            resume::SYNC,
            resume::SNAPSHOT_PART,
            resume::HEARTBEAT,
            resume::RESYNC,
            action::GRANTS,
            action::ACTION_RESULT,
        ];
        let mut all = 0;
        for b in BACKENDS {
            let mut names = std::collections::BTreeSet::new();
            for a in b.actions {
                all += 1;
                assert!(is_valid_channel_name(a.name), "{}: `{}`", b.id, a.name);
                assert!(names.insert(a.name), "{}: `{}` twice", b.id, a.name);
                assert!(
                    !b.channels.contains(&a.name),
                    "{}: `{}` is a channel and an action",
                    b.id,
                    a.name
                );
                assert!(
                    !reserved.contains(&a.name),
                    "{}: `{}` is reserved",
                    b.id,
                    a.name
                );
                assert!(
                    (a.check)("{}").is_err(),
                    "{}: `{}` accepts a request without a request_id",
                    b.id,
                    a.name
                );
                assert!(b.action(a.name).is_some());
            }
        }
        assert!(all >= 4, "the modules declare their actions");
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
