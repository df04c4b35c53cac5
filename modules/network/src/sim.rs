//! The network simulator: bandwidth every 2 s as a smooth random walk around a daily curve,
//! and a health snapshot every 10 s in which a site now and then degrades and recovers.
//! The development backend serves the same frames as live traffic.

use std::time::Duration;

use switchboard_core::simulator::{Acted, Actor, Call, Simulator};
use switchboard_core::{Frame, Instant, Provenance};

use crate::data::{
    ACKNOWLEDGE_ALERT, Alert, BANDWIDTH_UPDATE, BandwidthData, Health, NETWORK_STATUS,
    NetworkStatus, Severity, Site,
};

/// The bandwidth cadence, as in the reference.
pub const BANDWIDTH_INTERVAL: Duration = Duration::from_secs(2);
/// A health snapshot every this many bandwidth ticks.
const STATUS_EVERY: u64 = 5;

const SITES: [(&str, &str, u32); 5] = [
    ("pop-ams1", "Amsterdam 1", 24),
    ("pop-fra2", "Frankfurt 2", 18),
    ("pop-lon1", "London 1", 30),
    ("pop-par1", "Paris 1", 12),
    ("pop-mad1", "Madrid 1", 9),
];

/// A residential ISP's day, as a share of the evening peak, by UTC hour: quiet at 04:00,
/// busiest from 20:00 to 22:00. (A table rather than a sine also keeps libm out of the wasm.)
const DAILY_LOAD: [f64; 24] = [
    0.70, 0.55, 0.45, 0.38, 0.35, 0.38, 0.45, 0.55, 0.62, 0.66, 0.70, 0.72, //
    0.75, 0.75, 0.74, 0.75, 0.78, 0.83, 0.90, 0.96, 1.00, 1.00, 0.93, 0.82,
];

/// See the module docs.
#[derive(Debug, Clone)]
pub struct NetworkSimulator {
    ticks: u64,
    download: f64,
    upload: f64,
    latency: f64,
    /// Index of the site that is currently in trouble, and how many snapshots it has left.
    incident: Option<(usize, u32)>,
    /// Acknowledgements of active alerts: alert id, by whom, when. An alert that clears
    /// forgets its acknowledgement, so a new incident starts unacknowledged.
    acks: Vec<(String, String, String)>,
    /// The last health snapshot, which an acknowledgement changes and sends again.
    last: Option<NetworkStatus>,
}

impl Default for NetworkSimulator {
    fn default() -> Self {
        Self {
            ticks: 0,
            download: 150.0,
            upload: 70.0,
            latency: 15.0,
            incident: None,
            acks: Vec::new(),
            last: None,
        }
    }
}

/// Moves `value` a random step towards `target`, within `[lo, hi]`.
fn walk(value: f64, target: f64, step: f64, lo: f64, hi: f64, rng: &mut fastrand::Rng) -> f64 {
    let pull = (target - value) * 0.15;
    (value + pull + (rng.f64() * 2.0 - 1.0) * step).clamp(lo, hi)
}

impl NetworkSimulator {
    /// The next bandwidth sample.
    pub fn bandwidth(&mut self, now: Instant, rng: &mut fastrand::Rng) -> BandwidthData {
        let hour = (now.as_millis() / 3_600_000 % 24) as usize;
        let load = DAILY_LOAD.get(hour).copied().unwrap_or(1.0);
        self.download = walk(self.download, 200.0 * load, 12.0, 5.0, 950.0, rng);
        self.upload = walk(self.upload, 90.0 * load, 6.0, 2.0, 500.0, rng);
        self.latency = walk(self.latency, 12.0 + 8.0 * load, 2.5, 1.0, 250.0, rng);
        let round = |v: f64| (v * 10.0).round() / 10.0;
        BandwidthData {
            timestamp: now.to_rfc3339(),
            upload_mbps: round(self.upload),
            download_mbps: round(self.download),
            latency_ms: round(self.latency),
        }
    }

    /// The next health snapshot.
    pub fn status(&mut self, now: Instant, rng: &mut fastrand::Rng) -> NetworkStatus {
        self.incident = match self.incident {
            Some((site, left)) if left > 0 => Some((site, left - 1)),
            Some(_) => None,
            None if rng.u32(0..4) == 0 => Some((rng.usize(0..SITES.len()), rng.u32(2..6))),
            None => None,
        };
        let mut alerts = Vec::new();
        let sites: Vec<Site> = SITES
            .iter()
            .enumerate()
            .map(|(i, (id, name, total))| {
                let (status, down) = match self.incident {
                    Some((s, left)) if s == i && left >= 3 => (Health::Down, *total),
                    Some((s, _)) if s == i => (Health::Degraded, (*total / 4).max(1)),
                    _ => (Health::Up, 0),
                };
                if status != Health::Up {
                    let severity = if status == Health::Down {
                        Severity::Critical
                    } else {
                        Severity::Major
                    };
                    alerts.push(Alert {
                        id: format!("alrt-{id}"),
                        severity,
                        site_id: (*id).to_owned(),
                        message: format!("{down} of {total} devices not answering at {name}"),
                        raised_at: now.to_rfc3339(),
                        acknowledged_by: None,
                        acknowledged_at: None,
                    });
                }
                Site {
                    id: (*id).into(),
                    name: (*name).into(),
                    status,
                    devices_up: total - down,
                    devices_total: *total,
                }
            })
            .collect();
        if self.latency > 40.0 {
            alerts.push(Alert {
                id: "alrt-latency".into(),
                severity: Severity::Minor,
                site_id: "core".into(),
                message: format!("core latency {:.0} ms", self.latency),
                raised_at: now.to_rfc3339(),
                acknowledged_by: None,
                acknowledged_at: None,
            });
        }
        alerts.sort_by_key(|a| a.severity);
        self.acks
            .retain(|(id, ..)| alerts.iter().any(|a| a.id == *id));
        for alert in &mut alerts {
            if let Some((_, by, at)) = self.acks.iter().find(|(id, ..)| *id == alert.id) {
                alert.acknowledged_by = Some(by.clone());
                alert.acknowledged_at = Some(at.clone());
            }
        }
        let total: u32 = sites.iter().map(|s| s.devices_total).sum();
        let up: u32 = sites.iter().map(|s| s.devices_up).sum();
        let health_score = (u64::from(up) * 100 / u64::from(total.max(1))) as u8;
        let status = NetworkStatus {
            health_score,
            sites,
            alerts,
            updated_at: now.to_rfc3339(),
        };
        self.last = Some(status.clone());
        status
    }
}

/// `acknowledge_alert`: the alert in the last snapshot is marked, and the snapshot goes out
/// again at once.
impl Actor for NetworkSimulator {
    fn act(&mut self, now: Instant, call: &Call<'_>) -> Acted {
        let Some(ack) = call.payload(ACKNOWLEDGE_ALERT) else {
            return Acted::Refused(format!("`{}` is not a network action", call.action));
        };
        let Some(status) = self.last.as_mut() else {
            return Acted::Refused("alert already cleared".to_owned());
        };
        let Some(alert) = status.alerts.iter_mut().find(|a| a.id == ack.alert_id) else {
            return Acted::Refused("alert already cleared".to_owned());
        };
        if let Some(by) = &alert.acknowledged_by {
            return Acted::Refused(format!("already acknowledged by {by}"));
        }
        let at = now.to_rfc3339();
        alert.acknowledged_by = Some(call.operator.to_owned());
        alert.acknowledged_at = Some(at.clone());
        self.acks.push((ack.alert_id, call.operator.to_owned(), at));
        status.updated_at = now.to_rfc3339();
        Acted::Done {
            frames: Frame::new(NETWORK_STATUS.name(), &*status, Some(now), Provenance::Live)
                .into_iter()
                .collect(),
            result: None,
        }
    }
}

impl Simulator for NetworkSimulator {
    fn interval(&self) -> Duration {
        BANDWIDTH_INTERVAL
    }

    fn tick(&mut self, now: Instant, rng: &mut fastrand::Rng) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(2);
        let stamp = Some(now);
        let bandwidth = self.bandwidth(now, rng);
        frames.extend(
            Frame::new(
                BANDWIDTH_UPDATE.name(),
                &bandwidth,
                stamp,
                Provenance::Simulated,
            )
            .ok(),
        );
        if self.ticks % STATUS_EVERY == 0 {
            let status = self.status(now, rng);
            frames.extend(
                Frame::new(NETWORK_STATUS.name(), &status, stamp, Provenance::Simulated).ok(),
            );
        }
        self.ticks += 1;
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, ticks: u64) -> Vec<Frame> {
        let mut sim = NetworkSimulator::default();
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..ticks)
            .flat_map(|i| sim.tick(Instant::from_millis(1_760_616_000_000 + i * 2000), &mut rng))
            .collect()
    }

    #[test]
    fn an_alert_is_acknowledged_once_keeps_it_while_active_and_a_cleared_one_is_refused() {
        let mut sim = NetworkSimulator::default();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut now = Instant::from_millis(1_760_616_000_000);
        let mut status = sim.status(now, &mut rng);
        while status.alerts.is_empty() {
            now = now.plus(Duration::from_secs(10));
            status = sim.status(now, &mut rng);
        }
        let id = status.alerts[0].id.clone();
        let data = format!(r#"{{"alert_id":"{id}","request_id":"r1"}}"#);
        let call = Call {
            action: "acknowledge_alert",
            data: &data,
            operator: "Ada",
            state: &[],
        };
        let Acted::Done { frames, .. } = sim.act(now, &call) else {
            panic!("an active alert can be acknowledged");
        };
        let sent = NETWORK_STATUS.decode(&frames[0]).unwrap();
        let alert = sent.alerts.iter().find(|a| a.id == id).unwrap();
        assert_eq!(alert.acknowledged_by.as_deref(), Some("Ada"));
        assert_eq!(alert.acknowledged_at, Some(now.to_rfc3339()));
        assert!(matches!(
            sim.act(now, &Call { operator: "Ben", ..call }),
            Acted::Refused(why) if why == "already acknowledged by Ada"
        ));
        // The next snapshots keep it while the alert is active; once it clears, it is gone.
        let mut cleared = false;
        for _ in 0..200 {
            now = now.plus(Duration::from_secs(10));
            let next = sim.status(now, &mut rng);
            match next.alerts.iter().find(|a| a.id == id) {
                Some(a) if !cleared => assert_eq!(a.acknowledged_by.as_deref(), Some("Ada")),
                Some(a) => {
                    assert_eq!(
                        a.acknowledged_by, None,
                        "a new incident starts unacknowledged"
                    );
                    break;
                }
                None => cleared = true,
            }
        }
        assert!(cleared, "the incident cleared");
        let other = r#"{"alert_id":"alrt-nowhere","request_id":"r2"}"#;
        assert!(matches!(
            sim.act(now, &Call { data: other, ..call }),
            Acted::Refused(why) if why == "alert already cleared"
        ));
    }

    #[test]
    fn bandwidth_stays_realistic_over_a_day() {
        let frames = run(3, 43_200);
        let samples: Vec<BandwidthData> = frames
            .iter()
            .filter_map(|f| BANDWIDTH_UPDATE.decode(f).ok())
            .collect();
        assert_eq!(samples.len(), 43_200, "one sample per tick");
        for b in &samples {
            assert!((5.0..=950.0).contains(&b.download_mbps), "{b:?}");
            assert!((2.0..=500.0).contains(&b.upload_mbps), "{b:?}");
            assert!((1.0..=250.0).contains(&b.latency_ms), "{b:?}");
        }
        let max = samples.iter().map(|b| b.download_mbps).fold(0.0, f64::max);
        let min = samples
            .iter()
            .map(|b| b.download_mbps)
            .fold(f64::MAX, f64::min);
        assert!(max - min > 50.0, "the daily curve shows: {min}..{max}");
        let mean_at = |hour: u64| {
            let at = |b: &&BandwidthData| b.timestamp[11..13].parse::<u64>().ok() == Some(hour);
            let hourly: Vec<f64> = samples.iter().filter(at).map(|b| b.download_mbps).collect();
            hourly.iter().sum::<f64>() / hourly.len().max(1) as f64
        };
        assert!(
            mean_at(21) > 1.8 * mean_at(4),
            "evening {} vs night {}",
            mean_at(21),
            mean_at(4)
        );
    }

    #[test]
    fn status_arrives_every_fifth_tick_and_is_consistent() {
        let frames = run(5, 500);
        let statuses: Vec<NetworkStatus> = frames
            .iter()
            .filter_map(|f| NETWORK_STATUS.decode(f).ok())
            .collect();
        assert_eq!(statuses.len(), 100);
        assert!(
            statuses.iter().any(|s| !s.alerts.is_empty()),
            "incidents happen"
        );
        assert!(statuses.iter().any(|s| s.health_score == 100), "and clear");
        for s in &statuses {
            assert!(s.health_score <= 100);
            assert!(
                s.sites
                    .iter()
                    .all(|site| site.devices_up <= site.devices_total)
            );
            let down = s
                .sites
                .iter()
                .filter(|site| site.status != Health::Up)
                .count();
            assert!(s.alerts.len() >= down, "every troubled site has an alert");
            assert!(s.alerts.windows(2).all(|w| w[0].severity <= w[1].severity));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_frames() {
        let a: Vec<String> = run(9, 50)
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        let b: Vec<String> = run(9, 50)
            .iter()
            .map(|f| f.data().get().to_owned())
            .collect();
        assert_eq!(a, b);
        assert!(
            run(9, 1)
                .iter()
                .all(|f| f.provenance() == Provenance::Simulated)
        );
    }
}
