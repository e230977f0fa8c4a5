//! Discount codes: staff set them up, customers put one on the cart, checkout counts
//! its use in the order's transaction (never past its limit, whatever the race), and an
//! order that ends unbought gives the use back.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::checkout::{add, address, checkout, ready_customer, shipping_to_indonesia};
use crate::{CART, product};

const DISCOUNTS: &str = "/api/v1/admin/discounts";
const CODE: &str = "/api/v1/cart/discount";

/// A code set up by finance staff, expecting 201.
async fn code(app: &TestApp, body: Value) -> Value {
    let finance = app.staff_token("finance").await;
    let res = app.post(DISCOUNTS, Some(&finance), body).await;
    res.assert_status(201);
    res.body
}

async fn times_used(app: &TestApp, id: &Value) -> i64 {
    let finance = app.staff_token("finance").await;
    let res = app
        .get(
            &format!("{DISCOUNTS}/{}", id.as_str().expect("id")),
            Some(&finance),
        )
        .await;
    res.assert_status(200);
    res.body["times_used"].as_i64().expect("times_used")
}

fn standard(home: &str) -> Value {
    json!({"address_id": home, "shipping_service": "standard"})
}

pub async fn staff_set_up_edit_and_delete_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let finance = app.staff_token("finance").await;
    let inventory = app.staff_token("inventory").await;
    let customer = app.customer_token().await;
    let spring =
        json!({"code": "Spring10", "kind": "percentage", "percent": 10, "usage_limit": 100});

    let created = app.post(DISCOUNTS, Some(&finance), spring.clone()).await;
    created.assert_status(201);
    assert_eq!(created.headers["etag"], "\"1\"");
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.body["times_used"], 0);
    assert_eq!(created.body["active"], true);
    assert_eq!(
        created.body["applies_to"],
        json!({"category_ids": [], "product_ids": []})
    );

    // No two live codes read the same, whatever their case.
    let twin = app
        .post(
            DISCOUNTS,
            Some(&finance),
            json!({"code": "SPRING10", "kind": "free_shipping"}),
        )
        .await;
    twin.assert_status(409);
    assert_eq!(twin.body["code"], "discount_code_taken");
    // Every problem at once, beside its field.
    let bad = app
        .post(
            DISCOUNTS,
            Some(&finance),
            json!({"code": "no spaces", "kind": "fixed_amount", "amount": 0, "usage_limit": 0}),
        )
        .await;
    bad.assert_status(422);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["code", "amount", "currency", "usage_limit"]);
    app.post(DISCOUNTS, Some(&inventory), spring.clone())
        .await
        .assert_status(403);
    app.get(DISCOUNTS, Some(&customer)).await.assert_status(403);
    app.get(DISCOUNTS, None).await.assert_status(401);

    let one = format!("{DISCOUNTS}/{id}");
    let stale = app
        .patch(&one, Some(&finance), json!({"percent": 15, "version": 7}))
        .await;
    stale.assert_status(412);
    app.patch(&one, Some(&finance), json!({"percent": 15}))
        .await
        .assert_status(428);
    let edited = app
        .patch(
            &one,
            Some(&finance),
            json!({"percent": 15, "ends_at": "2030-01-01T00:00:00Z", "version": 1}),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(
        (&edited.body["percent"], &edited.body["version"]),
        (&json!(15), &json!(2))
    );
    let listed = app.get(DISCOUNTS, Some(&finance)).await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());

    app.delete(&one, Some(&finance)).await.assert_status(204);
    app.get(&one, Some(&finance)).await.assert_status(404);
    app.delete(&one, Some(&finance)).await.assert_status(404);
    // Deleted, its text is free again.
    app.post(DISCOUNTS, Some(&finance), spring)
        .await
        .assert_status(201);
    let audit = app
        .get(
            "/api/v1/admin/orders/audit-log",
            Some(&app.staff_token("admin").await),
        )
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["discount.created", "discount.updated", "discount.deleted"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

pub async fn a_code_takes_its_share_off_each_line_and_the_order_keeps_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, mug) = ready_customer(&app).await;
    let inventory = app.staff_token("inventory").await;
    let plate = product(&app, &inventory, 999, 10).await;
    add(&app, &me, &plate, 1).await;
    let spring = code(
        &app,
        json!({"code": "SPRING10", "kind": "percentage", "percent": 10}),
    )
    .await;

    // Typed in any case.
    let cart = app.put(CODE, Some(&me), json!({"code": "spring10"})).await;
    cart.assert_status(200);
    // 10 % of 2500 + 999 = 349.9, rounded to 350 and split 250 / 100 by line.
    assert_eq!(cart.body["subtotal"], 3499);
    assert_eq!(cart.body["discount"], 350);
    assert_eq!(cart.body["code"]["code"], "SPRING10");
    assert_eq!(cart.body["code"]["problem"], Value::Null);
    let shares: Vec<i64> = cart.body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["discount"].as_i64().expect("discount"))
        .collect();
    assert_eq!(shares.iter().sum::<i64>(), 350);
    assert_eq!(shares, [250, 100]);

    let placed = checkout(&app, &me, Some("with-code"), standard(&home)).await;
    placed.assert_status(201);
    let order = &placed.body;
    assert_eq!(order["discount_code"], "SPRING10");
    assert_eq!(
        order["totals"],
        json!({"subtotal": 3499, "discount": 350, "shipping": 500, "total": 3649, "refunded": 0, "currency": "USD"})
    );
    let by_product = |id: &str| {
        order["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .find(|l| l["product_id"] == id)
            .expect("line")["discount"]
            .clone()
    };
    assert_eq!(
        (by_product(&mug), by_product(&plate)),
        (json!(250), json!(100))
    );
    assert_eq!(times_used(&app, &spring["id"]).await, 1);
    // The code was spent on the order: the cart holds none now.
    let after = app.get(CART, Some(&me)).await;
    assert_eq!(after.body["code"], Value::Null);

    // Payments collects the discounted total.
    let id = order["id"].as_str().expect("id");
    let paying = testkit::shop::order_when(&app, &me, id, "with a payment", |o| {
        o["payment"]["id"].is_string()
    })
    .await;
    let payment = app
        .get(
            &format!(
                "/api/v1/payments/{}",
                paying["payment"]["id"].as_str().expect("id")
            ),
            Some(&me),
        )
        .await;
    assert_eq!(payment.body["amount"], 3649);
}

pub async fn codes_that_do_not_apply_are_refused_with_their_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, mug) = ready_customer(&app).await;
    let inventory = app.staff_token("inventory").await;
    let other = product(&app, &inventory, 500, 10).await;
    code(&app, json!({"code": "LATER", "kind": "percentage", "percent": 5, "starts_at": "2999-01-01T00:00:00Z"})).await;
    code(&app, json!({"code": "GONE", "kind": "percentage", "percent": 5, "starts_at": "2001-01-01T00:00:00Z", "ends_at": "2002-01-01T00:00:00Z"})).await;
    code(&app, json!({"code": "BIGSPEND", "kind": "fixed_amount", "amount": 500, "currency": "USD", "min_subtotal": 2000})).await;
    code(&app, json!({"code": "OTHERONLY", "kind": "percentage", "percent": 50, "applies_to": {"product_ids": [other]}})).await;
    code(
        &app,
        json!({"code": "EUROS", "kind": "fixed_amount", "amount": 500, "currency": "EUR"}),
    )
    .await;
    code(
        &app,
        json!({"code": "OFF", "kind": "percentage", "percent": 5, "active": false}),
    )
    .await;

    for (typed, reason) in [
        ("NOSUCH", "discount_unknown"),
        ("OFF", "discount_unknown"),
        ("LATER", "discount_not_started"),
        ("GONE", "discount_expired"),
        ("OTHERONLY", "discount_not_applicable"),
        ("EUROS", "discount_not_applicable"),
    ] {
        let res = app.put(CODE, Some(&me), json!({"code": typed})).await;
        res.assert_status(409);
        assert_eq!(res.body["code"], reason, "{typed}");
    }
    let blank = app.put(CODE, Some(&me), json!({"code": "  "})).await;
    blank.assert_status(422);
    assert_eq!(blank.body["errors"][0]["field"], "code");

    // It applies to two mugs (25.00), and stops applying when the cart drops below.
    app.put(CODE, Some(&me), json!({"code": "BIGSPEND"}))
        .await
        .assert_status(200);
    let one_mug = app
        .patch(&crate::item(&mug), Some(&me), json!({"quantity": 1}))
        .await;
    one_mug.assert_status(200);
    assert_eq!(
        one_mug.body["code"]["problem"]["code"],
        "discount_below_minimum"
    );
    assert_eq!(one_mug.body["discount"], 0);
    assert_eq!(one_mug.body["ready_for_checkout"], false);
    let refused = checkout(&app, &me, Some("below"), standard(&home)).await;
    refused.assert_status(409);
    assert_eq!(refused.body["code"], "discount_below_minimum");
    // Taken off, checkout goes ahead at the full price.
    let cart = app.delete(CODE, Some(&me)).await;
    cart.assert_status(200);
    assert_eq!(cart.body["code"], Value::Null);
    checkout(&app, &me, Some("below"), standard(&home))
        .await
        .assert_status(201);
}

pub async fn free_shipping_waives_the_shipping(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    code(&app, json!({"code": "SHIPFREE", "kind": "free_shipping"})).await;
    let cart = app.put(CODE, Some(&me), json!({"code": "shipfree"})).await;
    cart.assert_status(200);
    assert_eq!(cart.body["code"]["free_shipping"], true);
    let placed = checkout(&app, &me, Some("free"), standard(&home)).await;
    placed.assert_status(201);
    assert_eq!(
        placed.body["totals"],
        json!({"subtotal": 2500, "discount": 500, "shipping": 500, "total": 2500, "refunded": 0, "currency": "USD"})
    );
}

/// Customers racing for a code limited to ten uses.
const RACERS: usize = 50;
const USES: i64 = 10;

pub async fn fifty_customers_racing_for_ten_uses_use_it_ten_times(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.rate_limits.enabled = false).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let mug = product(&app, &inventory, 1000, 1000).await;
    let limited = code(
        &app,
        json!({"code": "FIRST10", "kind": "percentage", "percent": 20, "usage_limit": USES}),
    )
    .await;
    let racers = futures::future::join_all((0..RACERS).map(|_| async {
        let token = app.customer_token().await;
        let home = address(&app, &token).await;
        add(&app, &token, &mug, 1).await;
        // Unused so far: every cart takes it.
        app.put(CODE, Some(&token), json!({"code": "FIRST10"}))
            .await
            .assert_status(200);
        (token, home)
    }))
    .await;

    let placed = futures::future::join_all(
        racers
            .iter()
            .map(|(token, home)| checkout(&app, token, Some("race"), standard(home))),
    )
    .await;
    let mut discounted = 0;
    for res in &placed {
        match res.status.as_u16() {
            201 => {
                assert_eq!(res.body["totals"]["discount"], 200, "{}", res.body);
                discounted += 1;
            }
            409 => assert_eq!(res.body["code"], "discount_used_up", "{}", res.body),
            other => panic!("unexpected {other}: {}", res.body),
        }
    }
    assert_eq!(discounted, USES);
    assert_eq!(times_used(&app, &limited["id"]).await, USES);
}

pub async fn one_customer_checking_out_twice_at_once_uses_a_once_only_code_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    let once = code(
        &app,
        json!({"code": "WELCOME", "kind": "percentage", "percent": 10, "per_customer_limit": 1}),
    )
    .await;
    app.put(CODE, Some(&me), json!({"code": "WELCOME"}))
        .await
        .assert_status(200);

    let (a, b) = tokio::join!(
        checkout(&app, &me, Some("phone"), standard(&home)),
        checkout(&app, &me, Some("laptop"), standard(&home)),
    );
    let with_code = [&a, &b]
        .iter()
        .filter(|r| r.status == 201 && r.body["discount_code"] == "WELCOME")
        .count();
    assert_eq!(with_code, 1, "{} / {}", a.body, b.body);
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "one cart, one order");
    assert_eq!(times_used(&app, &once["id"]).await, 1);

    // Used once, it is refused to this customer from now on.
    let inventory = app.staff_token("inventory").await;
    let more = product(&app, &inventory, 700, 10).await;
    add(&app, &me, &more, 1).await;
    let again = app.put(CODE, Some(&me), json!({"code": "WELCOME"})).await;
    again.assert_status(409);
    assert_eq!(again.body["code"], "discount_already_used");
}

pub async fn a_cancelled_order_gives_its_use_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (first, first_home, _) = ready_customer(&app).await;
    let (second, _, _) = ready_customer(&app).await;
    let single = code(
        &app,
        json!({"code": "ONLYONE", "kind": "percentage", "percent": 10, "usage_limit": 1}),
    )
    .await;
    app.put(CODE, Some(&first), json!({"code": "ONLYONE"}))
        .await
        .assert_status(200);
    let placed = checkout(&app, &first, Some("once"), standard(&first_home)).await;
    placed.assert_status(201);
    let used_up = app
        .put(CODE, Some(&second), json!({"code": "ONLYONE"}))
        .await;
    used_up.assert_status(409);
    assert_eq!(used_up.body["code"], "discount_used_up");

    let id = placed.body["id"].as_str().expect("id");
    testkit::shop::order_when(&app, &first, id, "cancellable", |o| {
        o["status"] != "pending"
    })
    .await;
    app.post(
        &format!("/api/v1/orders/{id}/cancel"),
        Some(&first),
        json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(times_used(&app, &single["id"]).await, 0);
    app.put(CODE, Some(&second), json!({"code": "ONLYONE"}))
        .await
        .assert_status(200);
}

testkit::backend_tests!(
    staff_set_up_edit_and_delete_codes,
    a_code_takes_its_share_off_each_line_and_the_order_keeps_it,
    codes_that_do_not_apply_are_refused_with_their_reason,
    free_shipping_waives_the_shipping,
    fifty_customers_racing_for_ten_uses_use_it_ten_times,
    one_customer_checking_out_twice_at_once_uses_a_once_only_code_once,
    a_cancelled_order_gives_its_use_back,
);
