//! The sessions simulator: a pool of RADIUS sessions that start, count bytes and end in a
//! realistic mix. Each tick (2 s) updates a few sessions, and now and then one starts or
//! ends, keeping the pool near its target size.

use std::time::Duration;

use switchboard_core::simulator::{Acted, Actor, Call, Simulator};
use switchboard_core::{Frame, Instant, Provenance};

use crate::data::{
    DISCONNECT, MAX_QUERY, MAX_RESULTS, SEARCH_SESSIONS, SESSION_UPDATE, SearchResult, Session,
    SessionAction, SessionUpdate, matches, normalize,
};

/// One tick every 2 s.
pub const INTERVAL: Duration = Duration::from_secs(2);

const USERS: [&str; 12] = [
    "anna.k", "ben.t", "chen.w", "dara.o", "emil.s", "fatima.r", "goran.p", "hana.m", "ivan.d",
    "jules.b", "kofi.a", "lena.v",
];
const NAS: [&str; 3] = ["10.1.1.1", "10.1.1.2", "10.1.2.1"];

#[derive(Clone, Debug)]
struct Live {
    session: Session,
    /// Bytes per second, down and up.
    rate_down: u64,
    rate_up: u64,
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct SessionSimulator {
    target: usize,
    next_id: u64,
    live: Vec<Live>,
}

impl Default for SessionSimulator {
    fn default() -> Self {
        Self::new(10)
    }
}

impl SessionSimulator {
    /// A simulator that keeps about `target` sessions active.
    pub fn new(target: usize) -> Self {
        Self {
            target,
            next_id: 1,
            live: Vec::new(),
        }
    }

    /// Sessions active now.
    pub fn active(&self) -> usize {
        self.live.len()
    }

    fn start(&mut self, now: Instant, rng: &mut fastrand::Rng) -> SessionUpdate {
        let id = self.next_id;
        self.next_id += 1;
        let user_index = rng.usize(0..USERS.len());
        let user = USERS[user_index];
        let session = Session {
            session_id: format!("sess_{id:06x}"),
            username: format!("{user}{}@example.net", rng.u32(1..99)),
            ip_address: format!("100.64.{}.{}", rng.u8(0..=63), rng.u8(2..=254)),
            nas_ip_address: NAS[rng.usize(0..NAS.len())].to_owned(),
            upload_bytes: 0,
            download_bytes: 0,
            session_time_seconds: 0,
            last_update: now.to_rfc3339(),
            // The development backend's accounts are billing's `sub_1000`…`sub_1009`; each
            // login belongs to one of them.
            subscriber_id: Some(format!("sub_{}", 1000 + user_index % 10)),
        };
        // Most sessions browse at a few hundred KB/s; some stream at several MB/s.
        let rate_down = if rng.u8(0..5) == 0 {
            rng.u64(2_000_000..12_000_000)
        } else {
            rng.u64(20_000..900_000)
        };
        let rate_up = rate_down / rng.u64(4..12);
        self.live.push(Live {
            session: session.clone(),
            rate_down,
            rate_up,
        });
        SessionUpdate {
            action: SessionAction::New,
            session,
        }
    }

    fn advance(live: &mut Live, now: Instant, rng: &mut fastrand::Rng) -> SessionUpdate {
        let secs = INTERVAL.as_secs();
        let jitter = |rate: u64, rng: &mut fastrand::Rng| rate * rng.u64(50..150) / 100 * secs;
        live.session.download_bytes += jitter(live.rate_down, rng);
        live.session.upload_bytes += jitter(live.rate_up, rng);
        live.session.session_time_seconds += secs;
        live.session.last_update = now.to_rfc3339();
        SessionUpdate {
            action: SessionAction::Update,
            session: live.session.clone(),
        }
    }

    /// The updates of one tick.
    pub fn updates(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<SessionUpdate> {
        let mut out = Vec::new();
        if self.live.is_empty() {
            // A cold start: the pool as a backend would report it.
            for _ in 0..self.target.saturating_sub(2) {
                out.push(self.start(now, rng));
            }
            return out;
        }
        // Every session counts bytes, but only a few report per tick, as NAS interim
        // updates are spread out.
        for live in &mut self.live {
            if rng.u8(0..3) == 0 {
                out.push(Self::advance(live, now, rng));
            } else {
                let secs = INTERVAL.as_secs();
                live.session.session_time_seconds += secs;
                live.session.download_bytes += live.rate_down * secs;
                live.session.upload_bytes += live.rate_up * secs;
            }
        }
        let below = self.live.len() < self.target;
        if rng.u8(0..if below { 2 } else { 6 }) == 0 {
            out.push(self.start(now, rng));
        }
        if self.live.len() > 2 && rng.u8(0..if below { 8 } else { 3 }) == 0 {
            let gone = self.live.swap_remove(rng.usize(0..self.live.len()));
            let mut session = gone.session;
            session.last_update = now.to_rfc3339();
            out.push(SessionUpdate {
                action: SessionAction::Terminate,
                session,
            });
        }
        out
    }
}

impl Simulator for SessionSimulator {
    fn interval(&self) -> Duration {
        INTERVAL
    }

    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        self.updates(now, rng)
            .iter()
            .filter_map(|u| {
                Frame::new(SESSION_UPDATE.name(), u, Some(now), Provenance::Simulated).ok()
            })
            .collect()
    }
}

/// The sessions in `state` that match `query` (see [`matches`]), as a search's answer.
fn search_state(state: &[&Frame], query: &str) -> Acted {
    let Some(query) = normalize(query) else {
        return Acted::Refused(format!("a query has at most {MAX_QUERY} characters"));
    };
    let mut result = SearchResult::default();
    for frame in state {
        let Ok(update) = SESSION_UPDATE.decode(frame) else {
            continue;
        };
        if matches(&update.session, &query) {
            result.total += 1;
            if result.sessions.len() < MAX_RESULTS {
                result.sessions.push(update.session);
            }
        }
    }
    Acted::Done {
        frames: Vec::new(),
        result: serde_json::to_value(&result).ok(),
    }
}

impl Actor for SessionSimulator {
    /// `disconnect`: the session ends now, and its `terminate` goes to every client.
    /// `search_sessions`: the sessions in the backend's state that match.
    fn act(&mut self, now: Instant, call: &Call<'_>) -> Acted {
        if let Some(search) = call.payload(SEARCH_SESSIONS) {
            return search_state(call.state, &search.query);
        }
        let Some(request) = call.payload(DISCONNECT) else {
            return Acted::Refused(format!("`{}` is not a sessions action", call.action));
        };
        if let Some(problem) = request.problem() {
            return Acted::Refused(problem.to_owned());
        }
        // The backend's state is the truth: a session it holds that the generator did not
        // make (a scripted one) ends too.
        let held = self
            .live
            .iter()
            .position(|l| l.session.session_id == request.session_id)
            .map(|at| self.live.swap_remove(at).session)
            .or_else(|| {
                call.state
                    .iter()
                    .filter_map(|f| SESSION_UPDATE.decode(f).ok())
                    .map(|u| u.session)
                    .find(|s| s.session_id == request.session_id)
            });
        let Some(mut session) = held else {
            return Acted::Refused("session already ended".to_owned());
        };
        session.last_update = now.to_rfc3339();
        let update = SessionUpdate {
            action: SessionAction::Terminate,
            session,
        };
        Acted::Done {
            frames: Frame::new(SESSION_UPDATE.name(), &update, Some(now), Provenance::Live)
                .into_iter()
                .collect(),
            result: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_realistic_mix_that_is_always_consistent() {
        let mut sim = SessionSimulator::default();
        let mut rng = fastrand::Rng::with_seed(11);
        let mut table: BTreeMap<String, Session> = BTreeMap::new();
        let mut counts = [0usize; 3];
        for i in 0..2_000u64 {
            let now = Instant::from_millis(1_760_616_000_000 + i * 2000);
            for frame in sim.tick(now, &mut rng) {
                let u = SESSION_UPDATE.decode(&frame).unwrap();
                let id = u.session.session_id.clone();
                match u.action {
                    SessionAction::New => {
                        counts[0] += 1;
                        assert!(table.insert(id, u.session).is_none(), "new ids are new");
                    }
                    SessionAction::Update => {
                        counts[1] += 1;
                        let old = table.get(&id).expect("updates name live sessions");
                        assert!(
                            u.session.download_bytes >= old.download_bytes,
                            "counters only grow"
                        );
                        assert!(u.session.session_time_seconds > old.session_time_seconds);
                        table.insert(id, u.session);
                    }
                    SessionAction::Terminate => {
                        counts[2] += 1;
                        assert!(
                            table.remove(&id).is_some(),
                            "terminations name live sessions"
                        );
                    }
                }
            }
            assert!(
                (2..=20).contains(&table.len()),
                "pool size {} at tick {i}",
                table.len()
            );
        }
        assert_eq!(table.len(), sim.active());
        let [new, update, terminate] = counts;
        assert!(update > new * 5, "updates dominate: {counts:?}");
        assert!(
            terminate > 100 && new > 100,
            "sessions come and go: {counts:?}"
        );
    }

    #[test]
    fn a_disconnect_ends_the_session_once() {
        let mut sim = SessionSimulator::default();
        let mut rng = fastrand::Rng::with_seed(3);
        let now = Instant::from_millis(1_760_616_000_000);
        let first = sim.updates(now, &mut rng);
        let id = first[0].session.session_id.clone();
        let before = sim.active();
        let data = format!(r#"{{"session_id":"{id}","reason":"abuse","request_id":"r1"}}"#);
        let call = Call {
            action: "disconnect",
            data: &data,
            operator: "ada",
            state: &[],
        };
        let Acted::Done { frames, .. } = sim.act(now, &call) else {
            panic!("a live session can be disconnected");
        };
        let update = SESSION_UPDATE.decode(&frames[0]).unwrap();
        assert_eq!(update.action, SessionAction::Terminate);
        assert_eq!(update.session.session_id, id);
        assert_eq!(sim.active(), before - 1);
        let Acted::Refused(why) = sim.act(now, &call) else {
            panic!("a session ends once");
        };
        assert_eq!(why, "session already ended");
        let other = format!(
            r#"{{"session_id":"{}","reason":"other","request_id":"r2"}}"#,
            first[1].session.session_id
        );
        assert!(matches!(
            sim.act(now, &Call { data: &other, ..call }),
            Acted::Refused(why) if why.contains("note is required")
        ));
    }

    /// A session as the backend's state holds it: its `new`, with these fields.
    fn state_frame(id: &str, username: &str, ip: &str) -> Frame {
        let update = SessionUpdate {
            action: SessionAction::New,
            session: Session {
                session_id: id.into(),
                username: username.into(),
                ip_address: ip.into(),
                nas_ip_address: "10.1.1.1".into(),
                upload_bytes: 0,
                download_bytes: 0,
                session_time_seconds: 0,
                last_update: "2025-10-16T12:00:00Z".into(),
                subscriber_id: None,
            },
        };
        Frame::new(SESSION_UPDATE.name(), &update, None, Provenance::Live).unwrap()
    }

    #[test]
    fn a_search_finds_what_the_state_holds_by_any_field_and_counts_beyond_the_limit() {
        let frames: Vec<Frame> = (0..120)
            .map(|i| {
                let username = if i == 7 {
                    "Zoe.Q@Example.net".to_owned()
                } else {
                    format!("user{i}@example.net")
                };
                state_frame(&format!("sess_{i:04}"), &username, &format!("100.64.0.{i}"))
            })
            .collect();
        let state: Vec<&Frame> = frames.iter().collect();
        let search = |q: &str| {
            let data = serde_json::json!({ "query": q, "request_id": "q" }).to_string();
            let call = Call {
                action: "search_sessions",
                data: &data,
                operator: "ada",
                state: &state,
            };
            match SessionSimulator::default().act(Instant::from_millis(0), &call) {
                Acted::Done { frames, result } => {
                    assert!(frames.is_empty(), "a query changes nothing");
                    serde_json::from_value::<SearchResult>(result.unwrap()).unwrap()
                }
                Acted::Refused(why) => panic!("{why}"),
            }
        };
        let zoe = search("  zoe.q@EXAMPLE ");
        assert_eq!(zoe.total, 1);
        assert_eq!(zoe.sessions[0].session_id, "sess_0007");
        assert_eq!(search("sess_0042").sessions[0].ip_address, "100.64.0.42");
        assert_eq!(search("100.64.0.11").total, 11, "100.64.0.11 and 110..=119");
        let all = search("10.1.1.1");
        assert_eq!((all.total, all.sessions.len()), (120, MAX_RESULTS));
        assert_eq!(search("nobody").total, 0);
    }

    #[test]
    fn a_session_the_backend_holds_but_did_not_generate_can_be_disconnected_too() {
        let frame = state_frame("scripted_1", "x@example.net", "100.64.0.1");
        let state = [&frame];
        let data = r#"{"session_id":"scripted_1","reason":"abuse","request_id":"r1"}"#;
        let call = Call {
            action: "disconnect",
            data,
            operator: "ada",
            state: &state,
        };
        let mut sim = SessionSimulator::default();
        let Acted::Done { frames, .. } = sim.act(Instant::from_millis(0), &call) else {
            panic!("a session in the backend's state can be ended");
        };
        let ended = SESSION_UPDATE.decode(&frames[0]).unwrap();
        assert_eq!(ended.action, SessionAction::Terminate);
        assert_eq!(ended.session.session_id, "scripted_1");
        assert!(matches!(
            sim.act(Instant::from_millis(0), &Call { state: &[], ..call }),
            Acted::Refused(why) if why == "session already ended"
        ));
    }

    #[test]
    fn the_same_seed_gives_the_same_sessions() {
        let run = |seed| {
            let mut sim = SessionSimulator::default();
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..30)
                .flat_map(|i| sim.updates(Instant::from_millis(i * 2000), &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(4), run(4));
    }
}
