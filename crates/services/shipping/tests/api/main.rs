//! Black-box HTTP tests of the shipping service: zone and rate administration, and
//! quotes priced on chargeable weight. Every test runs on both back-ends.

mod admin;
mod quotes;

use serde_json::{Value, json};
use testkit::TestApp;

pub const ZONES: &str = "/api/v1/admin/shipping/zones";
pub const RATES: &str = "/api/v1/admin/shipping/rates";

pub fn id(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

pub async fn zone(app: &TestApp, admin: &str, body: Value) -> String {
    let res = app.post(ZONES, Some(admin), body).await;
    res.assert_status(201);
    id(&res.body)
}

/// A rate of 5.00 up to 1 kg and 9.00 up to 5 kg.
pub fn rate_body(zone_id: &str, code: &str) -> Value {
    json!({
        "zone_id": zone_id, "carrier": "Mercato Post", "service_code": code, "name": "Standard",
        "currency": "USD", "brackets": [{"up_to_grams": 1000, "price": 500}, {"up_to_grams": 5000, "price": 900}],
        "min_days": 2, "max_days": 5,
    })
}

pub async fn rate(app: &TestApp, admin: &str, body: Value) -> String {
    let res = app.post(RATES, Some(admin), body).await;
    res.assert_status(201);
    id(&res.body)
}
