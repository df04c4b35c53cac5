//! Every JSON example in `docs/PROTOCOL.md` decodes into its channel's type, and every channel
//! has an example: the documentation cannot drift from the code.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use switchboard_core::frame::decode_envelope;
use switchboard_core::{Frame, Provenance};
use switchboard_registry::BACKENDS;

const DOC: &str = include_str!("../docs/PROTOCOL.md");

/// Every ` ```json ` block, each a frame: one that does not parse as a frame fails the test
/// that reads it, so no example can rot unnoticed.
fn json_blocks() -> Vec<&'static str> {
    DOC.split("```json")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

/// The block as a frame envelope, or a failure naming the block.
fn envelope(block: &'static str) -> switchboard_core::frame::Envelope<'static> {
    decode_envelope(block, 1 << 20)
        .unwrap_or_else(|e| panic!("a JSON example is not a frame ({e:?}):\n{block}"))
}

/// A connection open on socket 0 (the documented examples' moment), fed one frame at a time.
struct Client(switchboard_core::Connection);

impl Client {
    fn open(config: switchboard_core::Config) -> Self {
        use switchboard_core::{Connection, Event, Instant, SocketId};
        let now = Instant::from_millis(1_760_616_000_000);
        let mut conn = Connection::new(config, 1);
        conn.handle(now, Event::Start);
        let (socket, token) = (SocketId(0), None);
        conn.handle(now, Event::Opened { socket, token });
        Self(conn)
    }

    /// The commands one frame's text leads to.
    fn run(&mut self, text: &str) -> Vec<switchboard_core::Command> {
        use switchboard_core::{Event, Instant, SocketId};
        let now = Instant::from_millis(1_760_616_000_000);
        self.0.handle(
            now,
            Event::Text {
                socket: SocketId(0),
                text,
            },
        );
        std::iter::from_fn(|| self.0.poll()).collect()
    }
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
        let env = envelope(block);
        // The generic shape, and the client's own frames, are not channel payloads.
        if [
            "channel_name",
            "auth",
            "auth_error",
            "sync",
            "heartbeat",
            "resync",
            "snapshot_part",
            "grants",
            "action_result",
        ]
        .contains(&env.kind.as_ref())
            || is_action(&env.kind)
        {
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

/// Whether `kind` is an action of some module.
fn is_action(kind: &str) -> bool {
    BACKENDS.iter().any(|b| b.action(kind).is_some())
}

/// Every action example decodes with its module's payload type, every action has one, and
/// the `grants` and `action_result` examples drive a connection as documented: the grant
/// lets the action be sent, and the answer settles it.
#[test]
fn the_action_examples_decode_and_drive_a_connection() {
    use switchboard_core::Config;
    use switchboard_core::action::Phase;

    let mut covered = BTreeSet::new();
    let mut results = Vec::new();
    let mut grants = Vec::new();
    for block in json_blocks() {
        let env = envelope(block);
        match env.kind.as_ref() {
            "grants" => grants.push(block),
            "action_result" => results.push(block),
            kind => {
                let Some(spec) = BACKENDS.iter().find_map(|b| b.action(kind)) else {
                    continue;
                };
                assert!(
                    env.timestamp.is_some(),
                    "{kind}: the example has a timestamp"
                );
                (spec.check)(env.data.get()).unwrap_or_else(|e| panic!("{kind}: {e}"));
                covered.insert(kind.to_owned());
            }
        }
    }
    let all: BTreeSet<String> = BACKENDS
        .iter()
        .flat_map(|b| b.actions.iter().map(|a| a.name.to_owned()))
        .collect();
    assert_eq!(covered, all, "every action has a decoded example");
    assert!(
        DOC.contains(r#""actions": true"#),
        "the auth example asks for actions"
    );

    let mut client = Client::open(Config::default());
    assert_eq!(grants.len(), 1);
    client.run(grants[0]);
    let granted = client
        .0
        .grants()
        .cloned()
        .expect("the grants example is read");
    assert_eq!(granted.actions, ["disconnect"]);
    assert_eq!(
        results.len(),
        3,
        "a done and a refused answer, and a search's"
    );
    for block in results {
        let v: serde_json::Value = serde_json::from_str(block).unwrap();
        let id = v["data"]["request_id"].as_str().unwrap().to_owned();
        // Record the action as this client's own, then feed the documented answer.
        let data = format!(
            r#"{{"type":"disconnect","data":{{"session_id":"s-{id}","reason":"abuse","request_id":"{id}"}}}}"#
        );
        let mut ledger = switchboard_core::action::Ledger::default();
        let now = switchboard_core::Instant::from_millis(0);
        ledger
            .begin(now, &id, "disconnect", &format!("s-{id}"), data)
            .unwrap();
        let result = serde_json::from_value(v["data"].clone()).expect("decodes as ActionResult");
        let entry = ledger
            .answer(now, result)
            .expect("answers this client's action");
        match v["data"]["outcome"].as_str() {
            Some("done") if v["data"]["result"].is_object() => {
                let Phase::Done {
                    result: Some(found),
                } = &entry.phase
                else {
                    panic!("a search's answer carries its result: {:?}", entry.phase);
                };
                assert_eq!(found["total"], 1);
                let sessions: Vec<switchboard_core::payload::Session> =
                    serde_json::from_value(found["sessions"].clone()).expect("sessions");
                assert_eq!(sessions.len(), 1);
            }
            Some("done") => assert_eq!(entry.phase, Phase::Done { result: None }),
            _ => assert_eq!(
                entry.phase,
                Phase::Refused("session already ended".to_owned())
            ),
        }
        // And the connection consumes it without delivering it to subscribers.
        let cmds = client.run(block);
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, switchboard_core::Command::Deliver(_)))
        );
    }
}

/// The resume extension's examples are what the client understands: the auth offer and the
/// `resync` carry a position, the `sync` examples steer a connection as documented (a
/// snapshot's state is delivered and decodes through the registry), the stamped frame is
/// applied once, and the heartbeat is consumed.
#[test]
fn the_resume_examples_drive_a_connection_as_documented() {
    use switchboard_core::resume::SyncMode;
    use switchboard_core::{Command, Config};

    let blocks: Vec<(String, &str)> = json_blocks()
        .into_iter()
        .map(|b| (envelope(b).kind.into_owned(), b))
        .collect();
    let of = |kind: &str| -> Vec<&str> {
        blocks
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, b)| *b)
            .collect()
    };
    let position = |block: &str, field: &str| -> (String, u64) {
        let v: serde_json::Value = serde_json::from_str(block).unwrap();
        let p = &v[field];
        (
            p["epoch"].as_str().unwrap().to_owned(),
            p["seq"].as_u64().unwrap(),
        )
    };
    let offer = of("auth")
        .into_iter()
        .find(|b| b.contains("\"resume\""))
        .expect("an auth example with `resume`");
    let (epoch, seq) = position(offer, "resume");
    let resync = of("resync");
    assert_eq!(resync.len(), 1);
    assert_eq!(position(resync[0], "data"), (epoch.clone(), seq));

    let config = Config {
        channels: BACKENDS
            .iter()
            .flat_map(|b| b.channels.iter().copied())
            .collect(),
        ..Config::default()
    };
    let mut client = Client::open(config);
    let mut run = |text: &str| client.run(text);
    let syncs = of("sync");
    assert_eq!(
        syncs.len(),
        3,
        "a replay, a snapshot and a snapshot in parts"
    );
    let snapshot = syncs
        .iter()
        .find(|b| b.contains("\"snapshot\"") && !b.contains("\"parts\""))
        .unwrap();
    let cmds = run(snapshot);
    assert!(matches!(
        cmds.iter().find(|c| matches!(c, Command::Resync(_))),
        Some(Command::Resync(SyncMode::Snapshot))
    ));
    let state: Vec<&Frame> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Deliver(f) => Some(f),
            _ => None,
        })
        .collect();
    assert!(!state.is_empty(), "the snapshot delivers its state");
    for frame in state {
        decode(frame).unwrap_or_else(|e| panic!("snapshot state: {e}"));
    }

    // A replay from the offered position, then the documented frame right after it.
    let replay = syncs.iter().find(|b| b.contains("\"replay\"")).unwrap();
    let mut client = Client::open(Config::default());
    let mut run = |text: &str| client.run(text);
    // Establish the offered position first, as a snapshot would have.
    let at =
        format!(r#"{{"type":"sync","data":{{"mode":"snapshot","epoch":"{epoch}","seq":{seq}}}}}"#);
    run(&at);
    assert!(
        run(replay)
            .iter()
            .any(|c| matches!(c, Command::Resync(SyncMode::Replay)))
    );
    let stamped = blocks
        .iter()
        .find(|(k, b)| k == "session_update" && b.contains("\"seq\""))
        .map(|(_, b)| *b)
        .expect("a stamped data frame example");
    let delivered = |cmds: &[Command]| {
        cmds.iter()
            .filter(|c| matches!(c, Command::Deliver(_)))
            .count()
    };
    assert_eq!(delivered(&run(stamped)), 1, "applied once");
    assert_eq!(delivered(&run(stamped)), 0, "and never again");
    let heartbeat = of("heartbeat");
    assert_eq!(heartbeat.len(), 1);
    let cmds = run(heartbeat[0]);
    assert_eq!(delivered(&cmds), 0, "heartbeats never reach views");
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::Send(..))),
        "no gap at the documented position"
    );
}

/// The snapshot-in-parts example: nothing is delivered after its first part, and after the
/// second the whole state is, once, between `Resync` and `SnapshotEnd`.
#[test]
fn the_snapshot_in_parts_example_is_applied_whole_at_its_last_part() {
    use switchboard_core::{Command, Config};

    let blocks: Vec<&str> = json_blocks();
    let first = blocks
        .iter()
        .find(|b| b.contains("\"sync\"") && b.contains("\"parts\""))
        .expect("a sync with parts");
    let second = blocks
        .iter()
        .find(|b| envelope(b).kind == "snapshot_part")
        .expect("a snapshot_part example");
    let mut client = Client::open(Config::default());
    let mut run = |text: &str| client.run(text);
    let delivered = |cmds: &[Command]| -> Vec<Frame> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Deliver(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    };
    assert!(delivered(&run(first)).is_empty(), "the first part waits");
    let cmds = run(second);
    let state = delivered(&cmds);
    assert_eq!(state.len(), 2, "both parts' sessions");
    for frame in &state {
        decode(frame).unwrap_or_else(|e| panic!("snapshot state: {e}"));
    }
    let end = cmds.iter().position(|c| matches!(c, Command::SnapshotEnd));
    let last = cmds.iter().rposition(|c| matches!(c, Command::Deliver(_)));
    assert!(end > last, "the snapshot ends after its state: {cmds:?}");
}
