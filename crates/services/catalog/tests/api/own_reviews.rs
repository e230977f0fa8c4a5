//! `/api/v1/reviews/mine`: a customer's own reviews, newest first, paged, with the ones
//! staff hid marked; nobody else's.

use serde_json::{Value, json};
use testkit::shop::{paid_order, product};
use testkit::{Backend, TestApp};

use crate::helpers::{customer, id_of, moderation_path, review, shop};

pub async fn a_customer_pages_through_their_own_reviews_hidden_ones_marked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (staff_token, mug) = shop(&app).await;
    let plate = product(&app, &staff_token, 900, 20).await;
    let ann = customer(&app).await;
    paid_order(&app, &ann, &mug, 1).await;
    paid_order(&app, &ann, &plate, 1).await;
    let first = review(
        &app,
        &ann,
        &mug,
        json!({"rating": 2, "body": "Rude words."}),
    )
    .await;
    let second = review(&app, &ann, &plate, json!({"rating": 5})).await;
    app.patch(
        &moderation_path(&id_of(&first)),
        Some(&staff_token),
        json!({"hidden": true, "version": 1}),
    )
    .await
    .assert_status(200);

    let page = app.get("/api/v1/reviews/mine?limit=1", Some(&ann)).await;

    page.assert_status(200);
    let items = page.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id_of(&second).as_str(), "newest first");
    assert_eq!(items[0]["product_id"], plate.as_str());
    assert!(
        !items[0]["product_slug"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(
            &format!("/api/v1/reviews/mine?limit=1&cursor={cursor}"),
            Some(&ann),
        )
        .await;
    let items = rest.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id_of(&first).as_str());
    assert_eq!(
        items[0]["hidden"], true,
        "the author sees that staff hid it"
    );
    assert_eq!(rest.body["next_cursor"], Value::Null);

    // Nobody else's, and nobody's without signing in.
    let bob = customer(&app).await;
    let theirs = app.get("/api/v1/reviews/mine", Some(&bob)).await;
    assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(0));
    app.get("/api/v1/reviews/mine", None)
        .await
        .assert_problem(401);
}

testkit::backend_tests!(a_customer_pages_through_their_own_reviews_hidden_ones_marked);
