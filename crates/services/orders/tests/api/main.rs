//! Black-box HTTP tests of the orders service: the cart and the wishlist, on both
//! back-ends.

mod admin;
mod cart;
mod checkout;
mod lifecycle;
mod saga;
mod wishlist;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::TestApp;

pub const CART: &str = "/api/v1/cart";

/// A product made by `inventory`, returning its id.
pub async fn product(app: &TestApp, inventory: &str, price: i64, stock: i64) -> String {
    let res = app
        .post(
            "/api/v1/products",
            Some(inventory),
            json!({"name": testkit::unique("Mug"), "description": "For tea.", "price": price, "currency": "USD",
                   "weight_grams": 300, "length_mm": 100, "width_mm": 100, "height_mm": 100, "stock": stock}),
        )
        .await;
    res.assert_status(201);
    res.body["id"].as_str().expect("id").to_owned()
}

pub fn item(product_id: &str) -> String {
    format!("{CART}/items/{product_id}")
}

/// Polls the cart until `check` accepts it: the cart shows catalog's changes once their
/// events reach orders.
pub async fn cart_when(
    app: &TestApp,
    token: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let res = app.get(CART, Some(token)).await;
        res.assert_status(200);
        if check(&res.body) {
            return res.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {}",
            res.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
