//! One module's feed, shared by every connection to it: the core's [`Feed`](CoreFeed)
//! (positions, a bounded history, the state: docs/PROTOCOL.md, "Resume") and the broadcast
//! to the connections.
//!
//! Frames are appended once, whoever makes them (the in-memory broker's publishers, a
//! JetStream consumer, or the development backend's simulators), and broadcast to the
//! connections encoded once for all of them. A new epoch tells every resuming connection to
//! send a snapshot.

use std::ops::Deref;
use std::sync::Arc;

use switchboard_core::feed::Feed as CoreFeed;
pub use switchboard_core::feed::{
    FeedSettings, MAX_RECENT, MAX_STATE_ENTRIES, PART_BYTES, ResumeFrom, heartbeat,
};
use switchboard_core::frame::decode_envelope;
use switchboard_core::{Frame, Instant, Provenance};
use tokio::sync::broadcast;

use crate::Module;

/// What a feed broadcasts to its connections.
#[derive(Clone, Debug)]
pub enum Published {
    /// A data frame at this position, encoded once for everyone.
    Frame(u64, Arc<str>),
    /// A scripted text that is not a frame of this module, sent as is, without a position.
    Raw(Arc<str>),
    /// The epoch changed: every resuming connection gets a snapshot.
    NewEpoch,
}

/// How many published frames a slow connection may fall behind before it loses some (and its
/// client sees a gap and resyncs).
pub const BROADCAST_CAPACITY: usize = 16_384;

/// One module's feed and its broadcast. Reading goes to the core's feed (`Deref`); every
/// change goes through here, so the connections hear of it.
pub struct Feed {
    module: Module,
    inner: CoreFeed,
    tx: broadcast::Sender<Published>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl Deref for Feed {
    type Target = CoreFeed;

    fn deref(&self) -> &CoreFeed {
        &self.inner
    }
}

impl Feed {
    /// An empty feed at `now`, in a new epoch.
    pub fn new(module: Module, settings: FeedSettings, now: Instant) -> Self {
        Self {
            inner: CoreFeed::new(module.name(), module.keep(), settings, now),
            module,
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    /// Frames published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.tx.subscribe()
    }

    /// Publishes texts as they are given: frames of this module's channels become part of the
    /// feed (positioned, kept, in the state); anything else is sent as is, without a position
    /// (the development backend's scripts use this to send what a broken server would).
    pub fn inject(&mut self, texts: Vec<String>, now: Instant) {
        for text in texts {
            let frame = decode_envelope(&text, usize::MAX)
                .ok()
                .filter(|env| self.module.channels().contains(&env.kind.as_ref()))
                .and_then(|env| {
                    Frame::new(
                        env.kind.into_owned(),
                        env.data,
                        env.timestamp,
                        Provenance::Live,
                    )
                    .ok()
                });
            match frame {
                Some(frame) => self.publish(vec![frame], now),
                None => {
                    let _ = self.tx.send(Published::Raw(text.into()));
                }
            }
        }
    }

    /// Publishes frames: each gets the next position, goes into the history and the state,
    /// and out to every connection.
    pub fn publish(&mut self, frames: Vec<Frame>, now: Instant) {
        for (seq, text) in self.inner.publish(frames, now) {
            let _ = self.tx.send(Published::Frame(seq, text));
        }
    }

    /// Appends one frame at a position a broker gave it (see [`CoreFeed::append_at`]);
    /// `false` when it was appended already.
    pub fn append_at(&mut self, seq: u64, frame: Frame, now: Instant) -> bool {
        match self.inner.append_at(seq, frame, now) {
            Some(text) => {
                let _ = self.tx.send(Published::Frame(seq, text));
                true
            }
            None => seq > self.inner.head(),
        }
    }

    /// See [`CoreFeed::start_at`].
    pub fn start_at(&mut self, seq: u64) {
        self.inner.start_at(seq);
    }

    /// Starts a new epoch, as a restart would (see [`CoreFeed::new_epoch`]): every resuming
    /// connection gets a snapshot.
    pub fn new_epoch(&mut self, now: Instant) {
        self.inner.new_epoch(now);
        let _ = self.tx.send(Published::NewEpoch);
    }

    /// Starts over in `epoch`, empty (see [`CoreFeed::restart`]): every resuming connection
    /// gets a snapshot.
    pub fn restart(&mut self, epoch: String) {
        self.inner.restart(epoch);
        let _ = self.tx.send(Published::NewEpoch);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sessions(settings: FeedSettings) -> Feed {
        let module = Module::named("sessions").expect("sessions is served");
        Feed::new(module, settings, Instant::from_millis(1_760_616_000_000))
    }

    /// What the module's generator makes at `now`, appended.
    fn tick(feed: &mut Feed, now: Instant) {
        let mut rng = fastrand::Rng::with_seed(now.as_millis());
        let frames = feed.module.simulator().tick(now, &mut rng);
        feed.publish(frames, now);
    }

    /// `n` generated frames, appended at `now`.
    fn generate(feed: &mut Feed, n: usize, now: Instant) {
        let mut sim = feed.module.simulator();
        let mut rng = fastrand::Rng::with_seed(1);
        let mut frames = Vec::new();
        while frames.len() < n {
            frames.extend(sim.tick(now, &mut rng));
        }
        frames.truncate(n);
        feed.publish(frames, now);
    }

    fn sync_of(text: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["type"], "sync");
        v["data"].clone()
    }

    #[test]
    fn positions_count_up_and_a_resume_replays_only_what_was_missed() {
        let mut w = sessions(FeedSettings::default());
        let t = Instant::from_millis(1_760_616_010_000);
        tick(&mut w, t);
        tick(&mut w, t.plus(Duration::from_secs(5)));
        let head = w.head();
        assert!(head >= 2, "the generator made frames: {head}");
        let from = ResumeFrom {
            epoch: Some(w.epoch().to_owned()),
            seq: Some(1),
            parts: true,
        };
        let (texts, after) = w.answer(Some(&from), t);
        assert_eq!(after, head);
        assert_eq!(sync_of(&texts[0])["mode"], "replay");
        let seqs: Vec<u64> = texts[1..]
            .iter()
            .map(|t| {
                serde_json::from_str::<serde_json::Value>(t).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, (2..=head).collect::<Vec<_>>());
        let at_head = ResumeFrom {
            seq: Some(head),
            ..from.clone()
        };
        assert_eq!(sync_of(&w.answer(Some(&at_head), t).0[0])["mode"], "live");
    }

    #[test]
    fn a_cold_load_another_epoch_or_a_position_past_the_history_gets_a_snapshot() {
        let mut w = sessions(FeedSettings {
            history_len: 2,
            ..FeedSettings::default()
        });
        let t = Instant::from_millis(1_760_616_010_000);
        for i in 0..5 {
            tick(&mut w, t.plus(Duration::from_secs(5 * i)));
        }
        let epoch = Some(w.epoch().to_owned());
        for from in [
            None,
            Some(ResumeFrom::default()),
            Some(ResumeFrom {
                epoch: Some("elsewhere".into()),
                seq: Some(w.head()),
                parts: false,
            }),
            Some(ResumeFrom {
                epoch: epoch.clone(),
                seq: Some(1),
                parts: false,
            }),
            Some(ResumeFrom {
                epoch,
                seq: Some(w.head() + 1),
                parts: false,
            }),
        ] {
            let (texts, _) = w.answer(from.as_ref(), t);
            let sync = sync_of(&texts[0]);
            assert_eq!(sync["mode"], "snapshot", "{from:?}");
            assert_eq!(sync["seq"], w.head());
            assert_eq!(texts.len(), 1);
        }
    }

    #[test]
    fn the_state_is_the_live_sessions_as_new_and_survives_a_new_epoch() {
        let mut w = sessions(FeedSettings::default());
        let session = |id: &str, action: &str| {
            format!(
                r#"{{"type":"session_update","data":{{"action":"{action}","session":{{"session_id":"{id}","username":"u","ip_address":"1","nas_ip_address":"2","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
            )
        };
        let t = Instant::from_millis(1_760_616_000_000);
        let before: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        w.inject(
            vec![
                session("sess_x", "new"),
                session("sess_y", "update"),
                session("sess_x", "terminate"),
                "not a frame".into(),
            ],
            t,
        );
        let after: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        assert_eq!(after.len(), before.len() + 1, "y added, x gone");
        let last = after.last().unwrap();
        assert!(
            last.contains(r#""action":"new""#) && last.contains("sess_y"),
            "{last}"
        );
        let epoch = w.epoch().to_owned();
        w.new_epoch(t);
        assert_ne!(w.epoch(), epoch);
        assert_eq!(w.head(), 0);
        assert_eq!(w.state().len(), after.len());
    }

    #[test]
    fn the_history_is_bounded_by_count_and_age() {
        let mut w = sessions(FeedSettings {
            history_len: 50,
            history_age: Duration::from_secs(20),
            ..FeedSettings::default()
        });
        let t = Instant::from_millis(1_760_616_000_000);
        generate(&mut w, 200, t);
        assert_eq!(w.report(t)["history"], 50);
        let later = t.plus(Duration::from_secs(21));
        generate(&mut w, 1, later);
        assert_eq!(w.report(later)["history"], 1);
    }

    #[test]
    fn a_reference_style_feed_sends_no_positions() {
        let mut w = sessions(FeedSettings {
            resume: false,
            ..FeedSettings::default()
        });
        let mut rx = w.subscribe();
        generate(&mut w, 1, Instant::from_millis(1_760_616_000_000));
        match rx.try_recv() {
            Ok(Published::Frame(_, text)) => assert!(!text.contains("\"seq\""), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    fn new_sessions(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"type":"session_update","data":{{"action":"new","session":{{"session_id":"s{i}","username":"user{i}@example.net","ip_address":"10.0.0.1","nas_ip_address":"10.1.1.1","upload_bytes":1,"download_bytes":2,"session_time_seconds":3,"last_update":"2025-10-16T12:00:00Z"}}}}}}"#
                )
            })
            .collect()
    }

    #[test]
    fn a_large_snapshot_goes_in_parts_to_a_client_that_takes_them() {
        let mut w = sessions(FeedSettings::default());
        let t = Instant::from_millis(1_760_616_000_000);
        w.inject(new_sessions(20_000), t);
        let cold = ResumeFrom {
            parts: true,
            ..ResumeFrom::default()
        };
        let (texts, _) = w.answer(Some(&cold), t);
        let sync = sync_of(&texts[0]);
        let parts = sync["parts"].as_u64().unwrap() as usize;
        assert_eq!(texts.len(), parts);
        assert!(parts > 4, "{parts} parts");
        let mut frames = sync["state"].as_array().unwrap().len();
        for (i, text) in texts.iter().enumerate() {
            assert!(
                text.len() < 1 << 20,
                "every part fits the client's frame limit"
            );
            if i > 0 {
                let part: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(part["type"], "snapshot_part");
                assert_eq!(part["data"]["part"], i as u64 + 1);
                assert_eq!(part["data"]["seq"], sync["seq"]);
                assert_eq!(part["data"]["epoch"], sync["epoch"]);
                frames += part["data"]["state"].as_array().unwrap().len();
            }
        }
        assert_eq!(frames, w.state().len(), "every session, once");
        // A client that does not say it takes parts gets the state whole, as before.
        let (whole, _) = w.answer(None, t);
        assert_eq!(whole.len(), 1);
        assert_eq!(sync_of(&whole[0])["parts"], serde_json::Value::Null);
    }

    #[test]
    fn finished_tickets_are_forgotten_after_the_settled_age_and_open_ones_are_not() {
        let mut w = Feed::new(
            Module::named("support").expect("support is served"),
            FeedSettings {
                settled_age: Duration::from_secs(3600),
                ..FeedSettings::default()
            },
            Instant::from_millis(1_760_616_000_000),
        );
        let ticket = |id: &str, status: &str| {
            format!(
                r#"{{"type":"ticket_update","data":{{"ticket_id":"{id}","subject":"s","priority":"high","status":"{status}","assignee":null,"created_at":"2025-10-16T09:30:00Z","updated_at":"2025-10-16T12:00:00Z"}}}}"#
            )
        };
        let t = Instant::from_millis(1_760_616_000_000);
        let before = w.state().len();
        w.inject(
            vec![
                ticket("T-open", "open"),
                ticket("T-done", "closed"),
                ticket("T-back", "resolved"),
            ],
            t,
        );
        // Reopened before the age: current again, kept.
        w.inject(
            vec![ticket("T-back", "open")],
            t.plus(Duration::from_secs(60)),
        );
        assert_eq!(w.state().len(), before + 3);
        w.inject(
            vec![ticket("T-later", "open")],
            t.plus(Duration::from_secs(3601)),
        );
        let ids: Vec<String> = w
            .state()
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        assert_eq!(ids.len(), before + 3, "the closed ticket is forgotten");
        assert!(!ids.iter().any(|d| d.contains("T-done")));
        assert!(
            ids.iter().any(|d| d.contains("T-open")) && ids.iter().any(|d| d.contains("T-back"))
        );
    }
}
