//! Finance refunds: partial then full, never more than was taken, even when two staff
//! press the button at once.

use serde_json::json;
use testkit::shop::{
    order_when, paid_order, product, refund, refund_with_key, shipping_to_indonesia,
};
use testkit::{Backend, TestApp};

use crate::{customer, eventually, payment_path};

pub async fn finance_refunds_in_part_then_in_full(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let finance = app.staff_token("finance").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (email, me) = customer(&app).await;
    let order = paid_order(&app, &me, &mug, 2).await;
    let id = order["id"].as_str().expect("id");
    let payment = order["payment"]["id"].as_str().expect("payment");

    // Only finance (and admins) refund.
    refund(&app, &inventory, payment, json!({"amount": 500}))
        .await
        .assert_problem(403);
    refund(&app, &me, payment, json!({"amount": 500}))
        .await
        .assert_problem(403);
    for bad in [
        json!({"amount": 0}),
        json!({"amount": -5}),
        json!({"amount": 3001}),
        json!({"amount": 1, "tip": 1}),
    ] {
        refund(&app, &finance, payment, bad)
            .await
            .assert_problem(422);
    }

    let part = refund(
        &app,
        &finance,
        payment,
        json!({"amount": 500, "reason": "a chipped mug"}),
    )
    .await;
    part.assert_status(202);
    assert_eq!(part.body["status"], "pending");
    let p = eventually(&app, &me, &payment_path(payment), "partly refunded", |p| {
        p["status"] == "partially_refunded"
    })
    .await;
    assert_eq!(p["refunded"], 500);
    let o = order_when(&app, &me, id, "refund noted", |o| {
        o["totals"]["refunded"] == 500
    })
    .await;
    assert_eq!(o["status"], "paid");

    // The rest, without naming the amount.
    refund(&app, &finance, payment, json!({}))
        .await
        .assert_status(202);
    let p = eventually(&app, &me, &payment_path(payment), "refunded", |p| {
        p["status"] == "refunded"
    })
    .await;
    assert_eq!(p["refunded"], 3000);
    assert_eq!(p["refunds"].as_array().expect("refunds").len(), 2);
    order_when(&app, &me, id, "refunded", |o| o["status"] == "refunded").await;
    refund(&app, &finance, payment, json!({}))
        .await
        .assert_problem(409);
    // Both requests are in payments' trail, for admins only.
    let trail = format!("/api/v1/admin/payments/audit-log?target_id={payment}");
    app.get(&trail, Some(&finance)).await.assert_problem(403);
    let admin = app.staff_token("admin").await;
    let entries = app.get(&trail, Some(&admin)).await;
    entries.assert_status(200);
    let items = entries.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items
            .iter()
            .all(|e| e["action"] == "payment.refund_requested")
    );
    let mails = app.wait_for_mails(&email, 5).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains("Refund for order"))
            .count(),
        2
    );
}

pub async fn two_full_refunds_at_once_give_back_the_money_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let finance = app.staff_token("finance").await;
    let other = app.staff_token("finance").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (_, me) = customer(&app).await;
    let order = paid_order(&app, &me, &mug, 1).await;
    let payment = order["payment"]["id"].as_str().expect("payment");

    let (a, b) = tokio::join!(
        refund(&app, &finance, payment, json!({})),
        refund(&app, &other, payment, json!({})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409]);
    let p = eventually(&app, &me, &payment_path(payment), "refunded", |p| {
        p["status"] == "refunded"
    })
    .await;
    assert_eq!(p["refunded"], 1750);
    assert_eq!(p["refunds"].as_array().expect("refunds").len(), 1);
}

/// A double click on "refund" sends the same request twice, at once: one refund, one
/// answer, and the same key with another amount is refused.
pub async fn a_refund_sent_twice_under_one_key_refunds_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let finance = app.staff_token("finance").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (_, me) = customer(&app).await;
    let order = paid_order(&app, &me, &mug, 2).await;
    let payment = order["payment"]["id"].as_str().expect("payment");
    let path = format!("/api/v1/admin/payments/{payment}/refund");
    app.post(&path, Some(&finance), json!({"amount": 100}))
        .await
        .assert_problem(400);

    let body = json!({"amount": 400, "reason": "late delivery"});
    let (a, b) = tokio::join!(
        refund_with_key(&app, &finance, payment, "double-click", body.clone()),
        refund_with_key(&app, &finance, payment, "double-click", body.clone()),
    );

    a.assert_status(202);
    b.assert_status(202);
    assert_eq!(a.body["id"], b.body["id"], "one refund, answered twice");
    let again = refund_with_key(&app, &finance, payment, "double-click", body).await;
    again.assert_status(202);
    assert_eq!(again.body["id"], a.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    refund_with_key(
        &app,
        &finance,
        payment,
        "double-click",
        json!({"amount": 500}),
    )
    .await
    .assert_problem(422);
    let p = eventually(&app, &me, &payment_path(payment), "partly refunded", |p| {
        p["status"] == "partially_refunded"
    })
    .await;
    assert_eq!(p["refunded"], 400);
    assert_eq!(p["refunds"].as_array().expect("refunds").len(), 1);
}

testkit::backend_tests!(
    finance_refunds_in_part_then_in_full,
    two_full_refunds_at_once_give_back_the_money_once,
    a_refund_sent_twice_under_one_key_refunds_once,
);
