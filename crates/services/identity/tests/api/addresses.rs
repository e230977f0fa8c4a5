//! `/api/v1/me/addresses`: a customer's own shipping addresses, validated per field,
//! versioned, and invisible to everyone else.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{customer, send_with, text};

const ADDRESSES: &str = "/api/v1/me/addresses";

fn address() -> Value {
    json!({
        "label": "Home",
        "recipient_name": "Ann Lee",
        "phone": "+62 812-3456-7890",
        "line1": "Jl. Sudirman 1",
        "line2": "Floor 3",
        "city": "Jakarta",
        "region": "DKI Jakarta",
        "postal_code": "10220",
        "country": "id",
        "note": "Ring twice"
    })
}

fn one(id: &str) -> String {
    format!("{ADDRESSES}/{id}")
}

/// A signed-in customer's access token.
async fn token_of(app: &TestApp, prefix: &str) -> String {
    let (_, pair) = customer(app, prefix).await;
    text(&pair, "access_token").to_owned()
}

/// Adds `address()` for `token` and returns the stored address.
async fn add(app: &TestApp, token: &str) -> Value {
    let res = app.post(ADDRESSES, Some(token), address()).await;
    res.assert_status(201);
    res.body
}

pub async fn an_address_is_added_listed_edited_and_removed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "crud").await;

    let created = add(&app, &token).await;
    assert_eq!(created["country"], "ID", "normalised to upper case");
    assert_eq!(created["recipient_name"], "Ann Lee");
    assert_eq!(created["line2"], "Floor 3");
    assert_eq!(created["version"], 1);
    let id = text(&created, "id").to_owned();

    let list = app.get(ADDRESSES, Some(&token)).await;
    list.assert_status(200);
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert!(list.body["next_cursor"].is_null());

    let edited = send_with(
        &app,
        Method::PATCH,
        &one(&id),
        Some(&token),
        &[("if-match", "\"1\"")],
        Some(json!({"city": "Bandung"})),
    )
    .await;
    edited.assert_status(200);
    assert_eq!(edited.body["city"], "Bandung");
    assert_eq!(
        edited.body["line1"], "Jl. Sudirman 1",
        "other fields are kept"
    );
    assert_eq!(edited.body["note"], "Ring twice");
    assert_eq!(edited.body["version"], 2);
    assert_eq!(edited.headers["etag"], "\"2\"");

    app.delete(&one(&id), Some(&token)).await.assert_status(204);
    let list = app.get(ADDRESSES, Some(&token)).await;
    assert!(list.body["items"].as_array().expect("items").is_empty());
    app.delete(&one(&id), Some(&token))
        .await
        .assert_problem(404);
}

pub async fn the_label_defaults_and_optional_fields_may_be_left_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "minimal").await;

    let res = app
        .post(ADDRESSES, Some(&token), json!({"recipient_name": "Bo", "phone": "555 123 456", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}))
        .await;

    res.assert_status(201);
    assert_eq!(res.body["label"], "Home");
    assert!(
        res.body["line2"].is_null() && res.body["region"].is_null() && res.body["note"].is_null()
    );
}

pub async fn every_invalid_field_is_reported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "invalid").await;
    let mut bad = address();
    bad["country"] = json!("XX");
    bad["phone"] = json!("call me maybe");
    bad["postal_code"] = json!("10220!");
    bad.as_object_mut().expect("object").remove("line1");

    let res = app.post(ADDRESSES, Some(&token), bad).await;

    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["country", "line1", "phone", "postal_code"]);
    let empty = app.post(ADDRESSES, Some(&token), json!({})).await;
    empty.assert_problem(422);
    let mut fields = empty.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "city",
            "country",
            "line1",
            "phone",
            "postal_code",
            "recipient_name"
        ]
    );
    assert!(
        app.get(ADDRESSES, Some(&token)).await.body["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );
}

pub async fn wrong_types_and_unknown_fields_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "types").await;
    let mut typed = address();
    typed["country"] = json!(62);

    let res = app.post(ADDRESSES, Some(&token), typed).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["country"]);

    let mut unknown = address();
    unknown["customer_id"] = json!("someone-else");
    app.post(ADDRESSES, Some(&token), unknown)
        .await
        .assert_problem(422);
}

pub async fn an_invalid_edit_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "bad-edit").await;
    let id = text(&add(&app, &token).await, "id").to_owned();

    let res = app
        .patch(
            &one(&id),
            Some(&token),
            json!({"country": "XX", "phone": "x"}),
        )
        .await;

    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["country", "phone"]);
    let stored = &app.get(ADDRESSES, Some(&token)).await.body["items"][0];
    assert_eq!(stored["country"], "ID");
    assert_eq!(stored["version"], 1);
}

pub async fn a_stale_version_is_refused_with_412(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "stale").await;
    let id = text(&add(&app, &token).await, "id").to_owned();
    app.patch(
        &one(&id),
        Some(&token),
        json!({"city": "Bandung", "version": 1}),
    )
    .await
    .assert_status(200);

    let by_body = app
        .patch(
            &one(&id),
            Some(&token),
            json!({"city": "Surabaya", "version": 1}),
        )
        .await;
    by_body.assert_problem(412);
    assert_eq!(by_body.body["code"], "stale_version");
    let by_header = send_with(
        &app,
        Method::PATCH,
        &one(&id),
        Some(&token),
        &[("if-match", "\"1\"")],
        Some(json!({"city": "Medan"})),
    )
    .await;
    by_header.assert_problem(412);

    assert_eq!(
        app.get(ADDRESSES, Some(&token)).await.body["items"][0]["city"],
        "Bandung"
    );
}

pub async fn another_customers_address_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = token_of(&app, "owner").await;
    let other = token_of(&app, "other").await;
    let id = text(&add(&app, &owner).await, "id").to_owned();

    let edit = app
        .patch(&one(&id), Some(&other), json!({"city": "Elsewhere"}))
        .await;
    edit.assert_problem(404);
    let remove = app.delete(&one(&id), Some(&other)).await;
    remove.assert_problem(404);

    let missing = app
        .delete(&one("0190e7a1-0000-7000-8000-000000000000"), Some(&owner))
        .await;
    assert_eq!(
        remove.body["detail"], missing.body["detail"],
        "indistinguishable from a missing one"
    );
    let kept = app.get(ADDRESSES, Some(&owner)).await;
    assert_eq!(kept.body["items"][0]["city"], "Jakarta");
}

pub async fn the_list_shows_only_the_customers_own_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = token_of(&app, "ann").await;
    let bo = token_of(&app, "bo").await;
    add(&app, &ann).await;
    add(&app, &ann).await;
    let bos = add(&app, &bo).await;

    let anns = app.get(ADDRESSES, Some(&ann)).await;
    let bo_list = app.get(ADDRESSES, Some(&bo)).await;

    assert_eq!(anns.body["items"].as_array().expect("items").len(), 2);
    let bo_items = bo_list.body["items"].as_array().expect("items");
    assert_eq!(bo_items.len(), 1);
    assert_eq!(bo_items[0]["id"], bos["id"]);
}

pub async fn addresses_need_a_customer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_with_role("addr-staff@shop.test", "admin").await;
    let staff_token = text(&staff, "access_token");

    app.get(ADDRESSES, None).await.assert_problem(401);
    app.post(ADDRESSES, None, address())
        .await
        .assert_problem(401);
    app.get(ADDRESSES, Some(staff_token))
        .await
        .assert_problem(403);
    app.post(ADDRESSES, Some(staff_token), address())
        .await
        .assert_problem(403);
    let id = "0190e7a1-0000-7000-8000-000000000000";
    app.patch(&one(id), None, json!({"city": "X"}))
        .await
        .assert_problem(401);
    app.delete(&one(id), Some(staff_token))
        .await
        .assert_problem(403);
}

pub async fn a_malformed_address_id_is_a_client_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "bad-id").await;

    let res = app.delete(&one("not-a-uuid"), Some(&token)).await;

    res.assert_problem(400);
    app.patch(&one("not-a-uuid"), Some(&token), json!({"city": "X"}))
        .await
        .assert_problem(400);
}

pub async fn a_customer_keeps_at_most_twenty_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "many").await;
    for _ in 0..20 {
        add(&app, &token).await;
    }

    let res = app.post(ADDRESSES, Some(&token), address()).await;

    res.assert_problem(409);
    assert_eq!(res.body["code"], "too_many_addresses");
}

pub async fn concurrent_additions_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = token_of(&app, "concurrent").await;

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let req = app
                .client
                .post(app.url(ADDRESSES))
                .bearer_auth(&token)
                .json(&address());
            tokio::spawn(
                async move { TestApp::read(req.send().await.expect("request sent")).await },
            )
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }

    let failed: Vec<&str> = answers
        .iter()
        .filter(|r| r.status.as_u16() != 201)
        .map(|r| r.text.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 8 concurrent additions failed: {failed:?}",
        failed.len()
    );
    assert_eq!(
        app.get(ADDRESSES, Some(&token)).await.body["items"]
            .as_array()
            .expect("items")
            .len(),
        8
    );
}

testkit::backend_tests!(
    an_address_is_added_listed_edited_and_removed,
    the_label_defaults_and_optional_fields_may_be_left_out,
    every_invalid_field_is_reported,
    wrong_types_and_unknown_fields_are_refused,
    an_invalid_edit_changes_nothing,
    a_stale_version_is_refused_with_412,
    another_customers_address_is_not_found,
    the_list_shows_only_the_customers_own_addresses,
    addresses_need_a_customer_token,
    a_malformed_address_id_is_a_client_error,
    a_customer_keeps_at_most_twenty_addresses,
    concurrent_additions_all_succeed,
);
