//! Gateway nodes on NATS JetStream: real `nats-server` processes on loopback ports (one, or
//! a three-node cluster with streams at replication 3), gateway nodes in process, Rust
//! WebSocket clients. What holds on one node holds on every node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

/// Reads `n` data frames (not `sync`, not heartbeats) and returns `(seq, frame)`.
async fn frames(client: &mut Client, n: usize) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    while out.len() < n {
        let frame = next_frame(client, 30 * SEC)
            .await
            .unwrap_or_else(|| panic!("only {} of {n} frames arrived", out.len()));
        if let Some(seq) = frame["seq"].as_u64() {
            out.push((seq, frame));
        }
    }
    out
}

/// The `sync` a fresh client gets; its data.
async fn sync(client: &mut Client) -> Value {
    let frame = next_frame(client, 10 * SEC).await.expect("a sync");
    assert_eq!(frame["type"], "sync", "{frame}");
    frame["data"].clone()
}

/// The sessions a snapshot's state holds, by id.
fn session_ids(sync: &Value) -> Vec<String> {
    let mut ids: Vec<String> = sync["state"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            f["data"]["session"]["session_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_the_same_frames_at_the_same_positions_and_a_new_node_the_same_snapshot() {
    let nats_nodes = nats(1).await;
    let url = urls(&nats_nodes);
    let a = start_node(config(Some(&url), 1)).await;
    let b = start_node(config(Some(&url), 1)).await;
    let mut on_a = connect(a.addr, "sessions", None).await;
    let mut on_b = connect(b.addr, "sessions", None).await;
    let (sa, sb) = (sync(&mut on_a).await, sync(&mut on_b).await);
    assert_eq!(sa["epoch"], sb["epoch"], "one stream, one epoch");

    // Published through node A's HTTP route, and straight to NATS by another system.
    let batch = format!("[{},{}]", session("s1", "new", 1), session("s2", "new", 1));
    let (status, body) = publish(a.addr, "sessions", &batch).await;
    assert_eq!(status, 200, "{body}");
    let client = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.publish(
        "switchboard.sessions.session_update",
        session("s3", "new", 5).into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    js.publish(
        "switchboard.sessions.session_update",
        session("s1", "terminate", 9).into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();

    let (fa, fb) = (frames(&mut on_a, 4).await, frames(&mut on_b, 4).await);
    let seqs = |f: &[(u64, Value)]| f.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    assert_eq!(seqs(&fa), vec![1, 2, 3, 4], "the stream's sequences");
    assert_eq!(seqs(&fa), seqs(&fb));
    for ((_, x), (_, y)) in fa.iter().zip(&fb) {
        assert_eq!(x["data"], y["data"], "the same frame at the same position");
    }

    // A node that starts now rebuilds the state from the stream, not from what it saw.
    let c = start_node(config(Some(&url), 1)).await;
    let mut on_c = connect(c.addr, "sessions", None).await;
    let mut fresh_a = connect(a.addr, "sessions", None).await;
    let (sc, sa) = (sync(&mut on_c).await, sync(&mut fresh_a).await);
    assert_eq!(session_ids(&sc), vec!["s2", "s3"], "s1 ended: {sc}");
    assert_eq!(session_ids(&sc), session_ids(&sa));
    assert_eq!(
        (sc["seq"].clone(), sc["epoch"].clone()),
        (sa["seq"].clone(), sa["epoch"].clone())
    );

    // A client that was on A at position 2 resumes on C with a replay of 3 and 4.
    let epoch = sa["epoch"].as_str().unwrap().to_owned();
    let mut resumed = connect(c.addr, "sessions", Some((&epoch, 2))).await;
    let answer = sync(&mut resumed).await;
    assert_eq!(answer["mode"], "replay", "{answer}");
    assert_eq!(seqs(&frames(&mut resumed, 2).await), vec![3, 4]);
}

/// The documented example frame of every module (docs/GATEWAY.md's `nats pub` lines):
/// `(module, subject, frame)`.
fn examples() -> Vec<(String, String, String)> {
    include_str!("../../docs/GATEWAY.md")
        .lines()
        .filter_map(|l| l.strip_prefix("nats pub "))
        .filter_map(|rest| {
            let (subject, body) = rest.split_once(' ')?;
            let module = subject.split('.').nth(1)?.to_owned();
            Some((
                module,
                subject.to_owned(),
                body.trim().trim_matches('\'').to_owned(),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_module_reaches_clients_on_both_nodes_with_the_same_frames_at_the_same_positions() {
    let nats_nodes = nats(1).await;
    let url = urls(&nats_nodes);
    let a = start_node(config(Some(&url), 1)).await;
    let b = start_node(config(Some(&url), 1)).await;
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
    let examples = examples();
    assert!(examples.len() >= 4);
    for (module, subject, frame) in examples {
        let mut on_a = connect(a.addr, &module, None).await;
        let mut on_b = connect(b.addr, &module, None).await;
        let (sa, sb) = (sync(&mut on_a).await, sync(&mut on_b).await);
        assert_eq!(
            (&sa["epoch"], &sa["seq"]),
            (&sb["epoch"], &sb["seq"]),
            "{module}"
        );
        // Straight to NATS, then the same frame through node B's HTTP route.
        js.publish(subject, frame.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
        let (status, body) = publish(b.addr, &module, &frame).await;
        assert_eq!(status, 200, "{module}: {body}");
        let (fa, fb) = (frames(&mut on_a, 2).await, frames(&mut on_b, 2).await);
        let at = |f: &[(u64, Value)]| {
            f.iter()
                .map(|(s, v)| (*s, v["data"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at(&fa),
            at(&fb),
            "{module}: the same frames at the same positions"
        );
        let want: Value = serde_json::from_str(&frame).unwrap();
        assert!(
            fa.iter().all(|(_, v)| v["data"] == want["data"]),
            "{module}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_message_in_the_stream_keeps_its_position_and_reaches_clients_as_malformed() {
    let nats_nodes = nats(1).await;
    let url = urls(&nats_nodes);
    let node = start_node(config(Some(&url), 1)).await;
    let mut client = connect(node.addr, "support", None).await;
    sync(&mut client).await;
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
    for body in [
        "not json at all".to_owned(),
        r#"{"type":"ticket_update","data":{"ticket_id":7}}"#.to_owned(),
        r#"{"type":"ticket_update","data":{"ticket_id":"T-1","subject":"s","priority":"high","status":"open","assignee":null,"created_at":"2026-12-02T09:30:00Z","updated_at":"2026-12-02T10:00:00Z"}}"#.to_owned(),
    ] {
        js.publish("switchboard.support.ticket_update", body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let got = frames(&mut client, 3).await;
    assert_eq!(
        got.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(got[0].1["data"], Value::Null, "no data, but its position");
    assert_eq!(got[1].1["data"], Value::Null);
    assert_eq!(got[2].1["data"]["ticket_id"], "T-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_repeated_with_its_idempotency_key_is_stored_once() {
    let nats_nodes = nats(1).await;
    let url = urls(&nats_nodes);
    let node = start_node(config(Some(&url), 1)).await;
    let mut client = connect(node.addr, "sessions", None).await;
    sync(&mut client).await;
    let batch = format!("[{},{}]", session("a", "new", 1), session("b", "new", 1));
    let first = publish_keyed(node.addr, "sessions", &batch, Some("batch-1")).await;
    let again = publish_keyed(node.addr, "sessions", &batch, Some("batch-1")).await;
    assert_eq!(first.0, 200, "{first:?}");
    assert_eq!(again.0, 200, "{again:?}");
    let body = |r: &(u16, String)| -> Value { serde_json::from_str(&r.1).unwrap() };
    assert_eq!(
        body(&first)["seq"],
        body(&again)["seq"],
        "the same positions"
    );
    let got = frames(&mut client, 2).await;
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2]);
    assert!(
        next_frame(&mut client, SEC / 2).await.is_none(),
        "the repeat reached nobody"
    );
    // Without a key, the same request is two publishes.
    publish(node.addr, "sessions", &batch).await;
    publish(node.addr, "sessions", &batch).await;
    assert_eq!(frames(&mut client, 4).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_lost_its_storage_is_a_new_epoch_and_clients_take_a_snapshot() {
    let mut nats_nodes = nats(1).await;
    let url = urls(&nats_nodes);
    let node = start_node(config(Some(&url), 1)).await;
    let mut client = connect(node.addr, "sessions", None).await;
    let before = sync(&mut client).await;
    let (status, _) = publish(node.addr, "sessions", &session("old", "new", 1)).await;
    assert_eq!(status, 200);
    assert_eq!(frames(&mut client, 1).await[0].0, 1);

    nats_nodes[0].restart_fresh();
    wait_for_port(nats_nodes[0].port).await;
    // The gateway finds the stream gone, recreates it, and tells its clients: a snapshot
    // of the new, empty stream, in a new epoch, on the same socket.
    let answer = loop {
        let frame = next_frame(&mut client, 20 * SEC).await.expect("a new sync");
        if frame["type"] == "sync" {
            break frame["data"].clone();
        }
    };
    assert_eq!(answer["mode"], "snapshot");
    assert_ne!(answer["epoch"], before["epoch"]);
    assert_eq!(answer["seq"], 0);
    assert!(
        session_ids(&answer).is_empty(),
        "what the new stream holds: {answer}"
    );
    // And the new stream goes on from position 1.
    let deadline = tokio::time::Instant::now() + 20 * SEC;
    loop {
        let (status, _) = publish(node.addr, "sessions", &session("new", "new", 1)).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "publishing never resumed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = frames(&mut client, 1).await;
    assert_eq!(got[0].0, 1);
    assert_eq!(got[0].1["data"]["session"]["session_id"], "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_three_node_cluster_losing_one_nats_node_loses_no_frame() {
    let mut nats_nodes = nats(3).await;
    let url = urls(&nats_nodes);
    let node = start_node(config(Some(&url), 3)).await;
    let mut client = connect(node.addr, "sessions", None).await;
    sync(&mut client).await;
    let total = 150;
    let publisher = {
        let addr = node.addr;
        tokio::spawn(async move {
            let mut published = 0;
            let mut refused = Vec::new();
            while published < total {
                // A refusal may come after the stream stored the frame (its acknowledgement
                // lost with the node): the retry carries the same key, so it is not stored
                // twice.
                let key = format!("frame-{published}");
                let (status, body) = publish_keyed(
                    addr,
                    "sessions",
                    &session(&format!("s{published}"), "new", 1),
                    Some(&key),
                )
                .await;
                if status == 200 {
                    published += 1;
                } else {
                    refused.push(format!("{status} {body}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            refused
        })
    };
    // A cluster that has been running, with frames flowing: then one NATS node dies.
    tokio::time::sleep(2 * SEC).await;
    nats_nodes[1].kill();
    let killed = std::time::Instant::now();
    let got = frames(&mut client, total).await;
    let refused = publisher.await.unwrap();
    eprintln!(
        "all {total} frames {:?} after the kill; publishes refused meanwhile: {refused:?}",
        killed.elapsed()
    );
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "every frame, once, in order"
    );
    assert!(
        next_frame(&mut client, SEC / 2).await.is_none(),
        "nothing more: no duplicate"
    );
}
