//! `GET /api/v1/admin/reviews`: the moderation queue, every product's reviews newest
//! first with their product, filtered to hidden or visible ones, paged.

use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{
    ADMIN_REVIEWS as QUEUE, buyer, customer, id_of, moderation_path, review, shop, staff,
};

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

pub async fn the_review_queue_lists_every_review_newest_first_and_filters_hidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (inventory, product_id) = shop(&app).await;
    let (ann, bob, cat) = (
        buyer(&app, &product_id).await,
        buyer(&app, &product_id).await,
        buyer(&app, &product_id).await,
    );
    let first = id_of(
        &review(
            &app,
            &ann,
            &product_id,
            json!({"rating": 1, "body": "Rude words."}),
        )
        .await,
    );
    let second = id_of(&review(&app, &bob, &product_id, json!({"rating": 4})).await);
    let third = id_of(&review(&app, &cat, &product_id, json!({"rating": 5})).await);
    app.patch(
        &moderation_path(&first),
        Some(&inventory),
        json!({"hidden": true, "version": 1}),
    )
    .await
    .assert_status(200);

    let all = app.get(QUEUE, Some(&inventory)).await;
    all.assert_status(200);
    assert_eq!(
        ids(&all.body),
        vec![third.clone(), second.clone(), first.clone()]
    );
    assert_eq!(all.body["items"][2]["hidden"], true);
    assert!(
        all.body["items"][0]["product_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert!(
        all.body["items"][0]["product_slug"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    let hidden = app
        .get(&format!("{QUEUE}?hidden=true"), Some(&inventory))
        .await;
    assert_eq!(ids(&hidden.body), vec![first.clone()]);
    let visible = app
        .get(&format!("{QUEUE}?hidden=false"), Some(&inventory))
        .await;
    assert_eq!(ids(&visible.body), vec![third.clone(), second.clone()]);

    let page = app.get(&format!("{QUEUE}?limit=2"), Some(&inventory)).await;
    assert_eq!(ids(&page.body), vec![third, second]);
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(
            &format!("{QUEUE}?limit=2&cursor={cursor}"),
            Some(&inventory),
        )
        .await;
    assert_eq!(ids(&rest.body), vec![first]);
    assert!(rest.body["next_cursor"].is_null());
}

pub async fn the_review_queue_is_for_catalog_staff_and_explains_bad_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get(QUEUE, None).await.assert_problem(401);
    let shopper = customer(&app).await;
    app.get(QUEUE, Some(&shopper)).await.assert_problem(403);
    let finance = staff(&app, "finance").await;
    app.get(QUEUE, Some(&finance)).await.assert_problem(403);
    let admin = staff(&app, "admin").await;
    app.get(QUEUE, Some(&admin)).await.assert_status(200);
    for (query, field) in [
        ("hidden=maybe", "hidden"),
        ("limit=0", "limit"),
        ("cursor=garbage", "cursor"),
    ] {
        let res = app.get(&format!("{QUEUE}?{query}"), Some(&admin)).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.body);
    }
}

testkit::backend_tests!(
    the_review_queue_lists_every_review_newest_first_and_filters_hidden,
    the_review_queue_is_for_catalog_staff_and_explains_bad_filters,
);
