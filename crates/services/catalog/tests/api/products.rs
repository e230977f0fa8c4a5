//! `/api/v1/products`: inventory staff create, edit (against the version they read) and
//! archive products; anyone reads the live ones by id or slug.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{
    PRODUCTS, create_category, create_product, create_product_with, customer, id_of, ids, if_match,
    if_none_match, inventory, list, pick, product_body, product_path, staff, staff_view, text,
};

fn full_body(category_id: &Value) -> Value {
    json!({
        "name": "Trail Runner 2",
        "slug": "trail-runner-2",
        "description": "A light shoe for rough paths.",
        "price": 12_999,
        "currency": "usd",
        "weight_grams": 640,
        "length_mm": 330,
        "width_mm": 210,
        "height_mm": 120,
        "category_ids": [category_id],
        "stock": 7,
    })
}

pub async fn a_product_is_created_with_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shoes = create_category(&app, &token, "Shoes", None).await;

    let res = app
        .post(PRODUCTS, Some(&token), full_body(&shoes["id"]))
        .await;

    res.assert_status(201);
    assert_eq!(res.headers["etag"], "\"1\"");
    let p = &res.body;
    assert_eq!(p["name"], "Trail Runner 2");
    assert_eq!(p["slug"], "trail-runner-2");
    assert_eq!(p["description"], "A light shoe for rough paths.");
    assert_eq!(p["price"], 12_999);
    assert_eq!(p["currency"], "USD");
    assert_eq!(p["weight_grams"], 640);
    let sides = pick(p, &["length_mm", "width_mm", "height_mm"]);
    assert_eq!(
        sides,
        json!({"length_mm": 330, "width_mm": 210, "height_mm": 120})
    );
    assert_eq!(p["category_ids"], json!([shoes["id"]]));
    assert_eq!(p["active"], true);
    assert_eq!(p["version"], 1);
    assert_eq!(
        p["stock"],
        json!({"on_hand": 7, "reserved": 0, "available": 7, "version": 1})
    );
    let staff_read = staff_view(&app, &token, text(p, "id")).await;
    assert_eq!(staff_read["stock"]["on_hand"], 7);
    assert_eq!(staff_read["name"], "Trail Runner 2");
}

pub async fn the_public_view_shows_stock_status_but_not_the_counts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shoes = create_category(&app, &token, "Shoes", None).await;
    let created = create_product_with(&app, &token, full_body(&shoes["id"])).await;

    let by_id = app.get(&product_path(text(&created, "id")), None).await;
    let by_slug = app.get(&product_path("trail-runner-2"), None).await;

    by_id.assert_status(200);
    assert_eq!(by_id.headers["etag"], "\"1\"");
    let p = &by_id.body;
    assert!(p.get("stock").is_none(), "stock counts are for staff: {p}");
    assert_eq!(p["in_stock"], true);
    assert_eq!(p["available"], 7);
    assert_eq!(p["rating"]["count"], 0);
    assert_eq!(p["rating"]["average"].as_f64(), Some(0.0));
    assert_eq!(p["images"], json!([]));
    assert_eq!(p["units_sold"], 0);
    assert_eq!(p["version"], 1);
    by_slug.assert_status(200);
    assert_eq!(by_slug.body, by_id.body);
    app.get(&product_path("no-such-product"), None)
        .await
        .assert_problem(404);
    app.get(&product_path(&uuid::Uuid::now_v7().to_string()), None)
        .await
        .assert_problem(404);
}

pub async fn a_product_missing_required_fields_lists_every_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;

    let res = app
        .post(PRODUCTS, Some(&token), json!({"description": "only this"}))
        .await;

    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "currency",
            "height_mm",
            "length_mm",
            "name",
            "price",
            "weight_grams",
            "width_mm"
        ]
    );
    assert!(ids(&list(&app, "").await).is_empty());
}

pub async fn bad_prices_currencies_and_categories_are_rejected_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let mut body = product_body("Broken", -1);
    body["currency"] = json!("US");
    body["category_ids"] = json!([uuid::Uuid::now_v7()]);
    body["weight_grams"] = json!(-5);
    body["stock"] = json!(-1);

    let res = app.post(PRODUCTS, Some(&token), body).await;
    let bad_slug = app
        .post(PRODUCTS, Some(&token), {
            let mut b = product_body("Fine Name", 100);
            b["slug"] = json!("Bad Slug!");
            b
        })
        .await;

    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    let expected = ["category_ids", "currency", "price", "stock", "weight_grams"];
    assert_eq!(fields, expected);
    bad_slug.assert_problem(422);
    assert_eq!(bad_slug.error_fields(), ["slug"]);
    assert!(ids(&list(&app, "").await).is_empty());
}

pub async fn a_duplicate_product_slug_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    create_product(&app, &token, "Blue Mug", 900).await;
    let other = create_product(&app, &token, "Red Mug", 900).await;

    let same = app
        .post(PRODUCTS, Some(&token), product_body("Blue Mug", 1000))
        .await;
    let renamed = app
        .patch(
            &product_path(text(&other, "id")),
            Some(&token),
            json!({"slug": "blue-mug", "version": 1}),
        )
        .await;

    same.assert_problem(409);
    renamed.assert_problem(409);
    assert_eq!(ids(&list(&app, "").await).len(), 2);
    assert_eq!(
        staff_view(&app, &token, text(&other, "id")).await["slug"],
        "red-mug"
    );
}

pub async fn a_partial_update_keeps_the_other_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shoes = create_category(&app, &token, "Shoes", None).await;
    let created = create_product_with(&app, &token, full_body(&shoes["id"])).await;
    let path = product_path(text(&created, "id"));

    let res = if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        1,
        Some(json!({"price": 9_999})),
    )
    .await;

    res.assert_status(200);
    assert_eq!(res.headers["etag"], "\"2\"");
    let read = staff_view(&app, &token, text(&created, "id")).await;
    assert_eq!(read["price"], 9_999);
    assert_eq!(read["version"], 2);
    for field in [
        "name",
        "slug",
        "description",
        "currency",
        "weight_grams",
        "length_mm",
        "width_mm",
        "height_mm",
        "category_ids",
        "stock",
    ] {
        assert_eq!(read[field], created[field], "{field} changed");
    }
}

pub async fn an_update_without_a_version_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = create_product(&app, &token, "Lamp", 4000).await;
    let path = product_path(text(&created, "id"));

    let res = app.patch(&path, Some(&token), json!({"price": 1})).await;
    let stock_in_patch = app
        .patch(&path, Some(&token), json!({"stock": 9, "version": 1}))
        .await;
    let bad = app
        .patch(
            &path,
            Some(&token),
            json!({"price": -3, "currency": "EURO", "version": 1}),
        )
        .await;

    res.assert_problem(428);
    stock_in_patch.assert_problem(422);
    assert_eq!(stock_in_patch.error_fields(), ["stock"]);
    bad.assert_problem(422);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, ["currency", "price"]);
    let read = staff_view(&app, &token, text(&created, "id")).await;
    assert_eq!(
        pick(&read, &["price", "version"]),
        json!({"price": 4000, "version": 1})
    );
}

pub async fn a_stale_update_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = create_product(&app, &token, "Kettle", 3000).await;
    let path = product_path(text(&created, "id"));
    app.patch(
        &path,
        Some(&token),
        json!({"name": "Steel Kettle", "version": 1}),
    )
    .await
    .assert_status(200);

    let stale = if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        1,
        Some(json!({"name": "Copper Kettle", "price": 1})),
    )
    .await;
    let stale_body = app
        .patch(&path, Some(&token), json!({"price": 2, "version": 1}))
        .await;

    stale.assert_problem(412);
    stale_body.assert_problem(412);
    let read = staff_view(&app, &token, text(&created, "id")).await;
    assert_eq!(read["name"], "Steel Kettle");
    assert_eq!(read["price"], 3000);
    assert_eq!(read["version"], 2);
}

pub async fn an_archived_product_is_hidden_from_customers_but_not_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let kept = create_product(&app, &token, "Kept", 100).await;
    let archived = create_product(&app, &token, "Archived", 100).await;
    let id = text(&archived, "id");

    let res = app.delete(&product_path(id), Some(&token)).await;

    res.assert_status(204);
    app.get(&product_path(id), None).await.assert_problem(404);
    app.get(&product_path("archived"), None)
        .await
        .assert_problem(404);
    let read = staff_view(&app, &token, id).await;
    assert_eq!(read["active"], false);
    assert_eq!(read["version"], 2);
    assert_eq!(ids(&list(&app, "").await), [id_of(&kept)]);
    app.delete(&product_path(id), Some(&token))
        .await
        .assert_status(204);
}

pub async fn a_matching_if_none_match_is_not_modified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = create_product(&app, &token, "Cached", 100).await;
    let path = product_path(text(&created, "id"));

    let same = if_none_match(&app, &path, "\"1\"").await;
    let other = if_none_match(&app, &path, "\"7\"").await;

    same.assert_status(304);
    assert_eq!(same.headers["etag"], "\"1\"");
    assert!(same.text.is_empty());
    other.assert_status(200);
    assert_eq!(other.body["name"], "Cached");
}

pub async fn product_edits_need_an_inventory_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shopper = customer(&app).await;
    let finance = staff(&app, "finance").await;
    let created = create_product(&app, &token, "Guarded", 100).await;
    let path = product_path(text(&created, "id"));
    let edit = json!({"price": 1, "version": 1});

    app.post(PRODUCTS, None, product_body("Anon", 1))
        .await
        .assert_problem(401);
    app.patch(&path, None, edit.clone())
        .await
        .assert_problem(401);
    app.delete(&path, None).await.assert_problem(401);
    for who in [&shopper, &finance] {
        app.post(PRODUCTS, Some(who), product_body("Nope", 1))
            .await
            .assert_problem(403);
        app.patch(&path, Some(who), edit.clone())
            .await
            .assert_problem(403);
        app.delete(&path, Some(who)).await.assert_problem(403);
    }
    let as_customer = app.get(&path, Some(&shopper)).await;
    as_customer.assert_status(200);
    assert!(as_customer.body.get("stock").is_none());
    let read = staff_view(&app, &token, text(&created, "id")).await;
    let kept = json!({"price": 100, "version": 1, "active": true});
    assert_eq!(pick(&read, &["price", "version", "active"]), kept);
    assert_eq!(ids(&list(&app, "").await).len(), 1);
}

pub async fn editing_an_unknown_product_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let path = product_path(&uuid::Uuid::now_v7().to_string());

    app.patch(&path, Some(&token), json!({"price": 1, "version": 1}))
        .await
        .assert_problem(404);
    app.delete(&path, Some(&token)).await.assert_problem(404);
}

pub async fn archiving_with_a_stale_if_match_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = create_product(&app, &token, "Still Here", 100).await;
    let path = product_path(text(&created, "id"));

    let stale = if_match(&app, Method::DELETE, &path, &token, 9, None).await;
    let current = if_match(&app, Method::DELETE, &path, &token, 1, None).await;

    stale.assert_problem(412);
    current.assert_status(204);
    assert_eq!(
        staff_view(&app, &token, text(&created, "id")).await["active"],
        false
    );
}

/// Proxies that compress (nginx with gzip) turn `"1"` into `W/"1"`; GET compares weakly.
pub async fn a_weak_if_none_match_is_not_modified_either(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = create_product(&app, &token, "Cached", 100).await;
    let path = product_path(text(&created, "id"));

    let weak = if_none_match(&app, &path, "W/\"1\"").await;
    let any = if_none_match(&app, &path, "*").await;

    weak.assert_status(304);
    any.assert_status(304);
}

testkit::backend_tests!(
    archiving_with_a_stale_if_match_changes_nothing,
    a_weak_if_none_match_is_not_modified_either,
    a_product_is_created_with_every_field,
    the_public_view_shows_stock_status_but_not_the_counts,
    a_product_missing_required_fields_lists_every_one,
    bad_prices_currencies_and_categories_are_rejected_together,
    a_duplicate_product_slug_is_a_conflict,
    a_partial_update_keeps_the_other_fields,
    an_update_without_a_version_is_refused,
    a_stale_update_changes_nothing,
    an_archived_product_is_hidden_from_customers_but_not_staff,
    a_matching_if_none_match_is_not_modified,
    product_edits_need_an_inventory_token,
    editing_an_unknown_product_is_not_found,
);
