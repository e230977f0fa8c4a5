//! `PUT /api/v1/products/{id}/stock`: inventory staff set or adjust the count on hand
//! against the stock's own version; stock never goes below zero.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{
    create_product, customer, id_of, ids, if_match, inventory, list, product_path, put_stock,
    staff, staff_view, stock_path, text,
};

pub async fn stock_is_set_and_adjusted_against_its_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");

    let set = put_stock(&app, Some(&token), id, json!({"on_hand": 12, "version": 1})).await;
    let adjusted = if_match(
        &app,
        Method::PUT,
        &stock_path(id),
        &token,
        2,
        Some(json!({"adjust_by": -4})),
    )
    .await;
    let delivery = put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": 10, "version": 3}),
    )
    .await;

    set.assert_status(200);
    assert_eq!(set.headers["etag"], "\"2\"");
    assert_eq!(
        set.body,
        json!({"on_hand": 12, "reserved": 0, "available": 12, "version": 2})
    );
    adjusted.assert_status(200);
    assert_eq!(adjusted.body["on_hand"], 8);
    assert_eq!(adjusted.body["version"], 3);
    delivery.assert_status(200);
    assert_eq!(delivery.body["on_hand"], 18);
    let read = staff_view(&app, &token, id).await;
    assert_eq!(
        read["stock"],
        json!({"on_hand": 18, "reserved": 0, "available": 18, "version": 4})
    );
    assert_eq!(
        read["version"], 1,
        "stock changes leave the product's version alone"
    );
}

pub async fn a_stale_or_missing_stock_version_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");
    put_stock(&app, Some(&token), id, json!({"on_hand": 9, "version": 1}))
        .await
        .assert_status(200);

    let stale = put_stock(&app, Some(&token), id, json!({"on_hand": 1, "version": 1})).await;
    let stale_header = if_match(
        &app,
        Method::PUT,
        &stock_path(id),
        &token,
        1,
        Some(json!({"adjust_by": -1})),
    )
    .await;
    let missing = put_stock(&app, Some(&token), id, json!({"on_hand": 1})).await;
    let product_version = put_stock(
        &app,
        Some(&token),
        id,
        json!({"on_hand": 1, "version": p["version"].clone()}),
    )
    .await;

    stale.assert_problem(412);
    stale_header.assert_problem(412);
    missing.assert_problem(428);
    product_version.assert_problem(412);
    assert_eq!(staff_view(&app, &token, id).await["stock"]["on_hand"], 9);
}

pub async fn stock_needs_exactly_one_of_on_hand_and_adjust_by(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");

    let both = put_stock(
        &app,
        Some(&token),
        id,
        json!({"on_hand": 3, "adjust_by": 1, "version": 1}),
    )
    .await;
    let neither = put_stock(&app, Some(&token), id, json!({"version": 1})).await;

    for res in [&both, &neither] {
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["on_hand"]);
    }
    assert_eq!(
        staff_view(&app, &token, id).await["stock"],
        json!({"on_hand": 5, "reserved": 0, "available": 5, "version": 1})
    );
}

pub async fn stock_never_goes_below_zero(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");

    let too_much = put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": -6, "version": 1}),
    )
    .await;
    let negative = put_stock(&app, Some(&token), id, json!({"on_hand": -1, "version": 1})).await;
    let to_zero = put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": -5, "version": 1}),
    )
    .await;

    too_much.assert_problem(409);
    negative.assert_problem(422);
    assert_eq!(negative.error_fields(), vec!["on_hand"]);
    to_zero.assert_status(200);
    assert_eq!(to_zero.body["on_hand"], 0);
    assert_eq!(
        to_zero.body["version"], 2,
        "refused changes do not bump the version"
    );
    put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": -1, "version": 2}),
    )
    .await
    .assert_problem(409);
    assert_eq!(staff_view(&app, &token, id).await["stock"]["on_hand"], 0);
}

/// Every count in the shop stays within a billion, so no sum of counts can overflow.
pub async fn stock_stays_within_a_billion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");

    for (body, field) in [
        (json!({"on_hand": i64::MAX, "version": 1}), "on_hand"),
        (json!({"on_hand": 1_000_000_001, "version": 1}), "on_hand"),
        (json!({"adjust_by": i64::MIN, "version": 1}), "adjust_by"),
        (json!({"adjust_by": 999_999_996, "version": 1}), "adjust_by"),
    ] {
        let res = put_stock(&app, Some(&token), id, body.clone()).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec![field], "{body}: {}", res.text);
    }

    let most = put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": 999_999_995, "version": 1}),
    )
    .await;
    most.assert_status(200);
    assert_eq!(most.body["on_hand"], 1_000_000_000);
}

pub async fn availability_follows_the_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let other = create_product(&app, &token, "Gadget", 500).await;
    let id = text(&p, "id");

    put_stock(&app, Some(&token), id, json!({"on_hand": 0, "version": 1}))
        .await
        .assert_status(200);
    let sold_out = app.get(&product_path(id), None).await;
    let in_stock_only = list(&app, "in_stock=true").await;
    put_stock(
        &app,
        Some(&token),
        id,
        json!({"adjust_by": 3, "version": 2}),
    )
    .await
    .assert_status(200);
    let restocked = app.get(&product_path(id), None).await;

    sold_out.assert_status(200);
    assert_eq!(sold_out.body["in_stock"], false);
    assert_eq!(sold_out.body["available"], 0);
    assert_eq!(ids(&in_stock_only), [id_of(&other)]);
    assert_eq!(restocked.body["in_stock"], true);
    assert_eq!(restocked.body["available"], 3);
    assert_eq!(ids(&list(&app, "in_stock=true").await).len(), 2);
}

pub async fn stock_of_an_unknown_product_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let ghost = uuid::Uuid::now_v7().to_string();

    let res = put_stock(
        &app,
        Some(&token),
        &ghost,
        json!({"on_hand": 1, "version": 1}),
    )
    .await;

    res.assert_problem(404);
}

pub async fn stock_changes_need_an_inventory_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shopper = customer(&app).await;
    let finance = staff(&app, "finance").await;
    let p = create_product(&app, &token, "Widget", 500).await;
    let id = text(&p, "id");
    let change = json!({"on_hand": 100, "version": 1});

    put_stock(&app, None, id, change.clone())
        .await
        .assert_problem(401);
    put_stock(&app, Some(&shopper), id, change.clone())
        .await
        .assert_problem(403);
    put_stock(&app, Some(&finance), id, change.clone())
        .await
        .assert_problem(403);
    put_stock(&app, Some("not-a-token"), id, change.clone())
        .await
        .assert_problem(401);
    let admin = staff(&app, "admin").await;

    assert_eq!(
        staff_view(&app, &token, id).await["stock"],
        json!({"on_hand": 5, "reserved": 0, "available": 5, "version": 1})
    );
    put_stock(&app, Some(&admin), id, change)
        .await
        .assert_status(200);
}

testkit::backend_tests!(
    stock_is_set_and_adjusted_against_its_version,
    a_stale_or_missing_stock_version_is_refused,
    stock_needs_exactly_one_of_on_hand_and_adjust_by,
    stock_never_goes_below_zero,
    stock_stays_within_a_billion,
    availability_follows_the_stock,
    stock_of_an_unknown_product_is_not_found,
    stock_changes_need_an_inventory_token,
);
