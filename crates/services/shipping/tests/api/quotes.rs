//! `POST /shipping/quote` and `GET /shipping/areas`.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{Backend, TestApp, TestResponse};

use crate::{rate, rate_body, zone};

const QUOTE: &str = "/api/v1/shipping/quote";

async fn product(
    app: &TestApp,
    token: &str,
    price: i64,
    grams: i64,
    dims_mm: (i64, i64, i64),
) -> String {
    let res = app
        .post(
            "/api/v1/products",
            Some(token),
            json!({"name": testkit::unique("Parcel"), "description": "Ships.", "price": price, "currency": "USD",
                   "weight_grams": grams, "length_mm": dims_mm.0, "width_mm": dims_mm.1, "height_mm": dims_mm.2, "stock": 10}),
        )
        .await;
    res.assert_status(201);
    crate::id(&res.body)
}

/// Quotes once shipping has heard of every product (its replica follows catalog's events).
async fn quote(app: &TestApp, body: Value) -> TestResponse {
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    loop {
        let res = app.post(QUOTE, None, body.clone()).await;
        let unknown =
            res.status == 422 && res.error_fields().iter().all(|f| f.ends_with("product_id"));
        if !unknown || tokio::time::Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn prices(res: &TestResponse) -> Vec<(String, i64)> {
    res.body["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| {
            (
                o["service_code"].as_str().expect("code").to_owned(),
                o["price"].as_i64().expect("price"),
            )
        })
        .collect()
}

pub async fn quotes_use_the_larger_of_actual_and_volumetric_weight(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    let inventory = app.staff_token("inventory").await;
    let us = zone(
        &app,
        &admin,
        json!({"name": "United States", "country": "US"}),
    )
    .await;
    rate(&app, &admin, rate_body(&us, "standard")).await;
    let mut express = rate_body(&us, "express");
    express["brackets"] =
        json!([{"up_to_grams": 1000, "price": 1500}, {"up_to_grams": 20000, "price": 3000}]);
    rate(&app, &admin, express).await;
    // 800 g in a 10 cm cube (200 g volumetric); 300 g in a 20 × 20 × 20 cm box (1.6 kg).
    let dense = product(&app, &inventory, 2000, 800, (100, 100, 100)).await;
    let bulky = product(&app, &inventory, 2000, 300, (200, 200, 200)).await;

    let light = quote(
        &app,
        json!({"destination": {"country": "us"}, "items": [{"product_id": dense, "quantity": 1}]}),
    )
    .await;
    let by_volume = quote(&app, json!({"destination": {"country": "US", "postal_code": "10001"}, "items": [{"product_id": bulky, "quantity": 1}]})).await;
    let too_heavy_for_standard = quote(
        &app,
        json!({"destination": {"country": "US"}, "items": [{"product_id": dense, "quantity": 7}]}),
    )
    .await;

    light.assert_status(200);
    assert_eq!(
        light.body["weight"],
        json!({"actual_grams": 800, "volumetric_grams": 200, "chargeable_grams": 800})
    );
    assert_eq!(
        prices(&light),
        [("standard".to_owned(), 500), ("express".to_owned(), 1500)],
        "cheapest first"
    );
    assert_eq!(light.body["zone"], "United States");
    assert_eq!(
        light.body["options"][0]["estimated_days"],
        json!({"min": 2, "max": 5})
    );
    assert_eq!(by_volume.body["weight"]["chargeable_grams"], 1600);
    assert_eq!(
        prices(&by_volume)[0],
        ("standard".to_owned(), 900),
        "billed by volume"
    );
    assert_eq!(
        too_heavy_for_standard.body["weight"]["chargeable_grams"],
        5600
    );
    assert_eq!(
        prices(&too_heavy_for_standard),
        [("express".to_owned(), 3000)],
        "beyond the standard table"
    );
}

pub async fn free_shipping_and_the_most_specific_zone_apply(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    let inventory = app.staff_token("inventory").await;
    let us = zone(
        &app,
        &admin,
        json!({"name": "United States", "country": "US"}),
    )
    .await;
    let remote = zone(
        &app,
        &admin,
        json!({"name": "Alaska", "country": "US", "postal_prefixes": ["995"]}),
    )
    .await;
    let mut standard = rate_body(&us, "standard");
    standard["free_over"] = json!(5000);
    rate(&app, &admin, standard).await;
    let mut far = rate_body(&remote, "standard");
    far["brackets"] = json!([{"up_to_grams": 5000, "price": 2500}]);
    rate(&app, &admin, far).await;
    let item = product(&app, &inventory, 2000, 500, (100, 100, 50)).await;
    let items = |quantity: i64| json!([{"product_id": item, "quantity": quantity}]);

    let below = quote(
        &app,
        json!({"destination": {"country": "US", "postal_code": "10001"}, "items": items(2)}),
    )
    .await;
    let free = quote(
        &app,
        json!({"destination": {"country": "US", "postal_code": "10001"}, "items": items(3)}),
    )
    .await;
    let alaska = quote(
        &app,
        json!({"destination": {"country": "US", "postal_code": "99501"}, "items": items(3)}),
    )
    .await;
    let nowhere = quote(
        &app,
        json!({"destination": {"country": "FR"}, "items": items(1)}),
    )
    .await;

    assert_eq!(prices(&below), [("standard".to_owned(), 500)]);
    assert_eq!(
        prices(&free),
        [("standard".to_owned(), 0)],
        "6000 of goods ≥ 5000"
    );
    assert_eq!(alaska.body["zone"], "Alaska");
    assert_eq!(
        prices(&alaska),
        [("standard".to_owned(), 2500)],
        "the prefix zone wins, no free shipping there"
    );
    nowhere.assert_status(200);
    assert_eq!(nowhere.body["options"], json!([]));
    assert_eq!(nowhere.body["zone"], json!(null));
}

pub async fn a_bad_quote_request_names_each_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let item = product(&app, &inventory, 100, 100, (10, 10, 10)).await;
    let known = quote(
        &app,
        json!({"destination": {"country": "US"}, "items": [{"product_id": item, "quantity": 1}]}),
    )
    .await;
    known.assert_status(200);

    let res = app
        .post(QUOTE, None, json!({"destination": {"country": "Narnia"}, "items": [{"product_id": item, "quantity": 0}]}))
        .await;
    res.assert_problem(422);
    assert_eq!(
        res.error_fields(),
        ["destination.country", "items[0].quantity"]
    );
    let empty = app
        .post(
            QUOTE,
            None,
            json!({"destination": {"country": "US"}, "items": []}),
        )
        .await;
    assert_eq!(empty.error_fields(), ["items"]);
    let unknown = app
        .post(QUOTE, None, json!({"destination": {"country": "US"}, "items": [{"product_id": item, "quantity": 1}, {"product_id": uuid::Uuid::now_v7(), "quantity": 1}]}))
        .await;
    unknown.assert_problem(422);
    assert_eq!(unknown.error_fields(), ["items[1].product_id"]);
    let archived = app
        .send_with(
            reqwest::Method::DELETE,
            &format!("/api/v1/products/{item}"),
            Some(&inventory),
            &[],
            None,
        )
        .await;
    archived.assert_status(204);
    let gone = testkit_eventually(
        &app,
        json!({"destination": {"country": "US"}, "items": [{"product_id": item, "quantity": 1}]}),
    )
    .await;
    assert_eq!(
        gone.error_fields(),
        ["items[0].product_id"],
        "archived products are not quoted"
    );
}

/// Polls until the archive reaches shipping's replica.
async fn testkit_eventually(app: &TestApp, body: Value) -> TestResponse {
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    loop {
        let res = app.post(QUOTE, None, body.clone()).await;
        if res.status == 422 || tokio::time::Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn areas_list_where_the_shop_ships(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    zone(
        &app,
        &admin,
        json!({"name": "United States", "country": "US"}),
    )
    .await;
    zone(
        &app,
        &admin,
        json!({"name": "Alaska and Hawaii", "country": "US", "postal_prefixes": ["995", "967"]}),
    )
    .await;
    zone(&app, &admin, json!({"name": "Indonesia", "country": "ID"})).await;
    let names = |res: &TestResponse| -> Vec<String> {
        res.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| a["name"].as_str().expect("name").to_owned())
            .collect()
    };

    assert_eq!(
        names(&app.get("/api/v1/shipping/areas", None).await).len(),
        3
    );
    assert_eq!(
        names(&app.get("/api/v1/shipping/areas?q=id", None).await),
        ["Indonesia"]
    );
    assert_eq!(
        names(&app.get("/api/v1/shipping/areas?q=hawaii", None).await),
        ["Alaska and Hawaii"]
    );
    assert_eq!(
        names(&app.get("/api/v1/shipping/areas?q=96", None).await),
        ["Alaska and Hawaii"]
    );
    app.get(
        &format!("/api/v1/shipping/areas?q={}", "x".repeat(101)),
        None,
    )
    .await
    .assert_problem(422);
}

testkit::backend_tests!(
    quotes_use_the_larger_of_actual_and_volumetric_weight,
    free_shipping_and_the_most_specific_zone_apply,
    a_bad_quote_request_names_each_field,
    areas_list_where_the_shop_ships,
);
