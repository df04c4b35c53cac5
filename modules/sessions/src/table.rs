//! The session table's model, without a browser: applies `new`, `update` and `terminate`,
//! derives per-session bandwidth from byte deltas, keeps removed rows briefly for their exit
//! animation, and stays bounded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use switchboard_core::Instant;
use switchboard_core::text::clip;

use crate::data::{Session, SessionAction, SessionUpdate};

/// Longest id, login, address or timestamp kept, in characters.
pub const TEXT_CHARS: usize = 128;
/// How long a removed row stays on screen, fading out.
pub const LEAVE_FOR: Duration = Duration::from_millis(800);
/// How long a new row is highlighted.
pub const ENTER_FOR: Duration = Duration::from_millis(1500);
/// Most active sessions counted beyond the table's rows (by id only). Past it the count is a
/// lower bound, and says so ([`SessionTable::counted_all`]).
pub const MAX_HIDDEN: usize = 1_000_000;
/// Most removed rows fading out at once. Under heavy churn more exits are noise, and hundreds
/// of animated rows would cost every frame; beyond this the oldest simply go.
pub const MAX_LEAVING: usize = 8;

/// One session on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The session as last reported.
    pub session: Session,
    /// Download rate from the last two reports, bytes per second.
    pub down_bps: f64,
    /// Upload rate from the last two reports, bytes per second.
    pub up_bps: f64,
    /// When the last report arrived (durations tick on from here).
    pub seen_at: Instant,
    /// When the row appeared.
    pub entered_at: Instant,
    /// The order the table took the session in: the highest are the most recent.
    pub arrival: u64,
}

impl Row {
    /// The session length now: the reported length plus the time since that report.
    pub fn duration(&self, now: Instant) -> Duration {
        Duration::from_secs(self.session.session_time_seconds)
            .saturating_add(self.seen_at.until(now))
    }
}

/// A sortable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Login.
    Username,
    /// Subscriber address.
    Ip,
    /// Access server.
    Nas,
    /// Bytes uploaded.
    Upload,
    /// Bytes downloaded.
    Download,
    /// Download rate.
    Rate,
    /// Session length.
    Duration,
}

/// The table: the `max_rows` most recently started sessions as rows, and every other active
/// session by id, so the active count is the backend's, not the table's.
#[derive(Clone, Debug)]
pub struct SessionTable {
    rows: BTreeMap<String, Row>,
    /// Active sessions not shown: pushed out of the rows by newer ones.
    hidden: HashSet<String>,
    /// Active sessions not even counted by id (past [`MAX_HIDDEN`]).
    uncounted: u64,
    /// Sessions shown before a snapshot replaced the table, and since when: a row the
    /// operator already saw is not new (see [`SessionTable::remember`]).
    known: HashMap<String, Instant>,
    arrivals: u64,
    /// The rows by [`Row::arrival`], oldest first: who steps out when a new one comes.
    by_arrival: BTreeMap<u64, String>,
    leaving: Vec<(Row, Instant)>,
    /// Most rows kept; a new session beyond it pushes the oldest row out (still counted).
    pub max_rows: usize,
    /// Updates and terminations for sessions the table did not know.
    pub unknown: u64,
}

impl SessionTable {
    /// An empty table of at most `max_rows` rows.
    pub fn new(max_rows: usize) -> Self {
        Self {
            rows: BTreeMap::new(),
            hidden: HashSet::new(),
            uncounted: 0,
            known: HashMap::new(),
            arrivals: 0,
            by_arrival: BTreeMap::new(),
            leaving: Vec::new(),
            max_rows,
            unknown: 0,
        }
    }

    /// Whether the table holds a row for `session_id`.
    pub fn holds(&self, session_id: &str) -> bool {
        self.rows.contains_key(session_id)
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Active sessions: the rows and those not shown.
    pub fn active(&self) -> u64 {
        (self.rows.len() + self.hidden.len()) as u64 + self.uncounted
    }

    /// Active sessions not shown in the table.
    pub fn not_shown(&self) -> u64 {
        self.hidden.len() as u64 + self.uncounted
    }

    /// Keeps what `old` showed, for a table that replaces it (a snapshot): a session it
    /// showed keeps its time of appearance, so it does not animate as new.
    pub fn remember(&mut self, old: &SessionTable) {
        self.known = old
            .rows
            .iter()
            .map(|(id, row)| (id.clone(), row.entered_at))
            .collect();
    }

    /// Whether [`SessionTable::active`] is exact. It is not once more sessions were hidden
    /// than [`MAX_HIDDEN`]: their ends cannot all be matched any more.
    pub fn counted_all(&self) -> bool {
        self.uncounted == 0
    }

    /// Whether no session is active.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Applies one update that arrived at `at`. Its strings are cut to [`TEXT_CHARS`], so a
    /// full table stays within `max_rows` × about 1 KiB.
    pub fn apply(&mut self, mut u: SessionUpdate, at: Instant) {
        let s = &mut u.session;
        for field in [
            &mut s.session_id,
            &mut s.username,
            &mut s.ip_address,
            &mut s.nas_ip_address,
            &mut s.last_update,
        ]
        .into_iter()
        .chain(s.subscriber_id.as_mut())
        {
            *field = clip(std::mem::take(field), TEXT_CHARS);
        }
        let id = u.session.session_id.clone();
        match (u.action, self.rows.get_mut(&id)) {
            (SessionAction::Terminate, Some(_)) => {
                if let Some(mut row) = self.rows.remove(&id) {
                    self.by_arrival.remove(&row.arrival);
                    row.session = u.session;
                    self.leaving.push((row, at));
                }
            }
            (SessionAction::Terminate, None) => {
                if !self.hidden.remove(&id) {
                    self.unknown += 1;
                }
            }
            (SessionAction::New | SessionAction::Update, None) if self.hidden.contains(&id) => {}
            (SessionAction::New | SessionAction::Update, Some(row)) => {
                let secs = u
                    .session
                    .session_time_seconds
                    .saturating_sub(row.session.session_time_seconds);
                if secs > 0 {
                    let delta = |new: u64, old: u64| new.saturating_sub(old) as f64 / secs as f64;
                    row.down_bps = delta(u.session.download_bytes, row.session.download_bytes);
                    row.up_bps = delta(u.session.upload_bytes, row.session.upload_bytes);
                }
                row.session = u.session;
                row.seen_at = at;
            }
            (action, None) => {
                if action == SessionAction::Update {
                    self.unknown += 1; // we missed its `new`; show it from now on
                }
                if self.rows.len() >= self.max_rows {
                    // The newest sessions are shown; the oldest row steps out, still counted.
                    let Some((_, oldest)) = self.by_arrival.pop_first() else {
                        self.hide(id);
                        return;
                    };
                    self.rows.remove(&oldest);
                    self.hide(oldest);
                }
                self.arrivals += 1;
                let row = Row {
                    session: u.session,
                    down_bps: 0.0,
                    up_bps: 0.0,
                    seen_at: at,
                    entered_at: self.known.get(&id).copied().unwrap_or(at),
                    arrival: self.arrivals,
                };
                self.by_arrival.insert(self.arrivals, id.clone());
                self.rows.insert(id, row);
            }
        }
    }

    /// Counts an active session that is not shown.
    fn hide(&mut self, id: String) {
        if self.hidden.len() < MAX_HIDDEN {
            self.hidden.insert(id);
        } else {
            self.uncounted += 1;
        }
    }

    /// Rows sorted by `key`, ties broken by session id so the order is stable.
    pub fn sorted(&self, key: SortKey, descending: bool, now: Instant) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.values().collect();
        rows.sort_by(|a, b| {
            let (x, y) = (&a.session, &b.session);
            let order = match key {
                SortKey::Username => x.username.cmp(&y.username),
                SortKey::Ip => x.ip_address.cmp(&y.ip_address),
                SortKey::Nas => x.nas_ip_address.cmp(&y.nas_ip_address),
                SortKey::Upload => x.upload_bytes.cmp(&y.upload_bytes),
                SortKey::Download => x.download_bytes.cmp(&y.download_bytes),
                SortKey::Rate => a.down_bps.total_cmp(&b.down_bps),
                SortKey::Duration => a.duration(now).cmp(&b.duration(now)),
            };
            let order = if descending { order.reverse() } else { order };
            order.then_with(|| x.session_id.cmp(&y.session_id))
        });
        rows
    }

    /// The row with the highest download rate, as [`SessionTable::sorted`] by rate, descending,
    /// would list first, without sorting the others.
    pub fn busiest(&self) -> Option<&Row> {
        self.rows.values().max_by(|a, b| {
            a.down_bps
                .total_cmp(&b.down_bps)
                .then_with(|| b.session.session_id.cmp(&a.session.session_id))
        })
    }

    /// Rows removed less than [`LEAVE_FOR`] ago, still fading out.
    pub fn leaving(&self, now: Instant) -> impl Iterator<Item = &Row> {
        self.leaving
            .iter()
            .filter(move |(_, at)| at.until(now) < LEAVE_FOR)
            .map(|(r, _)| r)
    }

    /// Forgets rows that finished leaving, and all but the [`MAX_LEAVING`] newest.
    pub fn prune(&mut self, now: Instant) {
        self.leaving.retain(|(_, at)| at.until(now) < LEAVE_FOR);
        let excess = self.leaving.len().saturating_sub(MAX_LEAVING);
        self.leaving.drain(..excess);
    }
}

/// The rows of a scrolled list worth rendering: those in view plus `overscan` either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First row rendered.
    pub first: usize,
    /// One past the last row rendered.
    pub end: usize,
}

impl Window {
    /// The window for `rows` rows of `row_px` pixels, scrolled by `scroll_px`, in a viewport
    /// of `view_px`.
    pub fn of(rows: usize, row_px: u32, scroll_px: u32, view_px: u32, overscan: usize) -> Self {
        let row_px = row_px.max(1) as usize;
        let top = scroll_px as usize / row_px;
        let first = top.saturating_sub(overscan).min(rows);
        let in_view = (view_px as usize).div_ceil(row_px) + 1;
        let end = (top + in_view + overscan).min(rows).max(first);
        Self { first, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(action: SessionAction, id: &str, secs: u64, down: u64) -> SessionUpdate {
        SessionUpdate {
            action,
            session: Session {
                session_id: id.into(),
                username: format!("{id}@example.net"),
                ip_address: "100.64.0.2".into(),
                nas_ip_address: "10.1.1.1".into(),
                upload_bytes: down / 10,
                download_bytes: down,
                session_time_seconds: secs,
                last_update: String::new(),
                subscriber_id: None,
            },
        }
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn new_update_terminate_with_rates_and_exit() {
        use SessionAction::*;
        let mut table = SessionTable::new(10);
        table.apply(update(New, "a", 0, 0), t(0));
        table.apply(update(Update, "a", 10, 5_000_000), t(10_000));
        let row = table.sorted(SortKey::Username, false, t(10_000))[0].clone();
        assert_eq!(row.down_bps, 500_000.0, "5 MB over 10 s");
        assert_eq!(
            row.duration(t(13_000)),
            Duration::from_secs(13),
            "ticks on between reports"
        );
        table.apply(update(Terminate, "a", 12, 5_000_000), t(12_000));
        assert!(table.is_empty());
        assert_eq!(table.leaving(t(12_500)).count(), 1, "fading out");
        assert_eq!(table.leaving(t(13_000)).count(), 0);
        table.prune(t(13_000));
        assert_eq!(table.unknown, 0);
    }

    #[test]
    fn unknown_sessions_are_counted_and_the_table_is_bounded() {
        use SessionAction::*;
        let mut table = SessionTable::new(2);
        table.apply(update(Terminate, "ghost", 1, 1), t(0));
        table.apply(update(Update, "late", 5, 1), t(0));
        assert_eq!(table.unknown, 2);
        assert_eq!(table.len(), 1, "an update for a missed session shows it");
        table.apply(update(New, "b", 0, 0), t(0));
        table.apply(update(New, "c", 0, 0), t(0));
        assert_eq!((table.len(), table.active(), table.not_shown()), (2, 3, 1));
    }

    #[test]
    fn past_the_cap_the_count_is_the_backends_and_the_rows_are_the_newest() {
        use SessionAction::*;
        let mut table = SessionTable::new(500);
        for i in 0..20_000 {
            table.apply(update(New, &format!("s{i:05}"), 0, 0), t(0));
        }
        assert_eq!((table.len(), table.active()), (500, 20_000));
        let shown: Vec<&str> = table
            .sorted(SortKey::Username, false, t(0))
            .iter()
            .map(|r| r.session.session_id.as_str())
            .collect();
        assert_eq!(shown.first(), Some(&"s19500"), "the most recent 500");
        // A hidden session's updates change nothing shown; its end is counted.
        table.apply(update(Update, "s00001", 5, 5), t(1));
        table.apply(update(Terminate, "s00002", 5, 5), t(1));
        assert_eq!(
            (table.len(), table.active(), table.unknown),
            (500, 19_999, 0)
        );
        assert!(table.counted_all());
    }

    #[test]
    fn a_row_shown_before_a_snapshot_is_not_new_after_it() {
        use SessionAction::*;
        let mut old = SessionTable::new(10);
        old.apply(update(New, "a", 0, 0), t(1_000));
        let mut fresh = SessionTable::new(10);
        fresh.remember(&old);
        fresh.apply(update(New, "a", 9, 9), t(60_000));
        fresh.apply(update(New, "b", 9, 9), t(60_000));
        let entered = |id: &str| {
            fresh
                .sorted(SortKey::Username, false, t(60_000))
                .iter()
                .find(|r| r.session.session_id == id)
                .map(|r| r.entered_at)
        };
        assert_eq!(entered("a"), Some(t(1_000)), "known: no entry animation");
        assert_eq!(entered("b"), Some(t(60_000)));
    }

    #[test]
    fn fading_rows_are_few_under_churn() {
        let mut table = SessionTable::new(500);
        for i in 0..100 {
            let id = format!("s{i}");
            table.apply(update(SessionAction::New, &id, 0, 0), t(i));
            table.apply(update(SessionAction::Terminate, &id, 1, 0), t(i));
            table.prune(t(i));
        }
        let leaving: Vec<&str> = table
            .leaving(t(100))
            .map(|r| r.session.session_id.as_str())
            .collect();
        assert_eq!(leaving.len(), MAX_LEAVING);
        assert_eq!(leaving.last(), Some(&"s99"), "the newest exits are kept");
        assert!(table.is_empty());
    }

    #[test]
    fn the_window_covers_the_view_and_stays_in_bounds() {
        // 33 px rows, a 330 px view: 10 rows in view, +1 for a partly scrolled row.
        assert_eq!(Window::of(500, 33, 0, 330, 4), Window { first: 0, end: 15 });
        assert_eq!(
            Window::of(500, 33, 33 * 100 + 10, 330, 4),
            Window {
                first: 96,
                end: 115
            }
        );
        assert_eq!(
            Window::of(500, 33, 33 * 495, 330, 4),
            Window {
                first: 491,
                end: 500
            }
        );
        assert_eq!(Window::of(3, 33, 0, 330, 4), Window { first: 0, end: 3 });
        assert_eq!(Window::of(0, 33, 0, 330, 4), Window { first: 0, end: 0 });
        // Scrolled past the end (the list shrank under the scroll position).
        assert_eq!(
            Window::of(10, 33, 33 * 400, 330, 4),
            Window { first: 10, end: 10 }
        );
        for scroll in (0..20_000).step_by(97) {
            let w = Window::of(500, 33, scroll, 330, 4);
            let (view_first, view_last) = (scroll as usize / 33, (scroll as usize + 330) / 33);
            assert!(w.first <= view_first.min(500) && w.end >= (view_last + 1).min(500));
        }
    }

    #[test]
    fn the_busiest_is_the_first_by_rate_without_sorting() {
        use SessionAction::*;
        let mut table = SessionTable::new(50);
        assert!(table.busiest().is_none());
        let mut rng = fastrand::Rng::with_seed(3);
        for round in 0..20_u64 {
            for i in 0..30 {
                let id = format!("s{i:02}");
                // Few distinct rates, so ties are common and the id decides.
                let down = round * 1000 * rng.u64(0..4);
                table.apply(update(Update, &id, round, down), t(round));
            }
            let first = table.sorted(SortKey::Rate, true, t(round)).first().copied();
            assert_eq!(table.busiest(), first, "round {round}");
        }
    }

    #[test]
    fn sorting_by_column() {
        use SessionAction::*;
        let mut table = SessionTable::new(10);
        table.apply(update(New, "b", 0, 300), t(0));
        table.apply(update(New, "a", 0, 100), t(0));
        let ids = |t: &SessionTable, k, d| {
            t.sorted(k, d, Instant::from_millis(0))
                .iter()
                .map(|r| r.session.session_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&table, SortKey::Username, false), ["a", "b"]);
        assert_eq!(ids(&table, SortKey::Download, true), ["b", "a"]);
    }
}
