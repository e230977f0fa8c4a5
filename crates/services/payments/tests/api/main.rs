//! Black-box HTTP tests of payments and the checkout saga around it, on both back-ends:
//! the whole journey, every failure branch, webhooks that arrive twice, late, forged or
//! replayed, refunds, a crash between committing and publishing, and the Midtrans
//! adapter against a fake that follows Midtrans' docs.

mod crash;
mod journey;
mod midtrans;
mod refunds;
mod webhooks;

use std::time::Duration;

use serde_json::Value;
use testkit::TestApp;
use testkit::shop::{add, address, order_awaiting_payment, product, shipping_to_indonesia};

pub const PASSWORD: &str = "correct horse battery staple";

/// A verified customer's email and access token.
pub async fn customer(app: &TestApp) -> (String, String) {
    let email = format!("{}@example.test", testkit::unique("buyer"));
    let pair = app.verified_customer(&email, PASSWORD).await;
    let token = pair["access_token"].as_str().expect("token").to_owned();
    (email, token)
}

pub fn payment_path(id: &str) -> String {
    format!("/api/v1/payments/{id}")
}

/// Polls `path` (as `token`) until `check` accepts the body.
pub async fn eventually(
    app: &TestApp,
    token: &str,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let res = app.get(path, Some(token)).await;
        res.assert_status(200);
        if check(&res.body) {
            return res.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what} at {path}: {}",
            res.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A product's stock as staff see it, once `check` accepts it.
pub async fn stock_when(
    app: &TestApp,
    staff: &str,
    product: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/api/v1/products/{product}");
    eventually(app, staff, &path, what, |p| check(p)).await
}

/// The statuses of an order's timeline, in order.
pub fn steps(order: &Value) -> Vec<String> {
    order["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|t| t["status"].as_str().expect("status").to_owned())
        .collect()
}

/// A product's (on_hand, reserved, available), as staff see it.
pub fn levels(product: &Value) -> (i64, i64, i64) {
    let n = |k: &str| product["stock"][k].as_i64().expect("stock level");
    (n("on_hand"), n("reserved"), n("available"))
}

/// An order nobody has paid yet, and who is who around it.
pub struct Unpaid {
    pub customer: String,
    pub inventory: String,
    pub product: String,
    pub order: String,
    pub payment: String,
}

/// A shop shipping to Indonesia and a 12.50 mug with 5 in stock, `quantity` of which a
/// fresh customer has checked out: the order awaits payment, its payment opened.
pub async fn unpaid(app: &TestApp, quantity: i64) -> Unpaid {
    shipping_to_indonesia(app).await;
    let inventory = app.staff_token("inventory").await;
    let mug = product(app, &inventory, 1250, 5).await;
    let (_, me) = customer(app).await;
    let home = address(app, &me).await;
    add(app, &me, &mug, quantity).await;
    let order = order_awaiting_payment(app, &me, &home).await;
    let text = |v: &Value| v.as_str().expect("an id").to_owned();
    Unpaid {
        order: text(&order["id"]),
        payment: text(&order["payment"]["id"]),
        customer: me,
        inventory,
        product: mug,
    }
}
