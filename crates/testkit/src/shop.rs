//! Shopping steps shared by the suites: a product, somewhere to ship to, an address, a
//! cart, a checkout and a paid order, each through the public API.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{ShopClient, TestResponse};

pub const CHECKOUT: &str = "/api/v1/checkout";

/// How long a step waits for events to cross between services. Long, because a loaded
/// 2-core CI machine can be slow; it only costs time when a test is failing anyway.
pub const PATIENCE: Duration = Duration::from_secs(45);

/// The sandbox provider's card that always succeeds.
pub const CARD_OK: &str = "4242424242424242";
/// The sandbox provider's card that is always declined.
pub const CARD_DECLINED: &str = "4000000000000002";
/// The sandbox provider's card that fails for insufficient funds.
pub const CARD_NO_FUNDS: &str = "4000000000009995";

/// A product made by `inventory` (USD, 300 g, 10 cm cube), returning its id.
pub async fn product(app: &ShopClient, inventory: &str, price: i64, stock: i64) -> String {
    let res = app
        .post(
            "/api/v1/products",
            Some(inventory),
            json!({"name": crate::unique("Mug"), "description": "For tea.", "price": price, "currency": "USD",
                   "weight_grams": 300, "length_mm": 100, "width_mm": 100, "height_mm": 100, "stock": stock}),
        )
        .await;
    res.assert_status(201);
    let id = res.body["id"].as_str().expect("id").to_owned();
    known_to_shipping(app, &id).await;
    id
}

/// A product named `name` at `price` (USD) in a new category shown on the home page;
/// returns (product id, product slug, category slug).
pub async fn product_on_home(
    app: &ShopClient,
    name: &str,
    price: i64,
    stock: i64,
) -> (String, String, String) {
    let inventory = app.staff_token("inventory").await;
    let category = app
        .post(
            "/api/v1/categories",
            Some(&inventory),
            json!({"name": crate::unique("Kitchen"), "show_on_home": true}),
        )
        .await;
    category.assert_status(201);
    let product = app
        .post(
            "/api/v1/products",
            Some(&inventory),
            json!({"name": name, "description": "Hand-thrown stoneware.\nDishwasher safe.", "price": price,
                   "currency": "USD", "weight_grams": 1250, "length_mm": 300, "width_mm": 200, "height_mm": 45,
                   "category_ids": [category.body["id"]], "stock": stock}),
        )
        .await;
    product.assert_status(201);
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    known_to_shipping(app, &text(&product.body["id"])).await;
    (
        text(&product.body["id"]),
        text(&product.body["slug"]),
        text(&category.body["slug"]),
    )
}

/// Waits until shipping has heard of the product from catalog's events, so that a
/// checkout right after does not race the event and find no shipping quote.
pub async fn known_to_shipping(app: &ShopClient, product_id: &str) {
    let body = json!({"destination": {"country": "ID"}, "items": [{"product_id": product_id, "quantity": 1}]});
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let res = app.post("/api/v1/shipping/quote", None, body.clone()).await;
        if res.status == 200 {
            return;
        }
        res.assert_problem(422);
        assert!(
            tokio::time::Instant::now() < deadline,
            "shipping never heard of product {product_id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A shop that ships to Indonesia: `standard`, 5.00 up to 1 kg, 9.00 up to 5 kg.
pub async fn shipping_to_indonesia(app: &ShopClient) {
    ships_to_indonesia(
        app,
        json!({"carrier": "Mercato Post", "service_code": "standard", "name": "Standard", "currency": "USD",
               "brackets": [{"up_to_grams": 1000, "price": 500}, {"up_to_grams": 5000, "price": 900}],
               "min_days": 2, "max_days": 4}),
    )
    .await;
}

/// An Indonesia shipping zone with one `rate` (a rate body without its `zone_id`).
pub async fn ships_to_indonesia(app: &ShopClient, mut rate: Value) {
    let admin = app.staff_token("admin").await;
    let zone = app
        .post(
            "/api/v1/admin/shipping/zones",
            Some(&admin),
            json!({"name": "Indonesia", "country": "ID"}),
        )
        .await;
    zone.assert_status(201);
    rate["zone_id"] = zone.body["id"].clone();
    app.post("/api/v1/admin/shipping/rates", Some(&admin), rate)
        .await
        .assert_status(201);
}

/// Adds an address in Jakarta to the customer's account, returning its id.
pub async fn address(app: &ShopClient, token: &str) -> String {
    let res = app
        .post(
            "/api/v1/me/addresses",
            Some(token),
            json!({"label": "Home", "recipient_name": "Ann Lee", "phone": "+62 812-3456-7890", "line1": "Jl. Sudirman 1",
                   "city": "Jakarta", "postal_code": "10220", "country": "ID"}),
        )
        .await;
    res.assert_status(201);
    res.body["id"].as_str().expect("id").to_owned()
}

/// Puts `quantity` of a product in the cart. Orders learns of products from catalog's
/// events and waits a few seconds for one it has not seen; on a loaded machine the event
/// can take longer, so a 404 is retried as a client would.
pub async fn add(app: &ShopClient, token: &str, product_id: &str, quantity: i64) {
    let body = json!({"product_id": product_id, "quantity": quantity});
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let res = app
            .post("/api/v1/cart/items", Some(token), body.clone())
            .await;
        if res.status != 404 || tokio::time::Instant::now() >= deadline {
            res.assert_status(200);
            return;
        }
    }
}

pub async fn checkout(
    app: &ShopClient,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> TestResponse {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    app.send_with(Method::POST, CHECKOUT, Some(token), &headers, Some(body))
        .await
}

/// Follows an order (as `token` sees it) until `check` accepts it, the way a client
/// should: long polls from the version last seen, answered when the order changes.
pub async fn order_when(
    app: &ShopClient,
    token: &str,
    order_id: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut url = format!("/api/v1/orders/{order_id}");
    loop {
        let res = app.get(&url, Some(token)).await;
        res.assert_status(200);
        if check(&res.body) {
            return res.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for order {order_id} to be {what}: {}",
            res.body
        );
        url = format!(
            "/api/v1/orders/{order_id}?wait_for_change_from={}&timeout_ms=2000",
            res.body["version"]
        );
    }
}

/// Checks out the cart to `address_id` with the `standard` service, expecting 201;
/// returns the placed order.
pub async fn place(app: &ShopClient, token: &str, address_id: &str) -> Value {
    let key = crate::unique("key");
    let body = json!({"address_id": address_id, "shipping_service": "standard"});
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let placed = loop {
        let res = checkout(app, token, Some(&key), body.clone()).await;
        // Checkout waits a few seconds for the customer's verification and address to
        // reach orders, and shipping for the products; past that it refuses (403, 422 on
        // the address, 503) and a client retries with the same key, which nothing has
        // been stored under yet.
        let lagging = res.status == 403
            || res.status == 503
            || (res.status == 422 && res.body.to_string().contains("address_id"));
        if !lagging || tokio::time::Instant::now() >= deadline {
            break res;
        }
    };
    placed.assert_status(201);
    placed.body
}

/// Checks out the cart to the Indonesian `address_id` and waits until the order awaits
/// payment with its payment opened. Returns the order.
pub async fn order_awaiting_payment(app: &ShopClient, token: &str, address_id: &str) -> Value {
    let placed = place(app, token, address_id).await;
    let id = placed["id"].as_str().expect("order id");
    order_when(app, token, id, "awaiting payment with a payment", |o| {
        o["status"] == "awaiting_payment" && o["payment"]["id"].is_string()
    })
    .await
}

/// Pays a payment with a sandbox card; the answer only says the card was taken, the
/// result arrives through the provider's webhook.
pub async fn pay(app: &ShopClient, token: &str, payment_id: &str, card: &str) -> TestResponse {
    app.send_with(
        Method::POST,
        &format!("/api/v1/payments/{payment_id}/sandbox/pay"),
        Some(token),
        &[("idempotency-key", &crate::unique("pay"))],
        Some(json!({"card_number": card, "exp_month": 12, "exp_year": 2099, "cvc": "123"})),
    )
    .await
}

/// Asks for a refund of a payment as `token` (finance), under a fresh `Idempotency-Key`.
pub async fn refund(app: &ShopClient, token: &str, payment_id: &str, body: Value) -> TestResponse {
    refund_with_key(app, token, payment_id, &crate::unique("refund"), body).await
}

pub async fn refund_with_key(
    app: &ShopClient,
    token: &str,
    payment_id: &str,
    key: &str,
    body: Value,
) -> TestResponse {
    app.send_with(
        Method::POST,
        &format!("/api/v1/admin/payments/{payment_id}/refund"),
        Some(token),
        &[("idempotency-key", key)],
        Some(body),
    )
    .await
}

/// A customer's paid order for `quantity` of `product_id`, shipped to Indonesia (the
/// shop must ship there: [`shipping_to_indonesia`]). Returns the paid order.
pub async fn paid_order(app: &ShopClient, token: &str, product_id: &str, quantity: i64) -> Value {
    let home = address(app, token).await;
    add(app, token, product_id, quantity).await;
    let order = order_awaiting_payment(app, token, &home).await;
    let payment = order["payment"]["id"].as_str().expect("payment id");
    pay(app, token, payment, CARD_OK).await.assert_status(202);
    let id = order["id"].as_str().expect("order id");
    order_when(app, token, id, "paid", |o| o["status"] == "paid").await
}

/// Walks a paid order through processing and shipping to delivered, as the shop's
/// inventory staff would. Returns the delivered order.
pub async fn deliver(app: &ShopClient, order: &Value) -> Value {
    let staff = app.staff_token("inventory").await;
    let id = order["id"].as_str().expect("order id");
    let mut version = order["version"].as_i64().expect("version");
    let mut latest = order.clone();
    for (status, tracking) in [
        ("processing", None),
        ("shipped", Some("JNE-0042")),
        ("delivered", None),
    ] {
        let mut body = json!({"status": status, "version": version});
        if let Some(t) = tracking {
            body["tracking_number"] = json!(t);
        }
        let res = app
            .patch(
                &format!("/api/v1/admin/orders/{id}/status"),
                Some(&staff),
                body,
            )
            .await;
        res.assert_status(200);
        version = res.body["version"].as_i64().expect("version");
        latest = res.body;
    }
    latest
}

/// Posts a buyer's review. Orders announces a payment on the bus, so catalog hears of
/// the purchase a moment after the order reads `paid`: while the answer is
/// `purchase_required`, this asks again, for up to `PATIENCE`.
pub async fn post_as_buyer(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> TestResponse {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let sent = client.post(url).bearer_auth(token).json(body).send();
        let res = ShopClient::read(sent.await.expect("request sent")).await;
        if res.body["code"] != "purchase_required" || tokio::time::Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A buyer's review, expecting 201; returns it.
pub async fn review(app: &ShopClient, token: &str, product_id: &str, body: Value) -> Value {
    let url = app.url(&format!("/api/v1/products/{product_id}/reviews"));
    let res = post_as_buyer(&app.client, &url, token, &body).await;
    res.assert_status(201);
    res.body
}
