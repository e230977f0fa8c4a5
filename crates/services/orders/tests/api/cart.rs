//! `/cart`: add, change, select, remove; current prices with warnings.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::{CART, cart_when, item, product};

fn warnings(cart: &Value, line: usize) -> Vec<String> {
    cart["lines"][line]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["code"].as_str().expect("code").to_owned())
        .collect()
}

pub async fn a_cart_adds_counts_selects_and_removes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let me = app.customer_token().await;
    let mug = product(&app, &inventory, 1250, 10).await;
    let pot = product(&app, &inventory, 3000, 10).await;

    let empty = app.get(CART, Some(&me)).await;
    let added = app
        .post(
            &format!("{CART}/items"),
            Some(&me),
            json!({"product_id": mug, "quantity": 2}),
        )
        .await;
    let again = app
        .post(
            &format!("{CART}/items"),
            Some(&me),
            json!({"product_id": mug, "quantity": 1}),
        )
        .await;
    app.post(
        &format!("{CART}/items"),
        Some(&me),
        json!({"product_id": pot, "quantity": 1}),
    )
    .await
    .assert_status(200);
    let unselected = app
        .patch(&item(&pot), Some(&me), json!({"selected": false}))
        .await;

    assert_eq!(empty.body["lines"], json!([]));
    assert_eq!(empty.body["item_count"], 0);
    added.assert_status(200);
    assert_eq!(added.body["lines"][0]["quantity"], 2);
    assert_eq!(added.body["lines"][0]["unit_price"], 1250);
    assert_eq!(again.body["lines"][0]["quantity"], 3, "adding adds");
    unselected.assert_status(200);
    let cart = &unselected.body;
    assert_eq!(cart["item_count"], 4);
    assert_eq!(cart["selected_count"], 3);
    assert_eq!(cart["subtotal"], 3750, "only the selected line counts");
    assert_eq!(cart["currency"], "USD");
    assert_eq!(cart["ready_for_checkout"], true);

    let set = app
        .patch(&item(&mug), Some(&me), json!({"quantity": 5}))
        .await;
    assert_eq!(set.body["lines"][0]["quantity"], 5);
    app.delete(&item(&mug), Some(&me)).await.assert_status(204);
    app.delete(&item(&mug), Some(&me)).await.assert_problem(404);
    let left = app.get(CART, Some(&me)).await;
    assert_eq!(left.body["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(left.body["subtotal"], 0);
    assert_eq!(left.body["ready_for_checkout"], false, "nothing selected");
}

pub async fn cart_lines_warn_about_price_stock_and_withdrawal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let me = app.customer_token().await;
    let mug = product(&app, &inventory, 1000, 3).await;
    app.post(
        &format!("{CART}/items"),
        Some(&me),
        json!({"product_id": mug, "quantity": 2}),
    )
    .await
    .assert_status(200);

    app.send_with(
        Method::PATCH,
        &format!("/api/v1/products/{mug}"),
        Some(&inventory),
        &[("if-match", "\"1\"")],
        Some(json!({"price": 1200})),
    )
    .await
    .assert_status(200);
    let repriced = cart_when(&app, &me, "the new price", |c| {
        c["lines"][0]["unit_price"] == 1200
    })
    .await;
    assert_eq!(
        repriced["lines"][0]["warnings"],
        json!([{"code": "price_changed", "was": 1000, "now": 1200}])
    );
    assert_eq!(
        repriced["subtotal"], 2400,
        "the current price is what is paid"
    );
    assert_eq!(repriced["ready_for_checkout"], true);
    let acknowledged = app
        .patch(&item(&mug), Some(&me), json!({"quantity": 2}))
        .await;
    assert_eq!(
        warnings(&acknowledged.body, 0),
        Vec::<String>::new(),
        "a change acknowledges the price"
    );

    app.send_with(
        Method::PUT,
        &format!("/api/v1/products/{mug}/stock"),
        Some(&inventory),
        &[("if-match", "\"1\"")],
        Some(json!({"on_hand": 1})),
    )
    .await
    .assert_status(200);
    let short = cart_when(&app, &me, "the stock level", |c| {
        !c["lines"][0]["warnings"]
            .as_array()
            .is_some_and(Vec::is_empty)
    })
    .await;
    assert_eq!(
        short["lines"][0]["warnings"],
        json!([{"code": "insufficient_stock", "available": 1}])
    );
    assert_eq!(short["ready_for_checkout"], false);

    app.send_with(
        Method::PUT,
        &format!("/api/v1/products/{mug}/stock"),
        Some(&inventory),
        &[("if-match", "\"2\"")],
        Some(json!({"on_hand": 0})),
    )
    .await
    .assert_status(200);
    cart_when(&app, &me, "out of stock", |c| {
        warnings(c, 0) == ["out_of_stock"]
    })
    .await;

    app.send_with(
        Method::DELETE,
        &format!("/api/v1/products/{mug}"),
        Some(&inventory),
        &[],
        None,
    )
    .await
    .assert_status(204);
    let gone = cart_when(&app, &me, "the withdrawal", |c| {
        warnings(c, 0) == ["unavailable"]
    })
    .await;
    assert_eq!(gone["subtotal"], 0);
    let refused = app
        .post(
            &format!("{CART}/items"),
            Some(&me),
            json!({"product_id": mug, "quantity": 1}),
        )
        .await;
    refused.assert_problem(409);
    assert_eq!(refused.body["code"], "product_unavailable");
}

pub async fn bad_cart_input_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let me = app.customer_token().await;
    let mug = product(&app, &inventory, 1000, 500).await;
    let add = |body: Value| {
        let app = &app;
        let me = me.clone();
        async move { app.post(&format!("{CART}/items"), Some(&me), body).await }
    };

    for quantity in [0, -1, 100] {
        let res = add(json!({"product_id": mug, "quantity": quantity})).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["quantity"]);
    }
    add(json!({"product_id": "not-a-uuid", "quantity": 1}))
        .await
        .assert_problem(422);
    add(json!({"product_id": mug, "quantity": 1, "price": 1}))
        .await
        .assert_problem(422);
    add(json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1}))
        .await
        .assert_problem(404);
    add(json!({"product_id": mug, "quantity": 60}))
        .await
        .assert_status(200);
    let capped = add(json!({"product_id": mug, "quantity": 60})).await;
    assert_eq!(
        capped.body["lines"][0]["quantity"], 99,
        "at most 99 of one product"
    );
    let nothing = app.patch(&item(&mug), Some(&me), json!({})).await;
    nothing.assert_problem(422);
    app.patch(
        &item(&uuid::Uuid::now_v7().to_string()),
        Some(&me),
        json!({"quantity": 1}),
    )
    .await
    .assert_problem(404);
}

pub async fn carts_are_private_to_their_customer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let ann = app.customer_token().await;
    let bob = app.customer_token().await;
    let mug = product(&app, &inventory, 1000, 5).await;
    app.post(
        &format!("{CART}/items"),
        Some(&ann),
        json!({"product_id": mug, "quantity": 1}),
    )
    .await
    .assert_status(200);

    assert_eq!(app.get(CART, Some(&bob)).await.body["lines"], json!([]));
    app.patch(&item(&mug), Some(&bob), json!({"quantity": 3}))
        .await
        .assert_problem(404);
    app.delete(&item(&mug), Some(&bob))
        .await
        .assert_problem(404);
    assert_eq!(
        app.get(CART, Some(&ann)).await.body["lines"][0]["quantity"],
        1,
        "untouched"
    );
    app.get(CART, None).await.assert_problem(401);
    app.get(CART, Some(&inventory)).await.assert_problem(403);
    app.post(
        &format!("{CART}/items"),
        Some(&inventory),
        json!({"product_id": mug, "quantity": 1}),
    )
    .await
    .assert_problem(403);
}

testkit::backend_tests!(
    a_cart_adds_counts_selects_and_removes,
    cart_lines_warn_about_price_stock_and_withdrawal,
    bad_cart_input_is_refused,
    carts_are_private_to_their_customer,
);
