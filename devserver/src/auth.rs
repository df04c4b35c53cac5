//! Development tokens: JWT, HS256, with `exp`. The same secret mints and checks them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// The claims of an operator token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The operator.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
}

/// Why a token was refused. The text goes into the 4001 close reason.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No auth frame, or not `{"type":"auth","token":"..."}`.
    Missing,
    /// The token expired.
    Expired,
    /// Bad signature, wrong algorithm or malformed.
    Invalid,
    /// The fault injector said so.
    Rejected,
}

impl AuthError {
    /// The close reason (close reasons are limited to 123 bytes).
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "auth frame missing or malformed",
            AuthError::Expired => "token expired",
            AuthError::Invalid => "token invalid",
            AuthError::Rejected => "token rejected",
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Mints a token for `sub` that expires after `ttl`.
pub fn mint(secret: &str, sub: &str, ttl: Duration) -> anyhow::Result<String> {
    let iat = unix_now();
    let claims = Claims {
        sub: sub.to_owned(),
        iat,
        exp: iat + ttl.as_secs(),
    };
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Checks a token's signature and expiry (no leeway: an expired token is expired).
pub fn verify(secret: &str, token: &str) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
        _ => AuthError::Invalid,
    })
}

/// Reads the auth frame and checks its token.
pub fn check_auth_frame(secret: &str, text: &str) -> Result<Claims, AuthError> {
    #[derive(Deserialize)]
    struct Auth {
        #[serde(rename = "type")]
        kind: String,
        token: Option<String>,
    }
    let auth: Auth = serde_json::from_str(text).map_err(|_| AuthError::Missing)?;
    match (auth.kind.as_str(), auth.token) {
        ("auth", Some(token)) => verify(secret, &token),
        _ => Err(AuthError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_bad_ones_do_not() {
        let token = mint("s3cret", "op", Duration::from_secs(60)).unwrap();
        assert_eq!(verify("s3cret", &token).unwrap().sub, "op");
        assert_eq!(verify("other", &token).unwrap_err(), AuthError::Invalid);
        assert_eq!(
            verify("s3cret", "not.a.jwt").unwrap_err(),
            AuthError::Invalid
        );
        let old = Claims {
            sub: "op".into(),
            iat: 1,
            exp: 2,
        };
        let expired = encode(
            &Header::default(),
            &old,
            &EncodingKey::from_secret(b"s3cret"),
        )
        .unwrap();
        assert_eq!(verify("s3cret", &expired).unwrap_err(), AuthError::Expired);
    }

    #[test]
    fn the_auth_frame_must_be_exact() {
        let token = mint("k", "op", Duration::from_secs(60)).unwrap();
        let frame = format!(r#"{{"type":"auth","token":"{token}"}}"#);
        assert!(check_auth_frame("k", &frame).is_ok());
        for bad in [
            "",
            "{}",
            r#"{"type":"auth"}"#,
            r#"{"type":"auth","token":null}"#,
            r#"{"type":"hello","token":"x"}"#,
        ] {
            assert_eq!(
                check_auth_frame("k", bad).unwrap_err(),
                AuthError::Missing,
                "{bad}"
            );
        }
    }
}
