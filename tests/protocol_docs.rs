//! Every JSON example in `docs/PROTOCOL.md` decodes into its channel's type, and every channel
//! has an example: the documentation cannot drift from the code.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use switchboard_billing::data::{INVOICE_UPDATE, SUBSCRIBER_UPDATE};
use switchboard_core::frame::decode_envelope;
use switchboard_core::{Frame, Provenance};
use switchboard_network::data::{BANDWIDTH_UPDATE, NETWORK_STATUS};
use switchboard_sessions::data::SESSION_UPDATE;
use switchboard_support::data::TICKET_UPDATE;

const DOC: &str = include_str!("../docs/PROTOCOL.md");

fn json_blocks() -> Vec<&'static str> {
    DOC.split("```json")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

fn decode(frame: &Frame) -> Result<(), String> {
    let e = |e: switchboard_core::PayloadError| e.to_string();
    match frame.channel() {
        "bandwidth_update" => BANDWIDTH_UPDATE.decode(frame).map(drop).map_err(e),
        "network_status" => NETWORK_STATUS.decode(frame).map(drop).map_err(e),
        "session_update" => SESSION_UPDATE.decode(frame).map(drop).map_err(e),
        "invoice_update" => INVOICE_UPDATE.decode(frame).map(drop).map_err(e),
        "subscriber_update" => SUBSCRIBER_UPDATE.decode(frame).map(drop).map_err(e),
        "ticket_update" => TICKET_UPDATE.decode(frame).map(drop).map_err(e),
        other => Err(format!("no channel `{other}`")),
    }
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
    let all: BTreeSet<String> = [
        "bandwidth_update",
        "network_status",
        "session_update",
        "invoice_update",
        "subscriber_update",
        "ticket_update",
    ]
    .map(String::from)
    .into();
    assert_eq!(covered, all, "every channel has a decoded example");
}
