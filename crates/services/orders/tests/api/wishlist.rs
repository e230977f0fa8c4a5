//! `/wishlist`: add (idempotent), list, remove.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::product;

const WISHLIST: &str = "/api/v1/wishlist";

pub async fn a_wishlist_keeps_each_product_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let me = app.customer_token().await;
    let mug = product(&app, &inventory, 1000, 5).await;
    let pot = product(&app, &inventory, 2000, 0).await;
    let path = |id: &str| format!("{WISHLIST}/items/{id}");

    app.send(Method::PUT, &path(&mug), Some(&me), None)
        .await
        .assert_status(204);
    app.send(Method::PUT, &path(&mug), Some(&me), None)
        .await
        .assert_status(204);
    app.send(Method::PUT, &path(&pot), Some(&me), None)
        .await
        .assert_status(204);

    let listed = app.get(WISHLIST, Some(&me)).await;
    let items = listed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["product_id"], pot.as_str(), "most recent first");
    assert_eq!(items[0]["in_stock"], false);
    assert_eq!(items[1]["price"], 1000);
    app.delete(&path(&mug), Some(&me)).await.assert_status(204);
    app.delete(&path(&mug), Some(&me)).await.assert_status(204);
    assert_eq!(
        app.get(WISHLIST, Some(&me)).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let other = app.customer_token().await;
    assert_eq!(
        app.get(WISHLIST, Some(&other)).await.body["items"],
        json!([])
    );
    app.get(WISHLIST, None).await.assert_problem(401);
    app.send(Method::PUT, &path(&mug), Some(&inventory), None)
        .await
        .assert_problem(403);
    app.send(
        Method::PUT,
        &path(&uuid::Uuid::now_v7().to_string()),
        Some(&me),
        None,
    )
    .await
    .assert_problem(404);
}

testkit::backend_tests!(a_wishlist_keeps_each_product_once);
