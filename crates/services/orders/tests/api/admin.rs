//! `GET /admin/orders`: staff see every order, filtered and paged.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::checkout::{checkout, ready_customer, shipping_to_indonesia};
use crate::saga::settled;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

pub async fn staff_list_orders_by_status_and_customer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let staff = app.staff_token("inventory").await;
    let body = |home: &str| json!({"address_id": home, "shipping_service": "standard"});
    let (ann, ann_home, _) = ready_customer(&app).await;
    let (bob, bob_home, _) = ready_customer(&app).await;
    let first = checkout(&app, &ann, Some("a"), body(&ann_home)).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let second = checkout(&app, &bob, Some("b"), body(&bob_home)).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    settled(&app, &ann, &first).await;
    settled(&app, &bob, &second).await;
    app.post(
        &format!("/api/v1/orders/{first}/cancel"),
        Some(&ann),
        json!({}),
    )
    .await
    .assert_status(200);

    let all = app.get("/api/v1/admin/orders", Some(&staff)).await;
    all.assert_status(200);
    assert_eq!(
        ids(&all.body),
        [second.as_str(), first.as_str()],
        "newest first"
    );
    let cancelled = app
        .get("/api/v1/admin/orders?status=cancelled", Some(&staff))
        .await;
    assert_eq!(ids(&cancelled.body), [first.as_str()]);
    let one_page = app.get("/api/v1/admin/orders?limit=1", Some(&staff)).await;
    assert_eq!(ids(&one_page.body), [second.as_str()]);
    let cursor = one_page.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = app
        .get(
            &format!("/api/v1/admin/orders?limit=1&cursor={cursor}"),
            Some(&staff),
        )
        .await;
    assert_eq!(ids(&next.body), [first.as_str()]);
    assert_eq!(next.body["next_cursor"], json!(null));
    let customer = checkout_customer(&app, &staff, &second).await;
    let bobs = app
        .get(
            &format!("/api/v1/admin/orders?customer_id={customer}"),
            Some(&staff),
        )
        .await;
    assert_eq!(ids(&bobs.body), [second.as_str()]);
    let future = app
        .get(
            "/api/v1/admin/orders?from=2999-01-01T00:00:00Z",
            Some(&staff),
        )
        .await;
    assert_eq!(future.body["items"], json!([]));

    let bad = app
        .get("/api/v1/admin/orders?status=lost", Some(&staff))
        .await;
    bad.assert_problem(422);
    assert_eq!(bad.error_fields(), ["status"]);
    app.get("/api/v1/admin/orders?from=yesterday", Some(&staff))
        .await
        .assert_problem(422);
    app.get("/api/v1/admin/orders", Some(&ann))
        .await
        .assert_problem(403);
    app.get("/api/v1/admin/orders", None)
        .await
        .assert_problem(401);
}

/// The customer an order belongs to, as staff see it through the filter's own answer.
async fn checkout_customer(app: &TestApp, staff: &str, order_id: &str) -> String {
    let all = app.get("/api/v1/admin/orders", Some(staff)).await;
    let order = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["id"] == order_id)
        .cloned()
        .expect("the order is listed");
    order["customer_id"]
        .as_str()
        .expect("customer_id")
        .to_owned()
}

testkit::backend_tests!(
    staff_list_orders_by_status_and_customer,
    staff_read_todays_orders_and_revenue,
);

/// The dashboard's figures: orders and revenue (less refunds) per currency, orders by
/// status, payments failed today.
pub async fn staff_read_todays_orders_and_revenue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    testkit::shop::shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = testkit::shop::product(&app, &inventory, 1_000, 10).await;
    let ann = app.customer_token().await;
    let paid = testkit::shop::paid_order(&app, &ann, &product, 2).await;
    let paid_id = paid["id"].as_str().expect("id").to_owned();
    let total = paid["totals"]["total"].as_i64().expect("total");
    let bob = app.customer_token().await;
    let address = testkit::shop::address(&app, &bob).await;
    testkit::shop::add(&app, &bob, &product, 1).await;
    let placed = checkout(
        &app,
        &bob,
        Some("summary-bob"),
        json!({"address_id": address, "shipping_service": "standard"}),
    )
    .await;
    placed.assert_status(201);
    let bobs = placed.body["id"].as_str().expect("id").to_owned();
    settled(&app, &bob, &bobs).await;
    app.post(
        &format!("/api/v1/orders/{bobs}/cancel"),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_status(200);
    let finance = app.staff_token("finance").await;
    let payment = paid["payment"]["id"].as_str().expect("payment");
    testkit::shop::refund(&app, &finance, payment, json!({"amount": 100}))
        .await
        .assert_status(202);
    testkit::shop::order_when(&app, &ann, &paid_id, "refunded 100", |o| {
        o["totals"]["refunded"] == 100
    })
    .await;

    let summary = app
        .get("/api/v1/admin/orders/summary", Some(&inventory))
        .await;
    summary.assert_status(200);
    let usd = json!([{"currency": "USD", "orders": 2, "paid_orders": 1, "revenue": total - 100}]);
    assert_eq!(summary.body["today"], usd, "{}", summary.body);
    assert_eq!(summary.body["last_7_days"], usd);
    assert_eq!(
        summary.body["by_status"],
        json!([{"status": "cancelled", "orders": 1}, {"status": "paid", "orders": 1}])
    );
    assert_eq!(summary.body["payments_failed_today"], 0);

    app.get("/api/v1/admin/orders/summary", Some(&ann))
        .await
        .assert_problem(403);
    app.get("/api/v1/admin/orders/summary", None)
        .await
        .assert_problem(401);
}
