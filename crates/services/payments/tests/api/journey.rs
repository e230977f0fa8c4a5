//! A customer buys, pays and receives; and every way that can go wrong.

use reqwest::Method;
use serde_json::json;
use testkit::shop::{
    CARD_DECLINED, CARD_NO_FUNDS, CARD_OK, add, address, order_awaiting_payment, order_when,
    paid_order, pay, product, shipping_to_indonesia,
};
use testkit::{Backend, TestApp};

use crate::{Unpaid, customer, eventually, levels, payment_path, steps, stock_when, unpaid};

async fn set_status(
    app: &TestApp,
    staff: &str,
    order: &str,
    body: serde_json::Value,
) -> testkit::TestResponse {
    app.patch(
        &format!("/api/v1/admin/orders/{order}/status"),
        Some(staff),
        body,
    )
    .await
}

pub async fn a_customer_buys_and_the_shop_delivers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (email, me) = customer(&app).await;

    let order = paid_order(&app, &me, &mug, 2).await;
    let id = order["id"].as_str().expect("id");
    assert_eq!(order["totals"]["total"], 3000);
    let payment = app
        .get(
            &payment_path(order["payment"]["id"].as_str().expect("payment")),
            Some(&me),
        )
        .await;
    payment.assert_status(200);
    assert_eq!(payment.body["status"], "succeeded");
    assert_eq!(payment.body["captured"], 3000);
    assert_eq!(payment.body["provider"], "sandbox");

    // The reservation became a sale.
    let sold = stock_when(&app, &inventory, &mug, "sold", |p| p["units_sold"] == 2).await;
    assert_eq!(levels(&sold), (3, 0, 3));

    let mut version = order["version"].as_i64().expect("version");
    for (status, tracking) in [
        ("processing", None),
        ("shipped", Some("JNE-0042")),
        ("delivered", None),
    ] {
        let mut body = json!({"status": status, "version": version});
        if let Some(t) = tracking {
            body["tracking_number"] = json!(t);
        }
        let res = set_status(&app, &inventory, id, body).await;
        res.assert_status(200);
        assert_eq!(res.body["status"], status);
        version = res.body["version"].as_i64().expect("version");
    }
    let done = app.get(&format!("/api/v1/orders/{id}"), Some(&me)).await;
    assert_eq!(done.body["shipping"]["tracking_number"], "JNE-0042");
    // Orders' trail holds each step with the tracking number it was shipped with.
    let admin = app.staff_token("admin").await;
    let trail = app
        .get(
            &format!("/api/v1/admin/orders/audit-log?target_kind=order&target_id={id}"),
            Some(&admin),
        )
        .await;
    trail.assert_status(200);
    let moves: Vec<&str> = trail.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["details"]["to"].as_str().expect("to"))
        .collect();
    assert_eq!(moves, ["delivered", "shipped", "processing"]);
    assert_eq!(
        trail.body["items"][1]["details"]["tracking_number"],
        "JNE-0042"
    );
    assert_eq!(
        steps(&done.body),
        [
            "pending",
            "awaiting_payment",
            "paid",
            "processing",
            "shipped",
            "delivered"
        ]
    );

    // A mail at each step: verification, then placed, paid, shipped, delivered.
    let mails = app.wait_for_mails(&email, 5).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    for expected in [
        "We received your order",
        "Payment received",
        "is on its way",
        "was delivered",
    ] {
        assert!(
            subjects.iter().any(|s| s.contains(expected)),
            "no mail saying {expected:?} in {subjects:?}"
        );
    }
    let shipped = mails
        .iter()
        .find(|m| m.subject.contains("on its way"))
        .expect("shipped mail");
    assert!(shipped.text.contains("JNE-0042"), "{}", shipped.text);
}

pub async fn declined_and_underfunded_cards_fail_the_order_and_free_the_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let mug = product(&app, &inventory, 1250, 4).await;
    for (card, reason) in [
        (CARD_DECLINED, "card_declined"),
        (CARD_NO_FUNDS, "insufficient_funds"),
    ] {
        let (_, me) = customer(&app).await;
        let home = address(&app, &me).await;
        add(&app, &me, &mug, 2).await;
        let order = order_awaiting_payment(&app, &me, &home).await;
        let id = order["id"].as_str().expect("id");
        let payment = order["payment"]["id"].as_str().expect("payment");
        pay(&app, &me, payment, card).await.assert_status(202);

        let failed = order_when(&app, &me, id, "payment_failed", |o| {
            o["status"] == "payment_failed"
        })
        .await;
        assert_eq!(
            steps(&failed),
            ["pending", "awaiting_payment", "payment_failed"]
        );
        let p = app.get(&payment_path(payment), Some(&me)).await;
        assert_eq!(p.body["status"], "failed");
        assert_eq!(p.body["failure_reason"], reason);
        assert_eq!(p.body["captured"], 0);
        // Another card on a failed payment is refused: the order is over.
        pay(&app, &me, payment, CARD_OK).await.assert_problem(409);
        stock_when(&app, &inventory, &mug, "released", |p| {
            p["stock"]["reserved"] == 0
        })
        .await;
    }
    let end = app
        .get(&format!("/api/v1/products/{mug}"), Some(&inventory))
        .await;
    assert_eq!(levels(&end.body), (4, 0, 4));
    assert_eq!(end.body["units_sold"], 0);
}

pub async fn a_paid_order_cancelled_by_its_customer_is_refunded_and_restocked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (email, me) = customer(&app).await;
    let order = paid_order(&app, &me, &mug, 2).await;
    let id = order["id"].as_str().expect("id");
    stock_when(&app, &inventory, &mug, "sold", |p| p["units_sold"] == 2).await;

    let cancelled = app
        .post(&format!("/api/v1/orders/{id}/cancel"), Some(&me), json!({}))
        .await;
    cancelled.assert_status(200);
    assert_eq!(cancelled.body["status"], "cancelled");

    let refunded = order_when(&app, &me, id, "refunded", |o| o["status"] == "refunded").await;
    assert_eq!(refunded["totals"]["refunded"], 3000);
    let payment = app
        .get(
            &payment_path(order["payment"]["id"].as_str().expect("payment")),
            Some(&me),
        )
        .await;
    assert_eq!(payment.body["status"], "refunded");
    assert_eq!(payment.body["refunded"], 3000);
    let back = stock_when(&app, &inventory, &mug, "restocked", |p| {
        p["units_sold"] == 0
    })
    .await;
    assert_eq!(levels(&back), (5, 0, 5));

    // A refunded order cannot be cancelled again, nor refunded twice.
    app.post(&format!("/api/v1/orders/{id}/cancel"), Some(&me), json!({}))
        .await
        .assert_problem(409);
    let mails = app.wait_for_mails(&email, 5).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("was cancelled")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("Refund for order")),
        "{subjects:?}"
    );
}

pub async fn staff_move_orders_only_along_legal_transitions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let finance = app.staff_token("finance").await;
    let mug = product(&app, &inventory, 1250, 5).await;
    let (_, me) = customer(&app).await;
    let order = paid_order(&app, &me, &mug, 1).await;
    let id = order["id"].as_str().expect("id");
    let v = order["version"].as_i64().expect("version");

    // Skipping shipping, or going back to a payment status, is refused.
    set_status(
        &app,
        &inventory,
        id,
        json!({"status": "delivered", "version": v}),
    )
    .await
    .assert_problem(409);
    set_status(
        &app,
        &inventory,
        id,
        json!({"status": "paid", "version": v}),
    )
    .await
    .assert_problem(422);
    // Shipping needs a tracking number; the version must be given and current.
    let res = set_status(
        &app,
        &inventory,
        id,
        json!({"status": "shipped", "version": v}),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["tracking_number"]);
    set_status(&app, &inventory, id, json!({"status": "processing"}))
        .await
        .assert_problem(428);
    set_status(
        &app,
        &inventory,
        id,
        json!({"status": "processing", "version": v - 1}),
    )
    .await
    .assert_problem(412);
    // Only inventory staff (and admins) fulfil orders; customers are not staff.
    set_status(
        &app,
        &finance,
        id,
        json!({"status": "processing", "version": v}),
    )
    .await
    .assert_problem(403);
    set_status(&app, &me, id, json!({"status": "processing", "version": v}))
        .await
        .assert_problem(403);
    // If-Match works as well as a version in the body.
    let res = app
        .send_with(
            Method::PATCH,
            &format!("/api/v1/admin/orders/{id}/status"),
            Some(&inventory),
            &[("if-match", &format!("\"{v}\""))],
            Some(json!({"status": "shipped", "tracking_number": "JNE 77"})),
        )
        .await;
    res.assert_status(200);
    let v = res.body["version"].as_i64().expect("version");
    // Once shipped, neither the customer nor staff can cancel.
    app.post(&format!("/api/v1/orders/{id}/cancel"), Some(&me), json!({}))
        .await
        .assert_problem(409);
    set_status(
        &app,
        &inventory,
        id,
        json!({"status": "cancelled", "version": v}),
    )
    .await
    .assert_problem(409);
}

pub async fn customers_cannot_see_or_pay_each_others_payments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: ann,
        inventory,
        order: id,
        payment,
        ..
    } = unpaid(&app, 1).await;
    let (id, payment) = (id.as_str(), payment.as_str());
    let (_, bob) = customer(&app).await;

    app.get(&payment_path(payment), Some(&bob))
        .await
        .assert_problem(404);
    pay(&app, &bob, payment, CARD_OK).await.assert_problem(404);
    app.get(&format!("/api/v1/orders/{id}"), Some(&bob))
        .await
        .assert_problem(404);
    app.post(
        &format!("/api/v1/orders/{id}/cancel"),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_problem(404);
    app.get(&payment_path(payment), None)
        .await
        .assert_problem(401);
    // Staff may look; the owner may pay.
    app.get(&payment_path(payment), Some(&inventory))
        .await
        .assert_status(200);
    app.get(&payment_path(&uuid::Uuid::now_v7().to_string()), Some(&ann))
        .await
        .assert_problem(404);
    pay(&app, &ann, payment, CARD_OK).await.assert_status(202);
    eventually(&app, &ann, &payment_path(payment), "succeeded", |p| {
        p["status"] == "succeeded"
    })
    .await;
}

pub async fn paying_twice_charges_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        inventory,
        product: mug,
        order: id,
        payment,
    } = unpaid(&app, 1).await;
    let path = format!("/api/v1/payments/{payment}/sandbox/pay");
    let card = |number: &str| json!({"card_number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"});
    let attempt = |key: &'static str, body: serde_json::Value| {
        let app = &app;
        let (me, path) = (me.clone(), path.clone());
        async move {
            app.send_with(
                Method::POST,
                &path,
                Some(&me),
                &[("idempotency-key", key)],
                Some(body),
            )
            .await
        }
    };

    // No key, a bad card: refused before anything is charged.
    app.post(&path, Some(&me), card(CARD_OK))
        .await
        .assert_problem(400);
    let bad = attempt(
        "k0",
        json!({"card_number": "4242424242424241", "exp_month": 0, "exp_year": 2099, "cvc": "1"}),
    )
    .await;
    bad.assert_problem(422);
    assert_eq!(bad.error_fields(), ["card_number", "exp_month", "cvc"]);

    // Five clicks at once with one key: one charge, five identical answers.
    let answers = futures::future::join_all((0..5).map(|_| attempt("k1", card(CARD_OK)))).await;
    for a in &answers {
        a.assert_status(202);
        assert_eq!(a.body, answers[0].body);
    }
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.headers.get("idempotent-replayed").is_some())
            .count(),
        4
    );
    // Another key, or the same key with another card: refused.
    attempt("k2", card(CARD_OK)).await.assert_problem(409);
    attempt("k1", card(CARD_DECLINED)).await.assert_problem(422);

    let paid = order_when(&app, &me, &id, "paid", |o| o["status"] == "paid").await;
    assert_eq!(steps(&paid).iter().filter(|s| *s == "paid").count(), 1);
    stock_when(&app, &inventory, &mug, "sold once", |p| {
        p["units_sold"] == 1
    })
    .await;
}

testkit::backend_tests!(
    a_customer_buys_and_the_shop_delivers,
    declined_and_underfunded_cards_fail_the_order_and_free_the_stock,
    a_paid_order_cancelled_by_its_customer_is_refunded_and_restocked,
    staff_move_orders_only_along_legal_transitions,
    customers_cannot_see_or_pay_each_others_payments,
    paying_twice_charges_once,
);
