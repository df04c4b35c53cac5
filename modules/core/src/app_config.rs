//! The runtime configuration, `config.json`: fetched at start, never content-hashed, so one
//! build serves every environment. Parsing and URL resolution are pure and tested natively.
//!
//! ```json
//! {
//!   "simulation": true,
//!   "token_key": "switchboard.access_token",
//!   "basename": "/ops",
//!   "share_across_tabs": true,
//!   "modules": {
//!     "network": { "url": "/ws/network", "enabled": true, "simulation": true, "token_key": "...", "share_across_tabs": true }
//!   }
//! }
//! ```
//! Every field is optional. A module not listed uses its own defaults. A key this build does
//! not know is reported with the closest known one (`simulaton` → `simulation`), since a
//! misspelt switch that silently keeps its default is worse than an error.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The `sessionStorage` key of the operator token, unless `token_key` says otherwise.
pub const DEFAULT_TOKEN_KEY: &str = "switchboard.access_token";

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
    /// Overrides the global `share_across_tabs` for this module.
    pub share_across_tabs: Option<bool>,
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
    /// One connection per module for all of a browser's tabs with the same token (see
    /// `switchboard_core::share`). Default `true`; where the browser lacks Web Locks or
    /// `BroadcastChannel`, every tab connects on its own whatever this says.
    pub share_across_tabs: bool,
    /// Per module, by id.
    pub modules: BTreeMap<String, ModuleConfig>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            simulation: true,
            token_key: DEFAULT_TOKEN_KEY.to_owned(),
            dev_token: None,
            basename: None,
            share_across_tabs: true,
            modules: BTreeMap::new(),
        }
    }
}

impl RuntimeConfig {
    /// Whether the module `id` shares its connection across tabs.
    pub fn shares(&self, id: &str) -> bool {
        self.module(id)
            .share_across_tabs
            .unwrap_or(self.share_across_tabs)
    }

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

/// The top-level keys of `config.json`.
pub const KEYS: &[&str] = &[
    "simulation",
    "token_key",
    "dev_token",
    "basename",
    "share_across_tabs",
    "modules",
];
/// The keys of one module's entry.
pub const MODULE_KEYS: &[&str] = &[
    "url",
    "enabled",
    "simulation",
    "token_key",
    "share_across_tabs",
];

/// Reports every key of `obj` that is not in `known`, with the closest known key when one is
/// near (at most a third of its letters differ).
fn unknown_keys(
    obj: &serde_json::Map<String, Value>,
    known: &[&str],
    path: &str,
    errors: &mut Vec<ConfigError>,
) {
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        let message = match closest(key, known) {
            Some(k) => format!("is not a known key; did you mean `{k}`?"),
            None => format!("is not a known key (known: {})", known.join(", ")),
        };
        errors.push(err(format!("{path}{key}"), message));
    }
}

/// The entry of `known` nearest to `word`, when at most about a third of its letters differ.
fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .min()
        .filter(|(d, k)| *d <= k.len().max(word.len()) / 3 + 1)
        .map(|(_, k)| k)
}

/// Whether `key` looks like a `sessionStorage` key an auth library would use: 1 to 128
/// letters, digits and `. _ - : /`, with at least one letter. Anything else is more likely a
/// pasted token or a path than a key, and reading it would send an arbitrary stored value
/// as the operator's token.
pub fn is_storage_key(key: &str) -> bool {
    (1..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b))
        && key.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `token_key` at `path`, if it is a string that looks like a storage key.
fn get_token_key(
    obj: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    let key = get_string(obj, "token_key", path, errors)?;
    if is_storage_key(&key) {
        Some(key)
    } else {
        errors.push(err(
            format!("{path}token_key"),
            "must be a storage key: 1 to 128 letters, digits and . _ - : / (the default stands)",
        ));
        None
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
    if let Some(b) = get_bool(&root, "share_across_tabs", "", &mut errors) {
        config.share_across_tabs = b;
    }
    unknown_keys(&root, KEYS, "", &mut errors);
    if let Some(k) = get_token_key(&root, "", &mut errors) {
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
                    let message = match closest(id, known) {
                        Some(k) => format!("is not a module of this build; did you mean `{k}`?"),
                        None => "is not a module of this build".to_owned(),
                    };
                    errors.push(err(format!("modules.{id}"), message));
                    continue;
                }
                let Value::Object(m) = value else {
                    errors.push(err(format!("modules.{id}"), "must be an object"));
                    continue;
                };
                unknown_keys(m, MODULE_KEYS, &path, &mut errors);
                let module = ModuleConfig {
                    url: get_string(m, "url", &path, &mut errors),
                    enabled: get_bool(m, "enabled", &path, &mut errors).unwrap_or(true),
                    simulation: get_bool(m, "simulation", &path, &mut errors),
                    token_key: get_token_key(m, &path, &mut errors),
                    share_across_tabs: get_bool(m, "share_across_tabs", &path, &mut errors),
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
    } else if crate::config::is_page_path(url) {
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
    fn sharing_across_tabs_is_on_unless_turned_off_for_all_or_one_module() {
        let (c, errors) = parse("{}", KNOWN);
        assert!(errors.is_empty());
        assert!(c.shares("network") && c.shares("sessions"));
        let (c, errors) = parse(
            r#"{"share_across_tabs":false,"modules":{"network":{"share_across_tabs":true}}}"#,
            KNOWN,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(c.shares("network"));
        assert!(!c.shares("sessions"));
        let (c, errors) = parse(r#"{"modules":{"sessions":{"share_across_tabs":0}}}"#, KNOWN);
        assert_eq!(errors[0].field, "modules.sessions.share_across_tabs");
        assert!(c.shares("sessions"), "the default stands");
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
    fn unknown_keys_are_named_with_the_closest_known_one() {
        let (c, errors) = parse(
            r#"{"simulaton":false,"modules":{"network":{"ulr":"/ws/n","enabeld":false,"colour":"red"},"sesions":{}},"xyzzy":1}"#,
            KNOWN,
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "config.json: `simulaton` is not a known key; did you mean `simulation`?",
                "config.json: `xyzzy` is not a known key (known: simulation, token_key, dev_token, basename, share_across_tabs, modules)",
                "config.json: `modules.network.colour` is not a known key (known: url, enabled, simulation, token_key, share_across_tabs)",
                "config.json: `modules.network.enabeld` is not a known key; did you mean `enabled`?",
                "config.json: `modules.network.ulr` is not a known key; did you mean `url`?",
                "config.json: `modules.sesions` is not a module of this build; did you mean `sessions`?",
            ]
        );
        assert!(
            c.simulation,
            "a misspelt switch keeps its default, and says so"
        );
    }

    #[test]
    fn token_key_must_look_like_a_storage_key() {
        for good in [
            "switchboard.access_token",
            "oidc.user:https://id.example/:app",
            "t",
        ] {
            assert!(is_storage_key(good), "{good}");
            let (c, errors) = parse(&format!(r#"{{"token_key":"{good}"}}"#), KNOWN);
            assert_eq!((c.token_key.as_str(), errors.len()), (good, 0));
        }
        let jwt = "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo";
        for bad in ["Bearer abc", "a key", "{}", "123", "ключ", &"k".repeat(129)] {
            assert!(!is_storage_key(bad), "{bad}");
        }
        assert!(
            is_storage_key(jwt),
            "a JWT looks like a key; the length cap is no proof"
        );
        let (c, errors) = parse(
            r#"{"token_key":"Bearer abc","modules":{"network":{"token_key":"a b"}}}"#,
            KNOWN,
        );
        assert_eq!(c.token_key, RuntimeConfig::default().token_key);
        assert_eq!(c.module("network").token_key, None);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["token_key", "modules.network.token_key"]);
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
