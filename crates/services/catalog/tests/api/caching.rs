//! Public reads are cached; every write makes its change visible to the next read.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{
    create_product, id_of, ids, if_match, inventory, list, product_path, put_stock, unique,
};

pub async fn an_edit_is_visible_at_once_through_a_warm_cache(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let product = create_product(&app, &token, &unique("Cached Lamp"), 1000).await;
    let id = id_of(&product);
    let slug = product["slug"].as_str().expect("slug").to_owned();
    // Warm both names of the product.
    for _ in 0..2 {
        app.get(&product_path(&id), None).await.assert_status(200);
        app.get(&product_path(&slug), None).await.assert_status(200);
    }
    let new_slug = unique("renamed-lamp");
    if_match(
        &app,
        Method::PATCH,
        &product_path(&id),
        &token,
        1,
        Some(json!({"price": 2500, "slug": new_slug})),
    )
    .await
    .assert_status(200);
    let by_id = app.get(&product_path(&id), None).await;
    by_id.assert_status(200);
    assert_eq!(by_id.body["price"], 2500);
    assert_eq!(by_id.headers["etag"], "\"2\"");
    app.get(&product_path(&slug), None)
        .await
        .assert_problem(404);
    assert_eq!(
        app.get(&product_path(&new_slug), None).await.body["price"],
        2500
    );
}

pub async fn a_warm_listing_shows_new_archived_and_sold_out_products_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let first = id_of(&create_product(&app, &token, &unique("Cache Kettle"), 1500).await);
    assert_eq!(ids(&list(&app, "in_stock=true").await), vec![first.clone()]);
    assert_eq!(
        ids(&list(&app, "in_stock=true").await),
        vec![first.clone()],
        "served warm"
    );

    let second = id_of(&create_product(&app, &token, &unique("Cache Teapot"), 1700).await);
    assert_eq!(
        ids(&list(&app, "in_stock=true").await),
        vec![second.clone(), first.clone()]
    );

    put_stock(
        &app,
        Some(&token),
        &second,
        json!({"on_hand": 0, "version": 1}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        ids(&list(&app, "in_stock=true").await),
        vec![first.clone()],
        "sold out drops from in_stock"
    );

    app.delete(&product_path(&first), Some(&token))
        .await
        .assert_status(204);
    assert!(
        ids(&list(&app, "in_stock=true").await).is_empty(),
        "archived drops out"
    );
    app.get(&product_path(&first), None)
        .await
        .assert_problem(404);
}

pub async fn public_answers_may_be_cached_but_staff_answers_never(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let id = id_of(&create_product(&app, &token, &unique("Header Mug"), 900).await);
    let public = app.get(&product_path(&id), None).await;
    assert_eq!(public.headers["cache-control"], "public, max-age=30");
    assert!(public.body.get("stock").is_none());
    let staff = app.get(&product_path(&id), Some(&token)).await;
    assert_eq!(staff.headers["cache-control"], "private, no-store");
    assert!(
        staff.body["stock"].is_object(),
        "a warm public entry never leaks into staff answers"
    );
    assert_eq!(
        list(&app, "").await.headers["cache-control"],
        "public, max-age=30"
    );
}

testkit::backend_tests!(
    an_edit_is_visible_at_once_through_a_warm_cache,
    a_warm_listing_shows_new_archived_and_sold_out_products_at_once,
    public_answers_may_be_cached_but_staff_answers_never,
);
