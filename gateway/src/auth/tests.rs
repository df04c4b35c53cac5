use super::*;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

fn now() -> u64 {
    unix_now()
}

fn claims(sub: &str) -> Claims {
    Claims {
        sub: sub.into(),
        iat: now(),
        exp: now() + 60,
        ..Claims::default()
    }
}

/// A token signed with one of the test keys (`alg` RS256 or ES256, kid as in jwks.json).
fn signed(alg: Algorithm, kid: Option<&str>, claims: &Claims) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_der(
            &std::fs::read(format!("{KEYS}/rs256.der")).expect("the test RSA key"),
        ),
        _ => EncodingKey::from_ec_der(
            &std::fs::read(format!("{KEYS}/es256.der")).expect("the test EC key"),
        ),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).expect("signs")
}

fn jwks_verifier(extra: AuthConfig) -> Verifier {
    Verifier::new(AuthConfig {
        jwks_file: Some(format!("{KEYS}/jwks.json").into()),
        ..extra
    })
    .expect("the test JWKS loads")
}

#[test]
fn minted_tokens_verify_and_bad_ones_do_not() {
    let v = Verifier::hs256("s3cret");
    let token = mint("s3cret", "op", Duration::from_secs(60)).unwrap();
    assert_eq!(v.verify(&token, Audience::Operator).unwrap().sub, "op");
    let other = Verifier::hs256("other");
    assert_eq!(
        other.verify(&token, Audience::Operator).unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(
        v.verify("not.a.jwt", Audience::Operator).unwrap_err(),
        AuthError::Invalid
    );
    let expired = mint_claims(
        "s3cret",
        &Claims {
            iat: 1,
            exp: 2,
            ..claims("op")
        },
    )
    .unwrap();
    assert_eq!(
        v.verify(&expired, Audience::Operator).unwrap_err(),
        AuthError::Expired
    );
}

#[test]
fn the_auth_frame_must_be_exact() {
    let v = Verifier::hs256("k");
    let token = mint("k", "op", Duration::from_secs(60)).unwrap();
    let frame = format!(r#"{{"type":"auth","token":"{token}"}}"#);
    assert!(check_auth_frame(&v, &frame).is_ok());
    for bad in [
        "",
        "{}",
        r#"{"type":"auth"}"#,
        r#"{"type":"auth","token":null}"#,
        r#"{"type":"hello","token":"x"}"#,
    ] {
        assert_eq!(
            check_auth_frame(&v, bad).unwrap_err(),
            AuthError::Missing,
            "{bad}"
        );
    }
}

#[test]
fn audience_issuer_and_not_before_are_checked() {
    let v = Verifier::new(AuthConfig {
        hs256_secret: Some("k".into()),
        audience: Some("switchboard".into()),
        publisher_audience: Some("switchboard-publisher".into()),
        issuer: Some("https://id.example.net".into()),
        ..AuthConfig::default()
    })
    .unwrap();
    let good = Claims {
        aud: Some("switchboard".into()),
        iss: Some("https://id.example.net".into()),
        ..claims("op")
    };
    let token = |c: &Claims| mint_claims("k", c).unwrap();
    assert!(v.verify(&token(&good), Audience::Operator).is_ok());
    let cases = [
        (
            Claims {
                aud: None,
                ..good.clone()
            },
            AuthError::WrongAudience,
        ),
        (
            Claims {
                aud: Some("switchboard-publisher".into()),
                ..good.clone()
            },
            AuthError::WrongAudience,
        ),
        (
            Claims {
                iss: Some("https://evil.example".into()),
                ..good.clone()
            },
            AuthError::WrongIssuer,
        ),
        (
            Claims {
                iss: None,
                ..good.clone()
            },
            AuthError::WrongIssuer,
        ),
        (
            Claims {
                nbf: Some(now() + 600),
                ..good.clone()
            },
            AuthError::NotYetValid,
        ),
    ];
    for (c, expected) in cases {
        assert_eq!(
            v.verify(&token(&c), Audience::Operator).unwrap_err(),
            expected,
            "{c:?}"
        );
    }
    // An operator token never publishes, and a publisher token never opens a socket.
    assert_eq!(
        v.verify(&token(&good), Audience::Publisher).unwrap_err(),
        AuthError::WrongAudience
    );
    let publisher = Claims {
        aud: Some("switchboard-publisher".into()),
        ..good.clone()
    };
    assert!(v.verify(&token(&publisher), Audience::Publisher).is_ok());
    // Without a publisher audience configured, nothing publishes.
    assert_eq!(
        Verifier::hs256("k")
            .verify(&token(&publisher), Audience::Publisher)
            .unwrap_err(),
        AuthError::WrongAudience
    );
}

#[test]
fn the_publisher_audience_must_differ_from_the_operators() {
    let same = Verifier::new(AuthConfig {
        hs256_secret: Some("k".into()),
        audience: Some("a".into()),
        publisher_audience: Some("a".into()),
        ..AuthConfig::default()
    });
    assert!(same.is_err());
    assert!(
        Verifier::new(AuthConfig::default()).is_err(),
        "no keys at all"
    );
}

#[test]
fn rs256_and_es256_tokens_verify_against_the_jwks() {
    let v = jwks_verifier(AuthConfig::default());
    for (alg, kid) in [
        (Algorithm::RS256, Some("test-rsa")),
        (Algorithm::ES256, Some("test-ec")),
        (Algorithm::ES256, None),
    ] {
        let token = signed(alg, kid, &claims("idp-user"));
        assert_eq!(
            v.verify(&token, Audience::Operator).unwrap().sub,
            "idp-user",
            "{alg:?} {kid:?}"
        );
    }
    // A kid the JWKS does not hold, or an HS256 token with no secret configured (so a token
    // "signed" with a public key as an HMAC secret, the classic algorithm confusion, has
    // nothing to verify against).
    let unknown = signed(Algorithm::RS256, Some("rotated-away"), &claims("x"));
    assert_eq!(
        v.verify(&unknown, Audience::Operator).unwrap_err(),
        AuthError::Invalid
    );
    let hs = mint("k", "x", Duration::from_secs(60)).unwrap();
    assert_eq!(
        v.verify(&hs, Audience::Operator).unwrap_err(),
        AuthError::Invalid
    );
    // Expiry is checked whatever the algorithm.
    let expired = signed(
        Algorithm::ES256,
        Some("test-ec"),
        &Claims {
            exp: now() - 10,
            ..claims("x")
        },
    );
    assert_eq!(
        v.verify(&expired, Audience::Operator).unwrap_err(),
        AuthError::Expired
    );
}

#[test]
fn a_changed_jwks_file_is_read_again_and_a_broken_one_keeps_the_old_keys() {
    let dir = std::env::temp_dir().join(format!("sb-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{KEYS}/jwks.json")).unwrap())
            .unwrap();
    let only = |kid: &str| {
        let keys: Vec<_> = full["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kid"] == kid)
            .cloned()
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    };
    std::fs::write(&path, only("test-rsa")).unwrap();
    let v = Verifier::new(AuthConfig {
        jwks_file: Some(path.clone()),
        ..AuthConfig::default()
    })
    .unwrap();
    let ec = signed(Algorithm::ES256, Some("test-ec"), &claims("x"));
    assert_eq!(
        v.verify(&ec, Audience::Operator).unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(v.reload_if_changed(), Ok(false), "unchanged");
    // The identity provider rotates: the EC key joins (a longer file: a new stamp, even
    // within the file system's timestamp resolution).
    std::fs::write(&path, format!("{}\n", full)).unwrap();
    assert_eq!(v.reload_if_changed(), Ok(true));
    assert!(v.verify(&ec, Audience::Operator).is_ok());
    // A half-written file is an error, and the keys stay.
    std::fs::write(&path, "{\"keys\": [").unwrap();
    assert!(v.reload_if_changed().is_err());
    assert!(v.verify(&ec, Audience::Operator).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_modules_claim_limits_what_a_token_sees() {
    let all = claims("op");
    assert!(all.may_see("billing"));
    let some = Claims {
        modules: Some(vec!["network".into(), "sessions".into()]),
        ..claims("op")
    };
    assert!(some.may_see("network") && !some.may_see("billing"));
    assert_eq!(AuthError::Forbidden.close_code(), 4003);
    assert_eq!(AuthError::Expired.close_code(), 4001);
}
