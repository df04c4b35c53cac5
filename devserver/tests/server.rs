//! The devserver over real sockets on port 0: auth, protocol conformance, limits, faults,
//! shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use futures::SinkExt;
use switchboard_core::frame::decode_envelope;
use switchboard_core::payload::BANDWIDTH_UPDATE;
use switchboard_core::{Config, Connection, Event, Instant, SocketId};
use switchboard_devserver::Control;
use tokio_tungstenite::tungstenite::Message;

const SEC: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_valid_token_gets_protocol_conformant_traffic() {
    let server = start().await;
    let mut client = authed(&server, "network").await;
    // Decode with the client's own state machine, as the browser would.
    let config = Config {
        channels: vec!["bandwidth_update", "network_status"],
        ..Config::default()
    };
    let mut conn = Connection::decoder(config);
    let now = Instant::from_millis(0);
    let mut bandwidth = 0;
    while bandwidth < 2 {
        let Some(Message::Text(text)) = next(&mut client, 5 * SEC).await else {
            panic!("no traffic")
        };
        let env = decode_envelope(&text, 1 << 20).unwrap();
        assert!(env.timestamp.is_some(), "every frame is stamped: {text}");
        conn.handle(
            now,
            Event::Text {
                socket: SocketId(0),
                text: &text,
            },
        );
        while let Some(cmd) = conn.poll() {
            if let switchboard_core::Command::Deliver(frame) = cmd
                && frame.channel() == "bandwidth_update"
            {
                let b = BANDWIDTH_UPDATE.decode(&frame).unwrap();
                assert!(b.download_mbps > 0.0);
                bandwidth += 1;
            }
        }
    }
    assert_eq!(conn.stats().total_drops(), 0);
    let report = report(&server).await;
    assert_eq!(report["network"]["auth_ok"], 1);
    assert!(
        report["network"]["first_frames"][0]
            .as_str()
            .unwrap()
            .contains(r#""type":"auth""#)
    );
}

#[tokio::test]
async fn bad_auth_closes_with_4001() {
    let server = start().await;
    let expired = switchboard_devserver::auth::mint_claims(
        SECRET,
        &switchboard_devserver::auth::Claims {
            sub: "x".into(),
            iat: 1,
            exp: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let wrong_key =
        switchboard_devserver::auth::mint("other", "x", Duration::from_secs(60)).unwrap();
    for first in [
        format!(r#"{{"type":"auth","token":"{expired}"}}"#),
        format!(r#"{{"type":"auth","token":"{wrong_key}"}}"#),
        r#"{"type":"hello"}"#.to_owned(),
    ] {
        let mut client = connect(&server, "sessions").await;
        client.send(Message::text(first.clone())).await.unwrap();
        assert_eq!(
            close_code(&mut client, 3 * SEC).await,
            Some(4001),
            "{first}"
        );
    }
    // Auth that never arrives: closed after the timeout.
    let mut late = connect(&server, "sessions").await;
    assert_eq!(close_code(&mut late, 3 * SEC).await, Some(4001));
    assert_eq!(report(&server).await["sessions"]["auth_rejected"], 4);
}

#[tokio::test]
async fn the_inbound_rate_limit_closes_with_1008() {
    let mut settings = settings();
    settings.rate_per_minute = 5;
    let server = start_with(settings, vec![], 8).await;
    let mut client = authed(&server, "billing").await;
    for i in 0..6 {
        client
            .send(Message::text(format!(r#"{{"type":"ping","data":{i}}}"#)))
            .await
            .unwrap();
    }
    assert_eq!(close_code(&mut client, 3 * SEC).await, Some(1008));
}

#[tokio::test]
async fn an_oversized_inbound_frame_ends_the_connection() {
    let server = start().await;
    let mut client = authed(&server, "support").await;
    let big = format!(r#"{{"type":"x","data":"{}"}}"#, "a".repeat(70 * 1024));
    let _ = client.send(Message::text(big)).await;
    let code = close_code(&mut client, 3 * SEC).await;
    assert_eq!(
        code,
        Some(1009),
        "closed for size, with the code that says so"
    );
    let deadline = tokio::time::Instant::now() + 3 * SEC;
    while report(&server).await["support"]["open"] != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection is gone"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn foreign_origins_are_refused_and_loopback_ones_accepted() {
    let server = start_with(settings(), vec!["https://ops.example.net".into()], 8).await;
    assert!(
        connect_with_origin(&server, "network", "http://127.0.0.1:8080")
            .await
            .is_ok()
    );
    assert!(
        connect_with_origin(&server, "network", "https://ops.example.net")
            .await
            .is_ok()
    );
    let err = connect_with_origin(&server, "network", "https://evil.example")
        .await
        .unwrap_err();
    assert!(err.contains("403"), "{err}");
}

#[tokio::test]
async fn the_connection_cap_refuses_extra_clients() {
    let server = start_with(settings(), vec![], 1).await;
    let _first = authed(&server, "network").await;
    let err = refused(&server, "network").await;
    assert!(err.contains("503"), "{err}");
}

#[tokio::test]
async fn faults_drop_refuse_silence_and_malform() {
    let server = start().await;
    let mut client = authed(&server, "network").await;
    assert!(next(&mut client, 5 * SEC).await.is_some(), "traffic flows");

    control(&server, "/_control/network/malformed").await;
    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + 10 * SEC;
    while kinds.len() < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {kinds:?} arrived"
        );
        match next(&mut client, 5 * SEC)
            .await
            .expect("malformed frames arrive")
        {
            Message::Binary(_) => kinds.push("binary".to_owned()),
            Message::Text(t) if t.len() > 1 << 20 => kinds.push("oversized".to_owned()),
            Message::Text(t) => match decode_envelope(&t, 1 << 20) {
                Err(reason) => kinds.push(reason.as_str().to_owned()),
                Ok(env) if env.kind == "no_such_channel" => kinds.push("unknown".to_owned()),
                Ok(env) if env.data.get().contains("unexpected") => kinds.push("shape".to_owned()),
                Ok(_) => {} // regular traffic in between
            },
            _ => {}
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "binary",
            "missing_type",
            "not_json",
            "oversized",
            "shape",
            "unknown"
        ]
    );

    control(&server, "/_control/network/silent?on=true").await;
    // Drain what was in flight, then expect silence for longer than the 2 s cadence.
    while next(&mut client, Duration::from_millis(300))
        .await
        .is_some()
    {}
    assert!(
        next(&mut client, Duration::from_millis(2500))
            .await
            .is_none(),
        "silent"
    );
    control(&server, "/_control/network/silent?on=false").await;
    assert!(next(&mut client, 5 * SEC).await.is_some(), "talking again");

    control(&server, "/_control/network/drop").await;
    assert_eq!(
        close_code(&mut client, 3 * SEC).await,
        None,
        "dropped without a close frame"
    );

    control(&server, "/_control/network/refuse?secs=30").await;
    let err = refused(&server, "network").await;
    assert!(err.contains("503"), "{err}");
}

#[tokio::test]
async fn injected_auth_rejection_and_scripts() {
    let server = start().await;
    control(&server, "/_control/sessions/reject-auth?on=true").await;
    let mut rejected = authed(&server, "sessions").await;
    assert_eq!(close_code(&mut rejected, 3 * SEC).await, Some(4001));
    control(&server, "/_control/sessions/reject-auth?on=false").await;

    let mut client = authed(&server, "sessions").await;
    next(&mut client, 5 * SEC)
        .await
        .expect("authenticated and receiving");
    let script = r#"[{"type":"session_update","data":{"marker":"scripted"}}]"#;
    control_body(&server, "/_control/sessions/script", script).await;
    let mut found = false;
    for _ in 0..50 {
        if let Some(Message::Text(t)) = next(&mut client, 5 * SEC).await
            && t.contains("scripted")
        {
            found = true;
            break;
        }
    }
    assert!(found, "the scripted frame arrives");
}

#[tokio::test]
async fn a_flood_arrives_at_the_requested_rate() {
    let server = start().await;
    let mut client = authed(&server, "network").await;
    next(&mut client, 5 * SEC).await.expect("authenticated");
    control(&server, "/_control/network/flood?rate=2000&secs=1").await;
    let started = tokio::time::Instant::now();
    let mut frames = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        if next(&mut client, Duration::from_millis(500))
            .await
            .is_some()
        {
            frames += 1;
        }
    }
    assert!(
        (1500..=2600).contains(&frames),
        "{frames} frames in ~1 s at 2000/s"
    );
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1012() {
    let server = start().await;
    let mut a = authed(&server, "network").await;
    let mut b = authed(&server, "billing").await;
    next(&mut a, 5 * SEC).await.expect("a is live");
    let _ = server.stop.send(());
    assert_eq!(close_code(&mut a, 5 * SEC).await, Some(1012));
    assert_eq!(close_code(&mut b, 5 * SEC).await, Some(1012));
    tokio::time::timeout(5 * SEC, server.task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

/// The status line's code of a raw response.
fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn control_refuses_simple_posts_and_pages_elsewhere() {
    let server = start_with(settings(), vec!["https://demo.example".into()], 8).await;
    let json = "Content-Type: application/json\r\n";
    let drop = "/_control/network/drop";
    // A form or text/plain post is what a page elsewhere can send without asking first.
    for simple in [
        "",
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
    ] {
        assert_eq!(
            status(&http(&server, "POST", drop, simple, "").await),
            415,
            "{simple:?}"
        );
    }
    assert_eq!(status(&http(&server, "POST", drop, json, "").await), 200);
    let evil = "Origin: https://evil.example\r\n";
    for (method, path) in [
        ("POST", drop),
        ("GET", "/_control/report"),
        ("GET", "/dev/config.json"),
    ] {
        let out = http(&server, method, path, &format!("{evil}{json}"), "").await;
        assert_eq!(status(&out), 403, "{method} {path}: {out}");
        assert!(!out.contains("eyJ"), "no token for a page elsewhere");
    }
    // `--allow-origin` and loopback pages, including IPv6 loopback, may; with their own
    // origin echoed, never `*`.
    for origin in [
        "https://demo.example",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:3000",
    ] {
        let out = http(
            &server,
            "POST",
            drop,
            &format!("Origin: {origin}\r\n{json}"),
            "",
        )
        .await;
        assert_eq!(status(&out), 200, "{origin}: {out}");
        let lower = out.to_ascii_lowercase();
        assert!(
            lower.contains(&format!("access-control-allow-origin: {origin}")),
            "{out}"
        );
    }
    // The browser's preflight: answered for allowed pages only.
    let ask = |origin: &str| {
        format!(
            "Origin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n"
        )
    };
    let ok = http(&server, "OPTIONS", drop, &ask("http://127.0.0.1:9"), "")
        .await
        .to_ascii_lowercase();
    assert!(
        ok.contains("access-control-allow-origin: http://127.0.0.1:9"),
        "{ok}"
    );
    let no = http(&server, "OPTIONS", drop, &ask("https://evil.example"), "")
        .await
        .to_ascii_lowercase();
    assert!(!no.contains("access-control-allow-origin"), "{no}");
}

#[tokio::test]
async fn control_parameters_are_bounded() {
    let server = start().await;
    let json = "Content-Type: application/json\r\n";
    for path in [
        "/_control/network/flood?rate=4294967295&secs=1",
        "/_control/network/flood?rate=0",
        "/_control/network/flood?rate=1000&secs=18446744073709551615",
        "/_control/network/refuse?secs=18446744073709551615",
        "/_control/network/refuse?secs=0",
        "/_control/network/refuse?secs=ten",
        "/_control/network/silent?on=maybe",
    ] {
        let out = http(&server, "POST", path, json, "").await;
        assert_eq!(status(&out), 400, "{path}: {out}");
    }
    assert_eq!(
        status(
            &http(
                &server,
                "POST",
                "/_control/network/refuse?secs=3600",
                json,
                ""
            )
            .await
        ),
        200
    );
    let bad_script = http(&server, "POST", "/_control/network/script", json, "{").await;
    assert_eq!(status(&bad_script), 400);
}

#[tokio::test]
async fn an_ipv6_loopback_page_may_open_a_socket() {
    let server = start().await;
    assert!(
        connect_with_origin(&server, "network", "http://[::1]:8080")
            .await
            .is_ok()
    );
    assert!(
        connect_with_origin(&server, "network", "http://[::1].evil.example")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn control_behind_a_proxy_needs_its_secret_and_a_host_this_server_answers_for() {
    // DNS rebinding: a page on evil.example, its name pointed at this machine, sends GETs
    // with its own Host. Loopback hosts and allowed origins' hosts are served.
    let server = start_with(settings(), vec!["https://demo.example".into()], 8).await;
    for (host, want) in [
        ("evil.example", 403),
        ("evil.example:8090", 403),
        ("127.0.0.1:8090", 200),
        ("localhost", 200),
        ("[::1]:8090", 200),
        ("demo.example", 200),
    ] {
        let out = http_to(&server, host, "GET", "/dev/config.json", "", "").await;
        assert_eq!(status(&out), want, "Host: {host}: {out}");
        assert_eq!(
            out.contains("eyJ"),
            want == 200,
            "a token only for {host} if served"
        );
    }
    // `--control` with a secret: every peer may look local behind a proxy, so the secret
    // decides.
    let secret = "a-control-secret-of-32-characters";
    let server = start_controlled(settings(), vec![], 8, Control::Secret(secret.into())).await;
    let json = "Content-Type: application/json\r\n";
    for auth in [
        "",
        "Authorization: Bearer wrong\r\n",
        "Authorization: a-control-secret-of-32-characters\r\n",
    ] {
        let out = http(
            &server,
            "POST",
            "/_control/network/drop",
            &format!("{auth}{json}"),
            "",
        )
        .await;
        assert_eq!(status(&out), 401, "{auth:?}: {out}");
    }
    let bearer = format!("Authorization: Bearer {secret}\r\n{json}");
    let out = http(&server, "POST", "/_control/network/drop", &bearer, "").await;
    assert_eq!(status(&out), 200, "{out}");
    // A non-loopback bind without `--control`: not served at all.
    let server = start_controlled(settings(), vec![], 8, Control::Off).await;
    let out = http(&server, "GET", "/_control/report", "", "").await;
    assert_eq!(status(&out), 404, "{out}");
}

#[test]
fn a_public_bind_refuses_the_development_secret_and_control_without_a_secret() {
    use switchboard_devserver::Control;
    use switchboard_devserver::control_for;
    assert!(
        control_for(false, false, None, true).is_err(),
        "dev secret, public bind"
    );
    assert_eq!(control_for(false, false, None, false), Ok(Control::Off));
    assert!(
        control_for(false, true, None, false).is_err(),
        "--control needs a secret"
    );
    assert!(control_for(false, true, Some("short"), false).is_err());
    assert_eq!(
        control_for(false, true, Some("0123456789abcdef"), false),
        Ok(Control::Secret("0123456789abcdef".into()))
    );
    assert_eq!(control_for(true, false, None, true), Ok(Control::Loopback));
}
