//! Channel names, and typed channels that bind a name to its payload type once.
//!
//! A module declares `const BANDWIDTH: TypedChannel<BandwidthData> =
//! TypedChannel::new("bandwidth_update");` and every subscriber, simulator and test uses that
//! constant, so a typo in a channel name is a compile error rather than a silent empty chart.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::frame::Frame;

/// The wildcard pattern: a subscription to it receives every delivered frame.
pub const WILDCARD: &str = "*";

/// The frame type a server sends to say the auth token was rejected.
pub const AUTH_ERROR: &str = "auth_error";

/// The frame type of the auth frame the client sends first on every open.
pub const AUTH: &str = "auth";

/// Longest channel name accepted by [`is_valid_channel_name`].
pub const MAX_CHANNEL_NAME_LEN: usize = 64;

/// Whether `name` is a well-formed channel name: lower-case ASCII letters, digits and `_`,
/// starting with a letter, at most [`MAX_CHANNEL_NAME_LEN`] bytes. `*` is a pattern, not a name.
pub fn is_valid_channel_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= MAX_CHANNEL_NAME_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// A channel name bound to the type of its payload.
pub struct TypedChannel<T> {
    name: &'static str,
    payload: PhantomData<fn() -> T>,
}

impl<T> TypedChannel<T> {
    /// Declares a channel. Check the name with [`is_valid_channel_name`] in the module's tests;
    /// the registry check does it for every module at once.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            payload: PhantomData,
        }
    }

    /// The channel's name on the wire.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: DeserializeOwned> TypedChannel<T> {
    /// Decodes the payload of `frame`. The caller should have routed only this channel's frames
    /// here; a frame of another channel is refused rather than misread.
    pub fn decode(&self, frame: &Frame) -> Result<T, PayloadError> {
        if frame.channel() != self.name {
            return Err(PayloadError::WrongChannel {
                expected: self.name,
                found: frame.channel().to_owned(),
            });
        }
        serde_json::from_str(frame.data().get()).map_err(|e| PayloadError::Shape {
            channel: self.name,
            detail: e.to_string(),
        })
    }
}

// Manual impls: a derive would demand `T: Clone` and friends, which a marker does not need.
impl<T> Clone for TypedChannel<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TypedChannel<T> {}
impl<T> fmt::Debug for TypedChannel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TypedChannel({:?} as {})",
            self.name,
            std::any::type_name::<T>()
        )
    }
}
impl<T> PartialEq for TypedChannel<T> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A payload that does not fit its channel's type. The frame is dropped for that subscriber,
/// counted as a decode error for the channel, and the last good value stays on screen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload's JSON does not have the channel's shape.
    #[error("payload of `{channel}` has the wrong shape: {detail}")]
    Shape {
        /// The channel whose payload failed.
        channel: &'static str,
        /// What serde reported.
        detail: String,
    },
    /// A frame of another channel was given to this decoder: a routing bug, not bad input.
    #[error("expected a `{expected}` frame, got `{found}`")]
    WrongChannel {
        /// The decoder's channel.
        expected: &'static str,
        /// The frame's channel.
        found: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_checked() {
        for ok in ["bandwidth_update", "a", "network_status", "x9_"] {
            assert!(is_valid_channel_name(ok), "{ok}");
        }
        let long = "a".repeat(MAX_CHANNEL_NAME_LEN + 1);
        for bad in [
            "",
            "*",
            "Bandwidth",
            "9lives",
            "_x",
            "a-b",
            "a b",
            "é",
            long.as_str(),
        ] {
            assert!(!is_valid_channel_name(bad), "{bad}");
        }
    }
}
