//! The JSON body extractor's parser: any bytes give a value or a 400/422, never a panic,
//! for a loose shape and for a strict one like the shop's request types.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the parse matters")]
struct Shaped {
    email: String,
    quantity: Option<i64>,
    remember_me: Option<bool>,
    items: Option<Vec<Item>>,
    kind: Option<Kind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the parse matters")]
struct Item {
    product_id: uuid::Uuid,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Percentage,
    FixedAmount,
}

fuzz_target!(|data: &[u8]| {
    let _ = platform::http::parse_json::<serde_json::Value>(data);
    let _ = platform::http::parse_json::<Shaped>(data);
    let _ = platform::http::idempotency::body_fingerprint(data);
});
