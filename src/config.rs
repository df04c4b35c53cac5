//! The runtime configuration, `config.json`: fetched at start, never content-hashed, so one
//! build serves every environment. Parsing and URL resolution are pure and tested natively.
//!
//! ```json
//! {
//!   "simulation": true,
//!   "token_key": "switchboard.access_token",
//!   "basename": "/ops",
//!   "modules": {
//!     "network": { "url": "/ws/network", "enabled": true, "simulation": true, "token_key": "..." }
//!   }
//! }
//! ```
//! Every field is optional. A module not listed uses its own defaults.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// One module's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleConfig {
    /// WebSocket URL, absolute or a path on the page's origin.
    pub url: Option<String>,
    /// `false` hides the module. Default `true`.
    pub enabled: bool,
    /// Overrides the global simulation switch for this module.
    pub simulation: Option<bool>,
    /// Overrides the global `sessionStorage` token key.
    pub token_key: Option<String>,
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Simulated data while offline. Default `true`, as in the reference.
    pub simulation: bool,
    /// The `sessionStorage` key of the operator token.
    pub token_key: String,
    /// A development token (honoured by debug builds only; `cargo xtask dev` provides it).
    pub dev_token: Option<String>,
    /// The path the app is served under, e.g. `/ops`, when it differs from `<base href>`.
    pub basename: Option<String>,
    /// Per module, by id.
    pub modules: BTreeMap<String, ModuleConfig>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            simulation: true,
            token_key: switchboard_kit::token::SessionStorageToken::DEFAULT_KEY.to_owned(),
            dev_token: None,
            basename: None,
            modules: BTreeMap::new(),
        }
    }
}

impl RuntimeConfig {
    /// A module's settings, or the defaults.
    pub fn module(&self, id: &str) -> ModuleConfig {
        self.modules.get(id).cloned().unwrap_or(ModuleConfig {
            enabled: true,
            ..Default::default()
        })
    }
}

/// A problem in `config.json`, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field's path, e.g. `modules.network.url`; empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "config.json: {}", self.message)
        } else {
            write!(f, "config.json: `{}` {}", self.field, self.message)
        }
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

fn get_bool(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<bool> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(err(format!("{path}{key}"), "must be true or false"));
            None
        }
    }
}

fn get_string(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            errors.push(err(format!("{path}{key}"), "must be a non-empty string"));
            None
        }
    }
}

/// Parses `config.json`. Problems are returned beside the config, which falls back to the
/// defaults field by field, so the app always runs.
pub fn parse(text: &str, known: &[&str]) -> (RuntimeConfig, Vec<ConfigError>) {
    let mut config = RuntimeConfig::default();
    let mut errors = Vec::new();
    let root = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => root,
        Ok(_) => return (config, vec![err("", "must be a JSON object")]),
        Err(e) => return (config, vec![err("", format!("is not valid JSON ({e})"))]),
    };
    if let Some(b) = get_bool(&root, "simulation", "", &mut errors) {
        config.simulation = b;
    }
    if let Some(k) = get_string(&root, "token_key", "", &mut errors) {
        config.token_key = k;
    }
    config.dev_token = get_string(&root, "dev_token", "", &mut errors);
    config.basename = get_string(&root, "basename", "", &mut errors);
    if config
        .basename
        .as_deref()
        .is_some_and(|b| !b.starts_with('/'))
    {
        errors.push(err("basename", "must start with `/`"));
        config.basename = None;
    }
    match root.get("modules") {
        None | Some(Value::Null) => {}
        Some(Value::Object(modules)) => {
            for (id, value) in modules {
                let path = format!("modules.{id}.");
                if !known.contains(&id.as_str()) {
                    errors.push(err(
                        format!("modules.{id}"),
                        "is not a module of this build",
                    ));
                    continue;
                }
                let Value::Object(m) = value else {
                    errors.push(err(format!("modules.{id}"), "must be an object"));
                    continue;
                };
                let module = ModuleConfig {
                    url: get_string(m, "url", &path, &mut errors),
                    enabled: get_bool(m, "enabled", &path, &mut errors).unwrap_or(true),
                    simulation: get_bool(m, "simulation", &path, &mut errors),
                    token_key: get_string(m, "token_key", &path, &mut errors),
                };
                config.modules.insert(id.clone(), module);
            }
        }
        Some(_) => errors.push(err("modules", "must be an object keyed by module id")),
    }
    (config, errors)
}

/// Why a module's URL cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// `ws://` on an `https://` page: the browser would block it, and it would leak the token.
    Insecure(String),
    /// Neither `ws://`, `wss://` nor a path.
    Unsupported(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Insecure(u) => {
                write!(
                    f,
                    "refused `{u}`: an https page may only use wss:// (set a wss:// URL or a path in config.json)"
                )
            }
            UrlError::Unsupported(u) => write!(f, "`{u}` is not a ws://, wss:// or /path URL"),
        }
    }
}

/// Resolves a configured URL against the page: paths become `ws(s)://<host><path>`, with
/// `wss` on https pages.
pub fn resolve_url(url: &str, page_protocol: &str, page_host: &str) -> Result<String, UrlError> {
    let https = page_protocol == "https:";
    if url.starts_with("wss://") {
        Ok(url.to_owned())
    } else if url.starts_with("ws://") {
        if https {
            Err(UrlError::Insecure(url.to_owned()))
        } else {
            Ok(url.to_owned())
        }
    } else if url.starts_with('/') && !url.starts_with("//") {
        Ok(format!(
            "{}://{page_host}{url}",
            if https { "wss" } else { "ws" }
        ))
    } else {
        Err(UrlError::Unsupported(url.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["network", "sessions"];

    #[test]
    fn a_full_config_parses() {
        let (c, errors) = parse(
            r#"{"simulation":false,"token_key":"k","modules":{"network":{"url":"wss://n/ws","enabled":false,"simulation":true}}}"#,
            KNOWN,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!c.simulation);
        assert_eq!(c.token_key, "k");
        let n = c.module("network");
        assert_eq!(
            (n.url.as_deref(), n.enabled, n.simulation),
            (Some("wss://n/ws"), false, Some(true))
        );
        assert!(
            c.module("sessions").enabled,
            "unlisted modules use defaults"
        );
    }

    #[test]
    fn errors_name_the_field_and_keep_the_rest() {
        let (c, errors) = parse(
            r#"{"simulation":"yes","modules":{"network":{"url":42,"enabled":true},"nope":{}}}"#,
            KNOWN,
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "config.json: `simulation` must be true or false",
                "config.json: `modules.network.url` must be a non-empty string",
                "config.json: `modules.nope` is not a module of this build",
            ]
        );
        assert!(c.simulation, "the default stands");
        assert!(c.module("network").enabled);
        let (c, errors) = parse(r#"{"basename":"ops"}"#, KNOWN);
        assert_eq!((c.basename, errors[0].field.as_str()), (None, "basename"));
        let (_, errors) = parse("{not json", KNOWN);
        assert!(
            errors[0]
                .to_string()
                .starts_with("config.json: is not valid JSON")
        );
    }

    #[test]
    fn urls_resolve_against_the_page() {
        assert_eq!(
            resolve_url("/ws/network", "https:", "ops.example.net").unwrap(),
            "wss://ops.example.net/ws/network"
        );
        assert_eq!(
            resolve_url("/ws/network", "http:", "127.0.0.1:8080").unwrap(),
            "ws://127.0.0.1:8080/ws/network"
        );
        assert_eq!(
            resolve_url("wss://x/ws", "http:", "h").unwrap(),
            "wss://x/ws"
        );
        assert_eq!(resolve_url("ws://x/ws", "http:", "h").unwrap(), "ws://x/ws");
        assert_eq!(
            resolve_url("ws://x/ws", "https:", "h"),
            Err(UrlError::Insecure("ws://x/ws".into()))
        );
        assert!(matches!(
            resolve_url("http://x", "http:", "h"),
            Err(UrlError::Unsupported(_))
        ));
        assert!(matches!(
            resolve_url("//x/ws", "http:", "h"),
            Err(UrlError::Unsupported(_))
        ));
    }
}
