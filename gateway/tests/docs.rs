//! Every `nats pub` example in docs/GATEWAY.md is a valid frame of its subject's module and
//! channel, and every module has one: the publishing guide cannot drift from the code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use switchboard_gateway::Module;

const DOC: &str = include_str!("../../docs/GATEWAY.md");

#[test]
fn every_nats_pub_example_is_a_valid_frame_of_its_subject() {
    let mut modules = BTreeSet::new();
    for line in DOC.lines().filter(|l| l.starts_with("nats pub ")) {
        let rest = &line["nats pub ".len()..];
        let (subject, body) = rest.split_once(' ').expect("a subject and a body");
        let body = body.trim().trim_matches('\'');
        let parts: Vec<&str> = subject.split('.').collect();
        assert_eq!(parts.len(), 3, "switchboard.<module>.<channel>: {subject}");
        assert_eq!(parts[0], "switchboard", "{subject}");
        let module = Module::named(parts[1]).unwrap_or_else(|| panic!("no module {}", parts[1]));
        let frame = module
            .frame_from(body)
            .unwrap_or_else(|e| panic!("{subject}: {e}"));
        assert_eq!(
            frame.channel(),
            parts[2],
            "the type is the subject's channel"
        );
        modules.insert(module.name());
    }
    for module in ["network", "sessions", "billing", "support"] {
        assert!(modules.contains(module), "no example for {module}");
    }
}
