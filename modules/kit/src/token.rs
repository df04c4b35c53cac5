//! Where the auth token comes from. It is read again on every connect, so a refreshed token is
//! used, and it never goes into a URL or a log.

use std::fmt;

/// Supplies the operator's access token.
pub trait TokenSource {
    /// The token to send in the auth frame now, if there is one.
    fn token(&self) -> Option<String>;
}

/// The default source: `sessionStorage[key]`, scoped to this browser session as the
/// reference's operator auth helper does.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionStorageToken {
    key: String,
}

impl SessionStorageToken {
    /// The key the operator login writes to by default.
    pub const DEFAULT_KEY: &'static str = switchboard_core::app_config::DEFAULT_TOKEN_KEY;

    /// Reads the token stored under `key`.
    pub fn new(key: impl Into<String>) -> Self {
        Self { key: key.into() }
    }

    /// The storage key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Default for SessionStorageToken {
    fn default() -> Self {
        Self::new(Self::DEFAULT_KEY)
    }
}

impl fmt::Debug for SessionStorageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key only: the token itself is never formatted.
        f.debug_struct("SessionStorageToken")
            .field("key", &self.key)
            .finish()
    }
}

impl TokenSource for SessionStorageToken {
    fn token(&self) -> Option<String> {
        let storage = web_sys::window()?.session_storage().ok()??;
        storage.get_item(&self.key).ok()?.filter(|t| !t.is_empty())
    }
}

/// A fixed token, for tests and for embedding pages that obtain the token themselves.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticToken(pub Option<String>);

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "StaticToken(..)"
        } else {
            "StaticToken(None)"
        })
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> Option<String> {
        self.0.clone()
    }
}
