//! The wire format: `{"type": CHANNEL, "data": <any JSON>, "timestamp": RFC 3339}`.
//!
//! Inbound text is checked against the size limit before it is parsed, then split into its
//! envelope without copying: the payload stays raw JSON until a subscriber decodes it into
//! its channel's type. Everything that cannot be a frame becomes a [`DropReason`].

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::time::Instant;

/// The default largest inbound frame: 1 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// Where a frame came from. Every value shown on screen carries this, so simulated data can
/// never pass for live data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provenance {
    /// Received from the module's backend.
    Live,
    /// Made up by the module's simulator while the live feed is offline.
    Simulated,
}

impl Provenance {
    /// `live` or `simulated`, e.g. for a `data-provenance` attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            Provenance::Live => "live",
            Provenance::Simulated => "simulated",
        }
    }
}

/// One frame, as delivered to subscribers.
#[derive(Clone, Debug)]
pub struct Frame {
    channel: Cow<'static, str>,
    data: Box<RawValue>,
    timestamp: Option<Instant>,
    provenance: Provenance,
    /// Part of a snapshot's state (resume extension), not a change that just happened: when
    /// the snapshot was applied.
    state: Option<Instant>,
    /// The frame's position in its server's epoch (resume extension), when it had one.
    seq: Option<u64>,
}

impl Frame {
    /// A frame for `channel` carrying `data`, which is serialised to JSON now.
    pub fn new<T: Serialize + ?Sized>(
        channel: impl Into<Cow<'static, str>>,
        data: &T,
        timestamp: Option<Instant>,
        provenance: Provenance,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            channel: channel.into(),
            data: serde_json::value::to_raw_value(data)?,
            timestamp,
            provenance,
            state: None,
            seq: None,
        })
    }

    pub(crate) fn from_parts(
        channel: Cow<'static, str>,
        data: Box<RawValue>,
        timestamp: Option<Instant>,
        provenance: Provenance,
    ) -> Self {
        Self {
            channel,
            data,
            timestamp,
            provenance,
            state: None,
            seq: None,
        }
    }

    /// The same frame, at position `seq` of its server's epoch.
    pub(crate) fn at(self, seq: Option<u64>) -> Self {
        Self { seq, ..self }
    }

    /// The frame's position in its server's epoch (resume extension), when it had one: what
    /// a tab that relays the feed to other tabs stamps it with again.
    pub fn position(&self) -> Option<u64> {
        self.seq
    }

    /// The same frame, marked as part of a snapshot's state applied at `at`.
    pub(crate) fn into_state(self, at: Instant) -> Self {
        Self {
            state: Some(at),
            ..self
        }
    }

    /// Whether the frame is part of a snapshot's state (resume extension): what is, rather
    /// than what just changed.
    pub fn is_state(&self) -> bool {
        self.state.is_some()
    }

    /// For a snapshot's state, when the snapshot was applied: the same instant for all its
    /// frames, so a chart of counts over time records the whole snapshot as one point (its
    /// frames' timestamps say when each entry last changed, not when the count was true).
    pub fn state_at(&self) -> Option<Instant> {
        self.state
    }

    /// The channel (the frame's `type`).
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The channel as stored: borrowed from the module's declaration when it was declared.
    pub(crate) fn channel_name(&self) -> Cow<'static, str> {
        self.channel.clone()
    }

    /// The payload, as raw JSON; `null` when the frame had no `data`.
    pub fn data(&self) -> &RawValue {
        &self.data
    }

    /// The frame's own `timestamp`, when it had a valid one.
    pub fn timestamp(&self) -> Option<Instant> {
        self.timestamp
    }

    /// Live or simulated.
    pub fn provenance(&self) -> Provenance {
        self.provenance
    }
}

/// Why an inbound frame was dropped. Each is counted separately and the connection stays up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// The text is not valid JSON.
    NotJson,
    /// Valid JSON, but not an object with a string `type`.
    MissingType,
    /// A binary WebSocket frame: the protocol is text only.
    Binary,
    /// Larger than the configured limit; not parsed at all.
    TooLarge,
    /// A well-formed frame for a channel the module did not declare.
    UnknownChannel,
    /// A `seq` (resume extension) that is not a whole number from 0 to 2^64 - 1.
    BadPosition,
    /// An `action_result` or `grants` frame (actions) whose data does not decode.
    BadAnswer,
}

impl DropReason {
    /// Every reason, in a fixed order (for counters and reports).
    pub const ALL: [DropReason; 7] = [
        DropReason::NotJson,
        DropReason::MissingType,
        DropReason::Binary,
        DropReason::TooLarge,
        DropReason::UnknownChannel,
        DropReason::BadPosition,
        DropReason::BadAnswer,
    ];

    /// A short, stable name, e.g. for logs and test assertions.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::NotJson => "not_json",
            DropReason::MissingType => "missing_type",
            DropReason::Binary => "binary",
            DropReason::TooLarge => "too_large",
            DropReason::UnknownChannel => "unknown_channel",
            DropReason::BadPosition => "bad_position",
            DropReason::BadAnswer => "bad_answer",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::NotJson => "not valid JSON",
            DropReason::MissingType => "no string `type`",
            DropReason::Binary => "binary frame",
            DropReason::TooLarge => "frame over the size limit",
            DropReason::UnknownChannel => "undeclared channel",
            DropReason::BadPosition => "`seq` is not a position",
            DropReason::BadAnswer => "an action answer or grants frame that does not decode",
        })
    }
}

/// An inbound envelope, borrowed from the frame's text.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// The frame's `type`.
    pub kind: Cow<'a, str>,
    /// The payload; `null` when absent.
    pub data: &'a RawValue,
    /// The envelope's timestamp, when present and valid.
    pub timestamp: Option<Instant>,
    /// The frame's position (resume extension), when stamped.
    pub seq: Option<u64>,
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    seq: Option<&'a RawValue>,
}

/// Splits inbound text into its envelope. `max_bytes` is checked before any parsing.
pub fn decode_envelope(text: &str, max_bytes: usize) -> Result<Envelope<'_>, DropReason> {
    if text.len() > max_bytes {
        return Err(DropReason::TooLarge);
    }
    let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => DropReason::MissingType,
        _ => DropReason::NotJson,
    })?;
    let kind_raw = raw.kind.ok_or(DropReason::MissingType)?;
    let kind: Cow<'_, str> =
        serde_json::from_str(kind_raw.get()).map_err(|_| DropReason::MissingType)?;
    let timestamp = raw
        .timestamp
        .and_then(|t| serde_json::from_str::<Cow<'_, str>>(t.get()).ok())
        .and_then(|t| Instant::parse_rfc3339(&t));
    let seq = match raw.seq {
        None => None,
        Some(s) => Some(serde_json::from_str::<u64>(s.get()).map_err(|_| DropReason::BadPosition)?),
    };
    Ok(Envelope {
        kind,
        data: raw.data.unwrap_or(RawValue::NULL),
        timestamp,
        seq,
    })
}

#[derive(Serialize)]
struct OutEnvelope<'a, T: ?Sized> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a T,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// Encodes an outbound frame, stamped with `now`.
pub fn encode_frame<T: Serialize + ?Sized>(
    kind: &str,
    data: &T,
    now: Instant,
) -> Result<String, serde_json::Error> {
    encode_sequenced(kind, data, now, None)
}

/// Encodes a frame stamped with `at` and, for a server speaking the resume extension, its
/// position `seq`.
pub fn encode_sequenced<T: Serialize + ?Sized>(
    kind: &str,
    data: &T,
    at: Instant,
    seq: Option<u64>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&OutEnvelope {
        kind,
        data,
        timestamp: at.to_rfc3339(),
        seq,
    })
}

/// Encodes the auth frame as the reference sends it, `{"type":"auth","token":T}`, plus the
/// resume extension's `resume` field when `resume` is given (a reference server ignores it).
/// A missing token is sent as `null`, as the reference does, and the server decides.
pub fn encode_auth(
    token: Option<&str>,
    resume: Option<crate::resume::ResumeRequest<'_>>,
) -> String {
    #[derive(Serialize)]
    struct Auth<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        token: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        resume: Option<crate::resume::ResumeRequest<'a>>,
        /// Asks for `grants` and action answers (docs/PROTOCOL.md, "Actions"), which a
        /// server that knows nothing of actions ignores. Asked for with resume: a client in
        /// the reference's mode speaks neither extension.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        actions: bool,
    }
    // Serialising strings and numbers cannot fail; an empty string would only make the
    // server refuse.
    serde_json::to_string(&Auth {
        kind: crate::channel::AUTH,
        token,
        actions: resume.is_some(),
        resume,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_reference_envelope() {
        let text = r#"{"type":"bandwidth_update","data":{"upload_mbps":75.5},"timestamp":"2025-10-16T12:00:00Z"}"#;
        let env = decode_envelope(text, DEFAULT_MAX_FRAME_BYTES).unwrap();
        assert_eq!(env.kind, "bandwidth_update");
        assert_eq!(env.data.get(), r#"{"upload_mbps":75.5}"#);
        assert_eq!(env.timestamp, Some(Instant::from_millis(1_760_616_000_000)));
    }

    #[test]
    fn missing_data_is_null_and_missing_timestamp_is_none() {
        let env = decode_envelope(r#"{"type":"ping"}"#, 100).unwrap();
        assert_eq!(env.data.get(), "null");
        assert_eq!(env.timestamp, None);
    }

    #[test]
    fn bad_frames_have_reasons() {
        let cases = [
            ("{", DropReason::NotJson),
            ("hello", DropReason::NotJson),
            ("", DropReason::NotJson),
            ("[1,2]", DropReason::MissingType),
            ("42", DropReason::MissingType),
            (r#"{"data":1}"#, DropReason::MissingType),
            (r#"{"type":7}"#, DropReason::MissingType),
            (r#"{"type":null}"#, DropReason::MissingType),
            (r#"{"type":"a","type":"b"}"#, DropReason::MissingType),
        ];
        for (text, reason) in cases {
            assert_eq!(decode_envelope(text, 1000).unwrap_err(), reason, "{text}");
        }
        assert_eq!(
            decode_envelope(r#"{"type":"x"}"#, 5).unwrap_err(),
            DropReason::TooLarge
        );
    }

    #[test]
    fn a_position_is_read_or_the_frame_dropped() {
        let env = decode_envelope(r#"{"type":"a","seq":18446744073709551615}"#, 100).unwrap();
        assert_eq!(env.seq, Some(u64::MAX));
        for bad in [r#""7""#, "-1", "1.5", "18446744073709551616", "{}"] {
            let text = format!(r#"{{"type":"a","seq":{bad}}}"#);
            assert_eq!(
                decode_envelope(&text, 100).unwrap_err(),
                DropReason::BadPosition,
                "{bad}"
            );
        }
    }

    #[test]
    fn escaped_type_is_unescaped() {
        let env = decode_envelope(r#"{"type":"a\u005fb"}"#, 100).unwrap();
        assert_eq!(env.kind, "a_b");
    }

    #[test]
    fn encodes_frames_and_auth() {
        let now = Instant::from_millis(1_760_616_000_000);
        let text = encode_frame("action_type", &serde_json::json!({"foo":"bar"}), now).unwrap();
        assert_eq!(
            text,
            r#"{"type":"action_type","data":{"foo":"bar"},"timestamp":"2025-10-16T12:00:00.000Z"}"#
        );
        assert_eq!(
            encode_auth(Some("t\"k"), None),
            r#"{"type":"auth","token":"t\"k"}"#
        );
        assert_eq!(encode_auth(None, None), r#"{"type":"auth","token":null}"#);
        let p = crate::resume::Position {
            epoch: "e1".into(),
            seq: 9,
        };
        assert_eq!(
            encode_auth(Some("t"), Some(crate::resume::ResumeRequest::at(Some(&p)))),
            r#"{"type":"auth","token":"t","resume":{"epoch":"e1","seq":9,"parts":true},"actions":true}"#
        );
    }
}
