//! The checkout saga's first step: catalog reserves every line of an order or none, and
//! the order follows (`awaiting_payment` or `rejected`). Never oversold, under races.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::checkout::{add, address, checkout, ready_customer, shipping_to_indonesia};
use crate::product;

/// Rounds of the oversell race per back-end.
const ROUNDS: usize = 20;
const CUSTOMERS: usize = 50;
const UNITS: i64 = 10;

/// The order once the saga has moved it on from `pending`.
pub async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    testkit::shop::order_when(app, token, id, "past pending", |o| o["status"] != "pending").await
}

pub async fn stock(app: &TestApp, staff: &str, product_id: &str) -> Value {
    app.get(&format!("/api/v1/products/{product_id}"), Some(staff))
        .await
        .body["stock"]
        .clone()
}

pub async fn an_order_reserves_its_stock_or_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let (me, home, mug) = ready_customer(&app).await;
    let body = json!({"address_id": home, "shipping_service": "standard"});

    let placed = checkout(&app, &me, Some("one"), body.clone()).await;
    placed.assert_status(201);
    let order = settled(&app, &me, placed.body["id"].as_str().expect("id")).await;

    assert_eq!(order["status"], "awaiting_payment");
    let steps: Vec<&str> = order["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|t| t["status"].as_str().expect("status"))
        .collect();
    assert_eq!(steps, ["pending", "awaiting_payment"]);
    // Two status changes, and the payment's arrival may have moved it once more.
    assert!(
        order["version"]
            .as_i64()
            .is_some_and(|v| (2..=3).contains(&v))
    );
    assert_eq!(
        stock(&app, &inventory, &mug).await,
        json!({"on_hand": 10, "reserved": 2, "available": 8, "version": 2})
    );

    // The reservation's answer carries the stock it left, so carts know it as soon as
    // the order awaits payment (catalog sends no separate stock event for it).
    let (watcher, _, _) = ready_customer(&app).await;
    add(&app, &watcher, &mug, 9).await;
    let cart = app.get(crate::CART, Some(&watcher)).await;
    let line = cart.body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["product_id"] == mug.as_str())
        .expect("the mug's line")
        .clone();
    assert_eq!(
        line["warnings"],
        json!([{"code": "insufficient_stock", "available": 8}])
    );

    // Someone else wants more than is left: nothing is reserved for them.
    let (other, other_home, _) = ready_customer(&app).await;
    add(&app, &other, &mug, 8).await;
    app.send_with(
        Method::PUT,
        &format!("/api/v1/products/{mug}/stock"),
        Some(&inventory),
        &[("if-match", "\"2\"")],
        Some(json!({"adjust_by": -1})),
    )
    .await
    .assert_status(200);
    // The cart may not have seen the write-off yet; catalog has the last word.
    let late = checkout(
        &app,
        &other,
        Some("two"),
        json!({"address_id": other_home, "shipping_service": "standard"}),
    )
    .await;
    if late.status == 201 {
        let rejected = settled(&app, &other, late.body["id"].as_str().expect("id")).await;
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(
            rejected["timeline"][1]["note"],
            "not enough stock for every line"
        );
    } else {
        late.assert_problem(409);
    }
    assert_eq!(
        stock(&app, &inventory, &mug).await["reserved"],
        2,
        "the rejected order holds nothing"
    );
}

/// One customer ready to race: verified, with an address.
async fn racer(app: &TestApp) -> (String, String) {
    let token = app.customer_token().await;
    let home = address(app, &token).await;
    (token, home)
}

pub async fn fifty_customers_racing_for_ten_units_never_oversell(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.rate_limits.enabled = false).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let racers = futures::future::join_all((0..CUSTOMERS).map(|_| racer(&app))).await;

    for round in 0..ROUNDS {
        let last_units = product(&app, &inventory, 500, UNITS).await;
        futures::future::join_all(
            racers
                .iter()
                .map(|(token, _)| add(&app, token, &last_units, 1)),
        )
        .await;
        let key = format!("round-{round}");
        let placed = futures::future::join_all(racers.iter().map(|(token, home)| {
            checkout(
                &app,
                token,
                Some(&key),
                json!({"address_id": home, "shipping_service": "standard"}),
            )
        }))
        .await;
        let mut outcomes = Vec::with_capacity(CUSTOMERS);
        for ((token, _), res) in racers.iter().zip(&placed) {
            if res.status == 409 {
                // Orders already knew the stock was gone: refused before any order.
                assert_eq!(res.body["code"], "cart_not_ready");
                outcomes.push("refused".to_owned());
                app.delete(&crate::item(&last_units), Some(token))
                    .await
                    .assert_status(204);
                continue;
            }
            res.assert_status(201);
            let order = settled(&app, token, res.body["id"].as_str().expect("id")).await;
            outcomes.push(order["status"].as_str().expect("status").to_owned());
        }
        let reserved = outcomes.iter().filter(|s| *s == "awaiting_payment").count();
        let turned_away = outcomes
            .iter()
            .filter(|s| *s == "rejected" || *s == "refused")
            .count();
        assert_eq!(
            (reserved, turned_away),
            (UNITS as usize, CUSTOMERS - UNITS as usize),
            "round {round}: {outcomes:?}"
        );
        let left = stock(&app, &inventory, &last_units).await;
        assert_eq!(
            (
                left["on_hand"].as_i64(),
                left["reserved"].as_i64(),
                left["available"].as_i64()
            ),
            (Some(UNITS), Some(UNITS), Some(0)),
            "round {round}"
        );
    }
}

testkit::backend_tests!(
    an_order_reserves_its_stock_or_is_rejected,
    fifty_customers_racing_for_ten_units_never_oversell,
);
