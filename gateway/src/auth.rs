//! Tokens: JWTs signed with HS256 (a shared secret), or with RS256/ES256 by an identity
//! provider whose public keys are in a JWKS file, re-read when it changes.
//!
//! Every token's `exp` is checked, and `nbf`, `aud` and `iss` when the verifier is configured
//! with them. Operator tokens and publisher tokens differ by audience: a gateway accepts an
//! operator token on the sockets only, and a publisher token on `POST /publish` only, so
//! neither can stand in for the other. A token's `modules` claim, when present, names the
//! modules it may see (or publish to); without it, every module.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// The claims Switchboard reads from a token.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Claims {
    /// The operator (or the publishing system).
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at.
    #[serde(default)]
    pub iat: u64,
    /// Not valid before, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The audience: one string, or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// The issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The modules this token may see (or publish to); `None`: every module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<String>>,
    /// The operator's name as actions are attributed to them ("Ada Lovelace"); `None`: the
    /// subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The actions this token may take, as `<module>.<action>` (`sessions.disconnect`),
    /// `<module>.*` or `*`; `None` or empty: none. Actions are granted, never assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
}

impl Claims {
    /// Whether this token may see (or publish to) `module`.
    pub fn may_see(&self, module: &str) -> bool {
        self.modules
            .as_ref()
            .is_none_or(|m| m.iter().any(|name| name == module))
    }

    /// Whether this token may take `action` on `module` (see [`Claims::actions`]).
    pub fn may_act(&self, module: &str, action: &str) -> bool {
        self.may_see(module)
            && self.actions.iter().flatten().any(|grant| {
                grant == "*"
                    || grant
                        .split_once('.')
                        .is_some_and(|(m, a)| m == module && (a == "*" || a == action))
            })
    }

    /// The operator, as actions are attributed: the `name` claim, or the subject.
    pub fn operator(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.sub)
    }

    /// How long until it expires, from now.
    pub fn remaining(&self) -> Duration {
        Duration::from_secs(self.exp.saturating_sub(unix_now()))
    }
}

/// Why a token was refused. The text goes into the close reason (at most 123 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No auth frame, or not `{"type":"auth","token":"..."}`.
    Missing,
    /// The token expired.
    Expired,
    /// The token is not valid yet (`nbf`).
    NotYetValid,
    /// The token is for another audience (a publisher token on a socket, for example).
    WrongAudience,
    /// The token comes from another issuer.
    WrongIssuer,
    /// Bad signature, unknown key, wrong algorithm or malformed.
    Invalid,
    /// The development backend's fault injection said so.
    Rejected,
    /// The token is good, but does not name this module (close 4003).
    Forbidden,
}

impl AuthError {
    /// The close reason.
    pub fn reason(self) -> &'static str {
        match self {
            AuthError::Missing => "auth frame missing or malformed",
            AuthError::Expired => "token expired",
            AuthError::NotYetValid => "token not valid yet",
            AuthError::WrongAudience => "token for another audience",
            AuthError::WrongIssuer => "token from another issuer",
            AuthError::Invalid => "token invalid",
            AuthError::Rejected => "token rejected",
            AuthError::Forbidden => "module not in the token's modules claim",
        }
    }

    /// A short name for counters and metrics.
    pub fn label(self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongAudience => "audience",
            AuthError::WrongIssuer => "issuer",
            AuthError::Invalid => "invalid",
            AuthError::Rejected => "rejected",
            AuthError::Forbidden => "forbidden",
        }
    }

    /// The close code: 4003 when the token is good but the module is not its to see, 4001
    /// otherwise (the client stops retrying on both until the token changes).
    pub fn close_code(self) -> u16 {
        match self {
            AuthError::Forbidden => 4003,
            _ => 4001,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How tokens are checked: the keys, and the claims every token must carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The HS256 shared secret, if HS256 tokens are accepted.
    #[serde(default)]
    pub hs256_secret: Option<String>,
    /// A JWKS file with the RS256/ES256 public keys, if such tokens are accepted. It is
    /// re-read when it changes; a broken new version keeps the keys already loaded.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The audience operator tokens must name, if any.
    #[serde(default)]
    pub audience: Option<String>,
    /// The audience publisher tokens must name (`POST /publish`).
    #[serde(default)]
    pub publisher_audience: Option<String>,
    /// The issuer every token must name, if any.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[serde(default)]
    pub leeway_secs: u64,
}

/// The keys of a JWKS file, as last read.
#[derive(Default)]
struct Keys {
    /// The file's modification time and length when it was read.
    stamp: Option<(SystemTime, u64)>,
    /// `(kid, algorithm, key)` for every usable key.
    keys: Vec<(Option<String>, Algorithm, DecodingKey)>,
}

/// Checks tokens as an [`AuthConfig`] says.
pub struct Verifier {
    config: AuthConfig,
    hs256: Option<DecodingKey>,
    jwks: RwLock<Keys>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("hs256", &self.hs256.is_some())
            .field("jwks_file", &self.config.jwks_file)
            .field("audience", &self.config.audience)
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

/// Which kind of token a check expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// An operator's token, on a socket.
    Operator,
    /// A publishing system's token, on `POST /publish`.
    Publisher,
}

impl Verifier {
    /// A verifier as `config` says. A JWKS file that cannot be read or parsed at start is an
    /// error: a gateway that starts without its keys would refuse every operator.
    pub fn new(config: AuthConfig) -> Result<Self, String> {
        if config.hs256_secret.is_none() && config.jwks_file.is_none() {
            return Err("auth needs hs256_secret, jwks_file or both".into());
        }
        if config.publisher_audience.is_some() && config.publisher_audience == config.audience {
            return Err(
                "auth.publisher_audience must differ from auth.audience, so that \
                        an operator token can never publish"
                    .into(),
            );
        }
        let verifier = Self {
            hs256: config
                .hs256_secret
                .as_deref()
                .map(|s| DecodingKey::from_secret(s.as_bytes())),
            jwks: RwLock::new(Keys::default()),
            config,
        };
        if let Some(path) = &verifier.config.jwks_file {
            verifier.reload(path)?;
        }
        Ok(verifier)
    }

    /// HS256 with `secret`, no audience or issuer: the development backend's tokens.
    pub fn hs256(secret: &str) -> Self {
        Self {
            hs256: Some(DecodingKey::from_secret(secret.as_bytes())),
            jwks: RwLock::new(Keys::default()),
            config: AuthConfig {
                hs256_secret: Some(secret.to_owned()),
                ..AuthConfig::default()
            },
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Re-reads the JWKS file if it changed since it was read. `Ok(true)`: new keys are in
    /// use. On an error the keys already loaded stay.
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let Some(path) = &self.config.jwks_file else {
            return Ok(false);
        };
        let stamp = file_stamp(path)?;
        let current = self.jwks.read().map(|k| k.stamp).unwrap_or(None);
        if current == Some(stamp) {
            return Ok(false);
        }
        self.reload(path).map(|()| true)
    }

    fn reload(&self, path: &Path) -> Result<(), String> {
        let stamp = file_stamp(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let set: JwkSet =
            serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|e| format!("a key in {}: {e}", path.display()))?;
            keys.push((jwk.common.key_id.clone(), algorithm, key));
        }
        if keys.is_empty() {
            return Err(format!("{} has no RS256 or ES256 key", path.display()));
        }
        if let Ok(mut slot) = self.jwks.write() {
            *slot = Keys {
                stamp: Some(stamp),
                keys,
            };
        }
        Ok(())
    }

    /// Checks `token` as the kind `audience` says.
    pub fn verify(&self, token: &str, audience: Audience) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        let wanted = match audience {
            Audience::Operator => self.config.audience.as_deref(),
            Audience::Publisher => {
                // A publisher token always names its audience: without one configured, no
                // token can publish.
                Some(
                    self.config
                        .publisher_audience
                        .as_deref()
                        .ok_or(AuthError::WrongAudience)?,
                )
            }
        };
        let mut required = vec!["exp"];
        match wanted {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.config.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        let check = |key: &DecodingKey| decode::<Claims>(token, key, &validation);
        let decoded = match header.alg {
            Algorithm::HS256 => check(self.hs256.as_ref().ok_or(AuthError::Invalid)?),
            Algorithm::RS256 | Algorithm::ES256 => {
                let keys = self.jwks.read().map_err(|_| AuthError::Invalid)?;
                let mut candidates = keys.keys.iter().filter(|(kid, alg, _)| {
                    *alg == header.alg && (header.kid.is_none() || *kid == header.kid)
                });
                match candidates.next() {
                    Some((_, _, key)) => check(key),
                    None => return Err(AuthError::Invalid),
                }
            }
            _ => return Err(AuthError::Invalid),
        };
        decoded.map(|data| data.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
                    AuthError::WrongAudience
                }
                ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::WrongIssuer,
                _ => AuthError::Invalid,
            }
        })
    }
}

fn file_stamp(path: &Path) -> Result<(SystemTime, u64), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok((meta.modified().unwrap_or(UNIX_EPOCH), meta.len()))
}

/// Mints an HS256 token for `sub` that expires after `ttl` (development and tests).
pub fn mint(secret: &str, sub: &str, ttl: Duration) -> anyhow::Result<String> {
    mint_claims(secret, &claims_for(sub, ttl))
}

/// Claims for `sub`, issued now, valid for `ttl`, and nothing else.
fn claims_for(sub: &str, ttl: Duration) -> Claims {
    let iat = unix_now();
    Claims {
        sub: sub.to_owned(),
        iat,
        exp: iat + ttl.as_secs(),
        ..Claims::default()
    }
}

/// Mints an HS256 token for a development operator who may take every action (the
/// development backend's `/dev/config.json` and `token` command).
pub fn mint_operator(secret: &str, sub: &str, ttl: Duration) -> anyhow::Result<String> {
    let claims = Claims {
        actions: Some(vec!["*".to_owned()]),
        ..claims_for(sub, ttl)
    };
    mint_claims(secret, &claims)
}

/// Mints an HS256 token with these exact claims (development and tests).
pub fn mint_claims(secret: &str, claims: &Claims) -> anyhow::Result<String> {
    Ok(encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Reads the auth frame and checks its operator token.
pub fn check_auth_frame(verifier: &Verifier, text: &str) -> Result<Claims, AuthError> {
    #[derive(Deserialize)]
    struct Auth {
        #[serde(rename = "type")]
        kind: String,
        token: Option<String>,
    }
    let auth: Auth = serde_json::from_str(text).map_err(|_| AuthError::Missing)?;
    match (auth.kind.as_str(), auth.token) {
        ("auth", Some(token)) => verifier.verify(&token, Audience::Operator),
        _ => Err(AuthError::Missing),
    }
}

#[cfg(test)]
mod tests;
