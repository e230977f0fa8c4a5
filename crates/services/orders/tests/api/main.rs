//! Black-box HTTP tests of the orders service: the cart and the wishlist, on both
//! back-ends.

mod admin;
mod admin_filters;
mod cart;
mod checkout;
mod discounts;
mod lifecycle;
mod live;
mod saga;
mod soak;
mod wishlist;

use std::time::Duration;

use serde_json::Value;
use testkit::TestApp;

pub const CART: &str = "/api/v1/cart";

pub use testkit::shop::product;

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
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
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
