//! Ending an order early: cancelled by its customer, or expired unpaid. Either way its
//! reserved stock goes back on sale.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::checkout::{checkout, ready_customer, shipping_to_indonesia};
use crate::saga::{settled, stock};

async fn reserved_order(app: &TestApp) -> (String, String, String) {
    shipping_to_indonesia(app).await;
    let (me, home, mug) = ready_customer(app).await;
    let placed = checkout(
        app,
        &me,
        Some("k"),
        json!({"address_id": home, "shipping_service": "standard"}),
    )
    .await;
    placed.assert_status(201);
    let id = placed.body["id"].as_str().expect("id").to_owned();
    assert_eq!(settled(app, &me, &id).await["status"], "awaiting_payment");
    (me, id, mug)
}

/// Catalog's stock once it shows `reserved`.
async fn reserved_becomes(app: &TestApp, staff: &str, product: &str, reserved: i64) -> Value {
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    loop {
        let s = stock(app, staff, product).await;
        if s["reserved"] == reserved {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reserved stays {}",
            s["reserved"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn a_customer_cancels_before_paying_and_the_stock_returns(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (me, id, mug) = reserved_order(&app).await;
    let inventory = app.staff_token("inventory").await;
    assert_eq!(stock(&app, &inventory, &mug).await["reserved"], 2);
    let path = format!("/api/v1/orders/{id}/cancel");
    let stranger = app.customer_token().await;
    app.post(&path, Some(&stranger), json!({}))
        .await
        .assert_problem(404);
    app.post(&path, None, json!({})).await.assert_problem(401);

    let cancelled = app.post(&path, Some(&me), json!({})).await;

    cancelled.assert_status(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let last = cancelled.body["timeline"]
        .as_array()
        .expect("timeline")
        .last()
        .cloned()
        .expect("a step");
    assert_eq!(last["status"], "cancelled");
    assert_eq!(last["note"], "cancelled by the customer");
    let back = reserved_becomes(&app, &inventory, &mug, 0).await;
    assert_eq!(back["available"], 10);
    let again = app.post(&path, Some(&me), json!({})).await;
    again.assert_problem(409);
    assert_eq!(again.body["code"], "not_cancellable");
}

pub async fn an_unpaid_order_expires_and_releases_its_stock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.orders.expiry_sweep_secs = 1;
        s.orders.payment_timeout_mins = 30;
    })
    .await;
    let (me, id, mug) = reserved_order(&app).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        settled(&app, &me, &id).await["status"],
        "awaiting_payment",
        "not yet due"
    );
    app.advance_clock(chrono::Duration::minutes(31));
    // Tokens from before the jump have expired; staff may read any order.
    let inventory = app.staff_token("inventory").await;

    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    let order = loop {
        let o = app
            .get(&format!("/api/v1/orders/{id}"), Some(&inventory))
            .await
            .body;
        if o["status"] == "cancelled" {
            break o;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the order did not expire: {o}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last = order["timeline"]
        .as_array()
        .expect("timeline")
        .last()
        .cloned()
        .expect("a step");
    assert_eq!(last["note"], "payment not received in time");
    reserved_becomes(&app, &inventory, &mug, 0).await;
}

testkit::backend_tests!(
    a_customer_cancels_before_paying_and_the_stock_returns,
    an_unpaid_order_expires_and_releases_its_stock,
);
