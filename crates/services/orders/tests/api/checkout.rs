//! `POST /checkout` and reading orders: idempotent, verified customers only, the
//! selected lines at their current prices plus the chosen shipping.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::{CART, cart_when, product};

pub use testkit::shop::{CHECKOUT, add, address, checkout, shipping_to_indonesia};

/// A verified customer with an address and a cart holding two mugs of 12.50 (300 g each).
pub async fn ready_customer(app: &TestApp) -> (String, String, String) {
    let inventory = app.staff_token("inventory").await;
    let me = app.customer_token().await;
    let mug = product(app, &inventory, 1250, 10).await;
    let home = address(app, &me).await;
    add(app, &me, &mug, 2).await;
    (me, home, mug)
}

pub async fn a_verified_customer_checks_out_the_selected_lines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, mug) = ready_customer(&app).await;
    let inventory = app.staff_token("inventory").await;
    let later = product(&app, &inventory, 999, 10).await;
    add(&app, &me, &later, 1).await;
    app.patch(
        &format!("{CART}/items/{later}"),
        Some(&me),
        json!({"selected": false}),
    )
    .await
    .assert_status(200);

    let res = checkout(
        &app,
        &me,
        Some("first"),
        json!({"address_id": home, "shipping_service": "standard"}),
    )
    .await;

    res.assert_status(201);
    let order = &res.body;
    assert_eq!(order["status"], "pending");
    assert_eq!(
        order["totals"],
        json!({"subtotal": 2500, "discount": 0, "shipping": 500, "total": 3000, "refunded": 0, "currency": "USD"})
    );
    assert_eq!(order["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(order["lines"][0]["product_id"], mug.as_str());
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["shipping_address"]["city"], "Jakarta");
    assert_eq!(order["shipping"]["service_code"], "standard");
    assert_eq!(order["timeline"][0]["status"], "pending");
    let id = order["id"].as_str().expect("id").to_owned();
    assert_eq!(
        res.headers["location"],
        format!("/api/v1/orders/{id}").as_str()
    );
    let cart = app.get(CART, Some(&me)).await;
    assert_eq!(
        cart.body["lines"].as_array().map(Vec::len),
        Some(1),
        "the unselected line stays"
    );
    assert_eq!(cart.body["lines"][0]["product_id"], later.as_str());

    let mine = app.get("/api/v1/orders", Some(&me)).await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    let one = app.get(&format!("/api/v1/orders/{id}"), Some(&me)).await;
    one.assert_status(200);
    // The saga may already have moved the order on; the validator follows its version.
    assert_eq!(
        one.headers["etag"],
        format!("\"{}\"", one.body["version"]).as_str()
    );
    let other = app.customer_token().await;
    app.get(&format!("/api/v1/orders/{id}"), Some(&other))
        .await
        .assert_problem(404);
    assert_eq!(
        app.get("/api/v1/orders", Some(&other)).await.body["items"],
        json!([])
    );
    app.get(&format!("/api/v1/orders/{id}"), Some(&inventory))
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/orders/{id}"), None)
        .await
        .assert_problem(401);
}

pub async fn the_same_idempotency_key_replays_the_first_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    let body = json!({"address_id": home, "shipping_service": "standard"});

    // Five clients race with one key: exactly one order, and every answer names it.
    let racers = (0..5).map(|_| checkout(&app, &me, Some("same-key"), body.clone()));
    let answers = futures::future::join_all(racers).await;
    let again = checkout(
        &app,
        &me,
        Some("same-key"),
        json!({"shipping_service": "standard", "address_id": home}),
    )
    .await;
    let other_body = checkout(
        &app,
        &me,
        Some("same-key"),
        json!({"address_id": home, "shipping_service": "express"}),
    )
    .await;
    let no_key = checkout(&app, &me, None, body.clone()).await;

    let first = answers[0].body["id"].clone();
    for a in &answers {
        a.assert_status(201);
        assert_eq!(a.body["id"], first);
    }
    again.assert_status(201);
    assert_eq!(
        again.body["id"], first,
        "key order in the body does not matter"
    );
    assert_eq!(again.headers["idempotent-replayed"], "true");
    other_body.assert_problem(422);
    assert_eq!(other_body.body["code"], "idempotency_key_reused");
    no_key.assert_problem(400);
    assert_eq!(no_key.body["code"], "idempotency_key_required");
    let orders = app.get("/api/v1/orders", Some(&me)).await;
    assert_eq!(
        orders.body["items"].as_array().map(Vec::len),
        Some(1),
        "one order"
    );
}

pub async fn checkout_refuses_what_it_cannot_sell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, mug) = ready_customer(&app).await;
    let inventory = app.staff_token("inventory").await;

    let unknown_address = checkout(
        &app,
        &me,
        Some("a"),
        json!({"address_id": uuid::Uuid::now_v7(), "shipping_service": "standard"}),
    )
    .await;
    let unknown_service = checkout(
        &app,
        &me,
        Some("b"),
        json!({"address_id": home, "shipping_service": "teleport"}),
    )
    .await;
    let bad_body = checkout(&app, &me, Some("c"), json!({"address_id": home})).await;
    unknown_address.assert_problem(422);
    assert_eq!(unknown_address.error_fields(), ["address_id"]);
    unknown_service.assert_problem(422);
    assert_eq!(unknown_service.error_fields(), ["shipping_service"]);
    assert!(
        unknown_service.body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("standard")
    );
    bad_body.assert_problem(422);

    app.send_with(
        Method::PUT,
        &format!("/api/v1/products/{mug}/stock"),
        Some(&inventory),
        &[("if-match", "\"1\"")],
        Some(json!({"on_hand": 1})),
    )
    .await
    .assert_status(200);
    cart_when(&app, &me, "the shortage", |c| {
        c["ready_for_checkout"] == false
    })
    .await;
    let short = checkout(
        &app,
        &me,
        Some("d"),
        json!({"address_id": home, "shipping_service": "standard"}),
    )
    .await;
    short.assert_problem(409);
    assert_eq!(short.body["code"], "cart_not_ready");
    app.delete(&format!("{CART}/items/{mug}"), Some(&me))
        .await
        .assert_status(204);
    let empty = checkout(
        &app,
        &me,
        Some("e"),
        json!({"address_id": home, "shipping_service": "standard"}),
    )
    .await;
    empty.assert_problem(409);
    assert_eq!(empty.body["code"], "cart_empty");

    let email = format!("{}@example.test", testkit::unique("unverified"));
    app.register(&email, "correct horse battery staple", "Una")
        .await
        .assert_status(201);
    let pair = app.login(&email, "correct horse battery staple").await;
    let unverified = pair["access_token"].as_str().expect("token");
    let res = checkout(
        &app,
        unverified,
        Some("f"),
        json!({"address_id": home, "shipping_service": "standard"}),
    )
    .await;
    res.assert_problem(403);
    app.send_with(
        Method::POST,
        CHECKOUT,
        Some(&inventory),
        &[("idempotency-key", "g")],
        Some(json!({"address_id": home, "shipping_service": "standard"})),
    )
    .await
    .assert_problem(403);
    assert_eq!(
        app.get("/api/v1/orders", Some(&me)).await.body["items"],
        json!([]),
        "no order was made"
    );
}

/// Two tabs check out one cart at once, each with its own key: one order, and the
/// other tab is told the cart changed.
pub async fn two_checkouts_of_one_cart_at_once_make_one_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    for round in 0..5 {
        let (me, home, _) = ready_customer(&app).await;
        let body = json!({"address_id": home, "shipping_service": "standard"});
        let (a, b) = tokio::join!(
            checkout(&app, &me, Some("tab-one"), body.clone()),
            checkout(&app, &me, Some("tab-two"), body.clone()),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [201, 409],
            "round {round}: {} / {}",
            a.body,
            b.body
        );
        let refused = if a.status == 409 { &a } else { &b };
        assert!(
            ["cart_changed", "cart_empty"].contains(&refused.body["code"].as_str().unwrap_or("")),
            "{}",
            refused.body
        );
        let orders = app.get("/api/v1/orders", Some(&me)).await;
        assert_eq!(orders.body["items"].as_array().map(Vec::len), Some(1));
    }
}

testkit::backend_tests!(
    a_verified_customer_checks_out_the_selected_lines,
    two_checkouts_of_one_cart_at_once_make_one_order,
    the_same_idempotency_key_replays_the_first_answer,
    checkout_refuses_what_it_cannot_sell,
);
