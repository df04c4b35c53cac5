//! The gateway's configuration: one TOML file, checked at start (an unknown key is an error
//! that names it), then overridden by environment variables and flags, in that order.
//!
//! ```toml
//! listen = "0.0.0.0:8080"
//! origins = ["https://noc.example.net"]
//! trusted_proxy_header = "X-Forwarded-For"
//!
//! [auth]
//! jwks_file = "/etc/switchboard/jwks.json"
//! audience = "switchboard"
//! publisher_audience = "switchboard-publisher"
//! issuer = "https://id.example.net"
//!
//! [nats]
//! url = "nats://127.0.0.1:4222"
//! ```
//!
//! Every other key has a default; `gateway/gateway.toml` lists them all with their meaning.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::AuthConfig;

/// The whole file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The address to serve on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Page origins allowed to open a socket (`*`: any). Requests without `Origin` (services,
    /// load clients) are allowed; an empty list allows no browser page at all.
    #[serde(default)]
    pub origins: Vec<String>,
    /// The header the proxy in front sets to the client's address (its last entry is used).
    /// Unset: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxy_header: Option<String>,
    /// How long open sockets get to close after SIGTERM before the process exits.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Tokens.
    pub auth: AuthConfig,
    /// Connection and publish limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Each module's stream: its history (replay), heartbeats and state.
    #[serde(default)]
    pub streams: StreamsConfig,
    /// The NATS JetStream broker; absent: the in-memory broker (one node).
    #[serde(default)]
    pub nats: Option<NatsConfig>,
}

/// `[limits]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Open sockets at once, over every module.
    pub max_connections: usize,
    /// Open sockets from one client address.
    pub max_connections_per_ip: usize,
    /// Open sockets one token may hold, over every module (an operator's tabs share it);
    /// beyond it the socket is closed with 1013 and the dashboard retries with backoff.
    pub max_connections_per_token: usize,
    /// Time a client has to send its auth frame.
    #[serde(with = "humantime_serde")]
    pub auth_timeout: Duration,
    /// Frames a client may send a minute (the reference's suggestion: 100).
    pub client_frames_per_minute: u32,
    /// Largest frame a client may send, in bytes (1009 beyond).
    pub max_client_frame_bytes: usize,
    /// Largest `POST /publish` body, in bytes (413 beyond).
    pub max_publish_bytes: usize,
    /// Publish requests a minute per publisher token (`sub`), 429 beyond.
    pub publishes_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_ip: 256,
            max_connections_per_token: 64,
            auth_timeout: Duration::from_secs(5),
            client_frames_per_minute: 100,
            max_client_frame_bytes: 64 * 1024,
            max_publish_bytes: 1 << 20,
            publishes_per_minute: 600,
        }
    }
}

/// `[streams]`: every module's bounds (a JetStream stream's limits, with NATS).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StreamsConfig {
    /// The oldest frame kept for replays (a stream's `max_age`).
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// The most frames kept for replays (a stream's `max_msgs`).
    pub max_frames: usize,
    /// A quiet socket gets a heartbeat this often.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// Finished entries (paid invoices, closed tickets) leave the state this long after they
    /// finished.
    #[serde(with = "humantime_serde")]
    pub settled_age: Duration,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
            max_frames: 1_000_000,
            heartbeat: Duration::from_secs(5),
            settled_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// `[nats]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// The servers, comma-separated (`nats://a:4222,nats://b:4222`).
    pub url: String,
    /// Stream replicas (1, or 3 on a three-node cluster).
    #[serde(default = "one")]
    pub replicas: usize,
    /// Stream names are this, `_`, and the module in upper case (`SWITCHBOARD_NETWORK`).
    #[serde(default = "default_prefix")]
    pub stream_prefix: String,
    /// A credentials file, if the server wants one.
    #[serde(default)]
    pub credentials_file: Option<std::path::PathBuf>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_grace() -> Duration {
    Duration::from_secs(10)
}

fn one() -> usize {
    1
}

fn default_prefix() -> String {
    "SWITCHBOARD".into()
}

/// The environment variables that override the file, and the key each one sets.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("SWITCHBOARD_GATEWAY_LISTEN", "listen"),
    ("SWITCHBOARD_GATEWAY_HS256_SECRET", "auth.hs256_secret"),
    ("SWITCHBOARD_GATEWAY_JWKS_FILE", "auth.jwks_file"),
    ("SWITCHBOARD_GATEWAY_NATS_URL", "nats.url"),
];

impl Config {
    /// Parses `text`, then applies `overrides` (`(key, value)`, as from the environment and
    /// the flags, later ones winning) and checks the result.
    pub fn parse(text: &str, overrides: &[(&str, String)]) -> Result<Self, String> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        for (key, value) in overrides {
            set(&mut table, key, value.clone())?;
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_owned())?;
        config.check()?;
        Ok(config)
    }

    /// Reads and parses the file at `path` (see [`Config::parse`]).
    pub fn load(path: &Path, overrides: &[(&str, String)]) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::parse(&text, overrides).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn check(&self) -> Result<(), String> {
        if self.auth.hs256_secret.is_none() && self.auth.jwks_file.is_none() {
            return Err(
                "auth: set hs256_secret (or SWITCHBOARD_GATEWAY_HS256_SECRET), \
                        jwks_file, or both"
                    .into(),
            );
        }
        if self
            .auth
            .hs256_secret
            .as_ref()
            .is_some_and(|s| s.len() < 32)
        {
            return Err("auth.hs256_secret: at least 32 characters".into());
        }
        if let Some(h) = &self.trusted_proxy_header
            && axum::http::HeaderName::from_bytes(h.as_bytes()).is_err()
        {
            return Err(format!("trusted_proxy_header = {h:?}: not a header name"));
        }
        if self.streams.max_frames == 0 || self.streams.max_age.is_zero() {
            return Err("streams: max_frames and max_age must be above zero".into());
        }
        if let Some(nats) = &self.nats
            && !(1..=5).contains(&nats.replicas)
        {
            return Err(format!("nats.replicas = {}: 1 to 5", nats.replicas));
        }
        Ok(())
    }
}

/// Sets `key` (`a.b`) in `table` to `value` (a string; numbers and socket addresses parse
/// from it where the field wants them, as TOML would).
fn set(table: &mut toml::Table, key: &str, value: String) -> Result<(), String> {
    let mut parts = key.split('.').peekable();
    let mut at = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at.insert(part.to_owned(), toml::Value::String(value));
            return Ok(());
        }
        let entry = at
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = entry
            .as_table_mut()
            .ok_or_else(|| format!("{key}: `{part}` is not a table"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_example_file_parses_and_defaults_fill_the_rest() {
        let text = include_str!("../gateway.toml");
        let c = Config::parse(text, &[("auth.hs256_secret", SECRET.into())]).unwrap();
        assert_eq!(c.limits, LimitsConfig::default());
        assert_eq!(c.streams, StreamsConfig::default());
        assert!(c.nats.is_none(), "in memory by default");
        let minimal = Config::parse("[auth]\njwks_file = \"/x\"\n", &[]).unwrap();
        assert_eq!(minimal.listen, default_listen());
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        for (text, named) in [
            (
                "listn = \"0.0.0.0:1\"\n[auth]\njwks_file = \"/x\"\n",
                "listn",
            ),
            ("[auth]\njwks_file = \"/x\"\naudiance = \"a\"\n", "audiance"),
            (
                "[auth]\njwks_file = \"/x\"\n[limits]\nmax_conections = 1\n",
                "max_conections",
            ),
        ] {
            let e = Config::parse(text, &[]).unwrap_err();
            assert!(e.contains(named), "{e}");
        }
    }

    #[test]
    fn the_environment_and_flags_override_the_file_and_are_checked() {
        let text = "listen = \"127.0.0.1:1\"\n[auth]\njwks_file = \"/x\"\n";
        let c = Config::parse(
            text,
            &[
                ("listen", "0.0.0.0:9000".into()),
                ("nats.url", "nats://n1:4222".into()),
                ("auth.hs256_secret", SECRET.into()),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.nats.unwrap().url, "nats://n1:4222");
        assert!(Config::parse(text, &[("listen", "nowhere".into())]).is_err());
        assert!(
            Config::parse("[auth]\nhs256_secret = \"short\"\n", &[])
                .unwrap_err()
                .contains("32")
        );
        assert!(Config::parse("", &[]).unwrap_err().contains("auth"));
    }
}
