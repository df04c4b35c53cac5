//! The network module's channels and payloads. `BandwidthData` is the reference's;
//! `NetworkStatus` is ours, documented in `docs/PROTOCOL.md`.

use serde::{Deserialize, Serialize};
use switchboard_core::TypedChannel;

pub use switchboard_core::payload::{BANDWIDTH_UPDATE, BandwidthData};

/// `network_status`: the health of sites and devices, and the active alerts.
pub const NETWORK_STATUS: TypedChannel<NetworkStatus> = TypedChannel::new("network_status");

/// Every channel this module receives.
pub const CHANNELS: &[&str] = &[BANDWIDTH_UPDATE.name(), NETWORK_STATUS.name()];

/// Whether a site or device is serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Serving normally.
    Up,
    /// Serving with reduced capacity or errors.
    Degraded,
    /// Not serving.
    Down,
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Customers are affected now.
    Critical,
    /// Redundancy lost or customers at risk.
    Major,
    /// Worth a look this shift.
    Minor,
    /// For the record.
    Info,
}

/// A point of presence: a site with its devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Stable id, e.g. `pop-ams1`.
    pub id: String,
    /// Human name, e.g. `Amsterdam 1`.
    pub name: String,
    /// The site's overall health.
    pub status: Health,
    /// Devices answering.
    pub devices_up: u32,
    /// Devices monitored.
    pub devices_total: u32,
}

/// An active alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id, for de-duplication.
    pub id: String,
    /// How urgent.
    pub severity: Severity,
    /// The site concerned.
    pub site_id: String,
    /// What is wrong, in a line.
    pub message: String,
    /// When it was raised (RFC 3339).
    pub raised_at: String,
    /// The operator who acknowledged it ("I'm on it"), if anyone has. Optional: absent from
    /// backends without actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

/// `network_status` payload: a full snapshot (not a delta), so one frame is enough to draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// 0 (down) to 100 (perfect).
    pub health_score: u8,
    /// Every monitored site.
    pub sites: Vec<Site>,
    /// Active alerts, most severe first.
    pub alerts: Vec<Alert>,
    /// When the snapshot was taken (RFC 3339).
    pub updated_at: String,
}

use switchboard_core::action::{ActionPayload, TypedAction};

/// `acknowledge_alert`: "I'm on it". The alert then carries who acknowledged it and when, in
/// every operator's `network_status`. The grant is `network.acknowledge_alert`. Refused when
/// the alert has cleared.
pub const ACKNOWLEDGE_ALERT: TypedAction<AcknowledgeAlert> = TypedAction::new("acknowledge_alert");

/// `acknowledge_alert`'s payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeAlert {
    /// The alert's id.
    pub alert_id: String,
}

impl ActionPayload for AcknowledgeAlert {
    fn entity(&self) -> String {
        self.alert_id.clone()
    }
}
