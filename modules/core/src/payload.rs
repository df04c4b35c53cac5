//! The payloads the reference document defines, field for field: `BandwidthData` on
//! `bandwidth_update` and `SessionUpdate` on `session_update`. Module crates declare their
//! channels with these types; the payloads Switchboard defines itself live in the modules.

use serde::{Deserialize, Serialize};

use crate::channel::TypedChannel;

/// `bandwidth_update`: one bandwidth sample, every 2 s.
pub const BANDWIDTH_UPDATE: TypedChannel<BandwidthData> = TypedChannel::new("bandwidth_update");
/// `session_update`: a RADIUS session started, changed or ended.
pub const SESSION_UPDATE: TypedChannel<SessionUpdate> = TypedChannel::new("session_update");

/// One bandwidth sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandwidthData {
    /// When the sample was taken (RFC 3339).
    pub timestamp: String,
    /// Upload rate, in Mbit/s.
    pub upload_mbps: f64,
    /// Download rate, in Mbit/s.
    pub download_mbps: f64,
    /// Round-trip latency, in milliseconds.
    pub latency_ms: f64,
}

/// What happened to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionAction {
    /// A session started.
    New,
    /// A session's counters changed.
    Update,
    /// A session ended.
    Terminate,
}

/// A RADIUS session as the backend reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Accounting session id, e.g. `sess_abc123`.
    pub session_id: String,
    /// The subscriber's login.
    pub username: String,
    /// The subscriber's assigned address.
    pub ip_address: String,
    /// The NAS (access server) the session runs on.
    pub nas_ip_address: String,
    /// Bytes uploaded by the subscriber so far.
    pub upload_bytes: u64,
    /// Bytes downloaded by the subscriber so far.
    pub download_bytes: u64,
    /// Session length so far, in seconds.
    pub session_time_seconds: u64,
    /// When the counters were last updated (RFC 3339).
    pub last_update: String,
    /// The subscriber (account) the session belongs to, as billing names it (`sub_1003`).
    /// Optional, and not in the reference: a backend that sends none leaves the session
    /// matched by its username only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
}

/// `session_update` payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// New, update or terminate.
    pub action: SessionAction,
    /// The session's state after the change.
    pub session: Session,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DEFAULT_MAX_FRAME_BYTES;
    use crate::{Config, Connection, Event, Frame, Instant, SocketId};

    /// Decodes a frame through the same path the browser uses.
    fn deliver(text: &str) -> Frame {
        let mut c = Connection::decoder(Config::default());
        let now = Instant::from_millis(0);
        c.handle(
            now,
            Event::Text {
                socket: SocketId(0),
                text,
            },
        );
        std::iter::from_fn(|| c.poll())
            .find_map(|cmd| match cmd {
                crate::Command::Deliver(f) => Some(f),
                _ => None,
            })
            .expect("the frame is delivered")
    }

    #[test]
    fn the_reference_bandwidth_example_decodes() {
        let text = r#"{
          "type": "bandwidth_update",
          "data": {
            "timestamp": "2025-10-16T12:00:00Z",
            "upload_mbps": 75.5,
            "download_mbps": 150.2,
            "latency_ms": 15
          },
          "timestamp": "2025-10-16T12:00:00Z"
        }"#;
        assert!(text.len() < DEFAULT_MAX_FRAME_BYTES);
        let data = BANDWIDTH_UPDATE.decode(&deliver(text)).unwrap();
        assert_eq!(
            data,
            BandwidthData {
                timestamp: "2025-10-16T12:00:00Z".into(),
                upload_mbps: 75.5,
                download_mbps: 150.2,
                latency_ms: 15.0,
            }
        );
    }

    #[test]
    fn the_reference_session_example_decodes() {
        let text = r#"{
          "type": "session_update",
          "data": {
            "action": "new",
            "session": {
              "session_id": "sess_abc123",
              "username": "user@example.com",
              "ip_address": "10.0.0.101",
              "nas_ip_address": "10.1.1.1",
              "upload_bytes": 1048576,
              "download_bytes": 5242880,
              "session_time_seconds": 3600,
              "last_update": "2025-10-16T12:00:00Z"
            }
          },
          "timestamp": "2025-10-16T12:00:00Z"
        }"#;
        let update = SESSION_UPDATE.decode(&deliver(text)).unwrap();
        assert_eq!(update.action, SessionAction::New);
        assert_eq!(update.session.session_id, "sess_abc123");
        assert_eq!(update.session.download_bytes, 5_242_880);
        assert_eq!(update.session.session_time_seconds, 3600);
    }

    #[test]
    fn a_payload_of_the_wrong_shape_is_a_payload_error() {
        let text = r#"{"type":"bandwidth_update","data":{"upload_mbps":"fast"}}"#;
        let err = BANDWIDTH_UPDATE.decode(&deliver(text)).unwrap_err();
        assert!(matches!(
            err,
            crate::PayloadError::Shape {
                channel: "bandwidth_update",
                ..
            }
        ));
        let other = deliver(r#"{"type":"x","data":{}}"#);
        assert!(matches!(
            BANDWIDTH_UPDATE.decode(&other),
            Err(crate::PayloadError::WrongChannel { .. })
        ));
    }
}
