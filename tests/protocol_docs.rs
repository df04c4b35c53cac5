//! Every JSON example in `docs/PROTOCOL.md` decodes into its channel's type, and every channel
//! has an example: the documentation cannot drift from the code.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use switchboard_core::frame::decode_envelope;
use switchboard_core::{Frame, Provenance};
use switchboard_registry::BACKENDS;

const DOC: &str = include_str!("../docs/PROTOCOL.md");

fn json_blocks() -> Vec<&'static str> {
    DOC.split("```json")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

/// Decodes with the payload type of the module that owns the channel, from the registry.
fn decode(frame: &Frame) -> Result<(), String> {
    BACKENDS
        .iter()
        .find_map(|b| (b.check)(frame))
        .unwrap_or_else(|| Err(format!("no module has channel `{}`", frame.channel())))
}

#[test]
fn every_documented_example_decodes() {
    let mut covered = BTreeSet::new();
    for block in json_blocks() {
        let Ok(env) = decode_envelope(block, 1 << 20) else {
            continue;
        }; // auth, config
        // The generic shape, and the client's own frames, are not channel payloads.
        if ["channel_name", "auth", "auth_error"].contains(&env.kind.as_ref()) {
            continue;
        }
        let data: serde_json::Value = serde_json::from_str(env.data.get()).unwrap();
        let channel = env.kind.into_owned();
        let frame = Frame::new(channel.clone(), &data, env.timestamp, Provenance::Live).unwrap();
        assert!(
            env.timestamp.is_some(),
            "{channel}: the example has a timestamp"
        );
        decode(&frame).unwrap_or_else(|e| panic!("{channel}: {e}"));
        covered.insert(channel);
    }
    let all: BTreeSet<String> = BACKENDS
        .iter()
        .flat_map(|b| b.channels.iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(covered, all, "every channel has a decoded example");
}
