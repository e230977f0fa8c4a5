//! The payment webhooks' signature checks: the sandbox's `Mercato-Signature` header and
//! Midtrans' signed body. Any header and body are refused or accepted, never a panic.
#![no_main]

use std::sync::LazyLock;

use axum::http::HeaderMap;
use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use payments::provider::Provider;
use payments::provider::midtrans::Midtrans;
use payments::provider::sandbox;

/// Built once: making a provider builds an HTTP client, far slower than a check.
static MIDTRANS: LazyLock<Midtrans> = LazyLock::new(|| {
    Midtrans::new(
        "SB-Mid-server-fuzz".to_owned().into(),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
    )
    .expect("a provider")
});

fuzz_target!(|data: &[u8]| {
    // The first line is the header, the rest the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (header, body) = data.split_at(split);
    let now = Utc.timestamp_opt(1_800_000_000, 0).single().expect("a time");
    if let Ok(header) = std::str::from_utf8(header) {
        let _ = sandbox::parse_signature_header(header);
        let _ = sandbox::check_signature("whsec-fuzz", Duration::seconds(300), header, body, now);
    }
    let _ = MIDTRANS.verify(&HeaderMap::new(), body, now);
});
