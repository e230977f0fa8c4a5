//! Paging cursors come back from clients: any string decodes to a position or a 422,
//! never a panic, for each position shape the shop uses.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let Ok(cursor) = std::str::from_utf8(data) else {
        return;
    };
    let _ = platform::page::decode_cursor::<Uuid>(cursor);
    let _ = platform::page::decode_cursor::<(DateTime<Utc>, Uuid)>(cursor);
    let _ = platform::page::decode_cursor::<(i64, Uuid)>(cursor);
    let _ = platform::page::decode_cursor::<(Option<i64>, String, Uuid)>(cursor);
});
