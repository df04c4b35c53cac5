//! Any well-formed `session_update`, extreme values and long strings included, through the
//! table and the formatting the views use: no panic, and the bounds hold.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use switchboard_core::Instant;
use switchboard_core::payload::{Session, SessionAction, SessionUpdate};
use switchboard_kit::format;
use switchboard_sessions::table::{MAX_LEAVING, SessionTable, SortKey, TEXT_CHARS};

fn extreme_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        any::<u64>(),
        0..10_000u64
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c]{1,2}",
        any::<String>(),
        (1usize..5000).prop_map(|n| "é".repeat(n)),
    ]
}

fn update() -> impl Strategy<Value = SessionUpdate> {
    let action = prop_oneof![
        Just(SessionAction::New),
        Just(SessionAction::Update),
        Just(SessionAction::Terminate)
    ];
    let session = (
        text(),
        text(),
        text(),
        extreme_u64(),
        extreme_u64(),
        extreme_u64(),
        text(),
    )
        .prop_map(|(id, user, ip, up, down, secs, stamp)| Session {
            session_id: id,
            username: user,
            ip_address: ip.clone(),
            nas_ip_address: ip,
            upload_bytes: up,
            download_bytes: down,
            session_time_seconds: secs,
            last_update: stamp,
            subscriber_id: None,
        });
    (action, session).prop_map(|(action, session)| SessionUpdate { action, session })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_table_takes_anything_and_stays_bounded(
        updates in prop::collection::vec((update(), extreme_u64()), 1..120),
        now in extreme_u64(),
    ) {
        let mut table = SessionTable::new(20);
        for (u, at) in updates {
            table.apply(u, Instant::from_millis(at));
            table.prune(Instant::from_millis(at));
            prop_assert!(table.len() <= 20);
        }
        let now = Instant::from_millis(now);
        table.prune(now);
        prop_assert!(table.leaving(now).count() <= MAX_LEAVING);
        for key in [SortKey::Username, SortKey::Ip, SortKey::Nas, SortKey::Upload,
                    SortKey::Download, SortKey::Rate, SortKey::Duration] {
            for row in table.sorted(key, true, now) {
                let s = &row.session;
                prop_assert!(s.session_id.chars().count() <= TEXT_CHARS);
                prop_assert!(s.username.chars().count() <= TEXT_CHARS);
                // What the row shows.
                let _ = (format::bytes(s.upload_bytes), format::bytes(s.download_bytes));
                let _ = (format::rate(row.down_bps), format::rate(row.up_bps));
                let _ = format::clock(row.duration(now));
            }
        }
        if let Some(b) = table.busiest() {
            let _ = format::rate(b.down_bps);
        }
    }
}
