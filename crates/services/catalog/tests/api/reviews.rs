//! `/api/v1/products/{id}/reviews`: a customer who bought a product reviews it once,
//! edits or removes the review; staff hide and show reviews; the product's rating
//! follows every change at once, and stays exact when reviews arrive together.
//!
//! Buying goes through checkout and the sandbox payment provider (`testkit::shop`).

use reqwest::Method;
use serde_json::{Value, json};
use testkit::shop::{paid_order, product};
use testkit::{Backend, TestApp};
use uuid::Uuid;

use crate::helpers::{
    buyer, customer, id_of, if_match, inventory, listed, moderation_path, post_as_buyer,
    post_review, product_path, rated, rating, review, review_path, reviews_path, shop, staff, text,
};

pub async fn a_buyer_reviews_and_the_product_shows_the_rating(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    assert_eq!(
        rating(&app, &product_id).await,
        rated(0.0, 0),
        "warms the cache"
    );

    let ann = buyer(&app, &product_id).await;
    let body = json!({"rating": 4, "title": "  Sturdy mug ", "body": "Keeps tea hot.\r\nWould buy again."});
    let res = post_as_buyer(
        &app.client,
        &app.url(&reviews_path(&product_id)),
        &ann,
        &body,
    )
    .await;

    res.assert_status(201);
    assert_eq!(res.headers["etag"], "\"1\"");
    let first = &res.body;
    assert_eq!(first["product_id"], product_id.as_str());
    assert_eq!(first["rating"], 4);
    assert_eq!(first["title"], "Sturdy mug");
    assert_eq!(first["body"], "Keeps tea hot.\nWould buy again.");
    assert_eq!(first["author"], "Customer");
    assert_eq!(first["verified_purchase"], true);
    assert_eq!(first["hidden"], false);
    assert_eq!(first["version"], 1);
    assert_eq!(rating(&app, &product_id).await, rated(4.0, 1));
    // Warms the cached public page: the next review must show through it at once.
    assert_eq!(
        listed(&app, &reviews_path(&product_id), None).await,
        [id_of(first)]
    );

    let bob = buyer(&app, &product_id).await;
    let second = review(&app, &bob, &product_id, json!({"rating": 5})).await;
    assert_eq!(second["title"], Value::Null);
    assert_eq!(second["body"], "");
    assert_eq!(rating(&app, &product_id).await, rated(4.5, 2));
    assert_eq!(
        listed(&app, &reviews_path(&product_id), None).await,
        [id_of(&second), id_of(first)],
        "newest first"
    );
}

pub async fn a_customer_who_did_not_buy_the_product_may_not_review_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff_token = inventory(&app).await;
    let product_id = product(&app, &staff_token, 1500, 50).await;
    let body = json!({"rating": 5, "body": "Never had it, love it."});

    let res = post_review(&app, &customer(&app).await, &product_id, body.clone()).await;
    res.assert_problem(403);
    assert_eq!(res.body["code"], "purchase_required");

    post_review(&app, &staff_token, &product_id, body.clone())
        .await
        .assert_problem(403);
    app.post(&reviews_path(&product_id), None, body)
        .await
        .assert_problem(401);
    assert_eq!(rating(&app, &product_id).await, rated(0.0, 0));
    assert!(
        listed(&app, &reviews_path(&product_id), None)
            .await
            .is_empty()
    );
}

pub async fn a_buyer_who_cancelled_the_paid_order_may_not_review(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let ann = customer(&app).await;
    let order = paid_order(&app, &ann, &product_id, 1).await;
    let order_id = order["id"].as_str().expect("order id");
    app.post(
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(&ann),
        json!({}),
    )
    .await
    .assert_status(200);

    // Catalog follows orders' events one at a time, in order: once a later buyer's
    // purchase counts, Ann's payment and her cancellation have both been applied.
    let bob = buyer(&app, &product_id).await;
    review(&app, &bob, &product_id, json!({"rating": 5})).await;
    let res = post_review(&app, &ann, &product_id, json!({"rating": 1})).await;

    res.assert_problem(403);
    assert_eq!(res.body["code"], "purchase_required");
    assert_eq!(rating(&app, &product_id).await, rated(5.0, 1));
}

pub async fn a_second_review_of_the_same_product_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let ann = buyer(&app, &product_id).await;
    review(&app, &ann, &product_id, json!({"rating": 2})).await;

    let again = post_review(&app, &ann, &product_id, json!({"rating": 5})).await;

    again.assert_problem(409);
    assert_eq!(again.body["code"], "already_reviewed");
    assert_eq!(rating(&app, &product_id).await, rated(2.0, 1));
}

pub async fn the_author_edits_against_the_version_and_the_average_follows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let (ann, bob) = (
        buyer(&app, &product_id).await,
        buyer(&app, &product_id).await,
    );
    review(&app, &bob, &product_id, json!({"rating": 5})).await;
    let mine = review(
        &app,
        &ann,
        &product_id,
        json!({"rating": 2, "title": "Meh"}),
    )
    .await;
    let path = review_path(&product_id, text(&mine, "id"));
    assert_eq!(rating(&app, &product_id).await, rated(3.5, 2));

    let edited = app
        .patch(
            &path,
            Some(&ann),
            json!({"rating": 4, "title": null, "version": 1}),
        )
        .await;

    edited.assert_status(200);
    assert_eq!(edited.headers["etag"], "\"2\"");
    assert_eq!(edited.body["rating"], 4);
    assert_eq!(edited.body["title"], Value::Null);
    assert_eq!(edited.body["version"], 2);
    assert_eq!(rating(&app, &product_id).await, rated(4.5, 2));

    let stale = app
        .patch(&path, Some(&ann), json!({"rating": 1, "version": 1}))
        .await;
    stale.assert_problem(412);
    assert_eq!(stale.body["code"], "stale_version");
    app.patch(&path, Some(&ann), json!({"rating": 1}))
        .await
        .assert_problem(428);
    let by_header = if_match(
        &app,
        Method::PATCH,
        &path,
        &ann,
        2,
        Some(json!({"body": "Grew on me."})),
    )
    .await;
    by_header.assert_status(200);
    assert_eq!(by_header.body["rating"], 4, "omitted fields are kept");
    assert_eq!(by_header.body["body"], "Grew on me.");
    assert_eq!(rating(&app, &product_id).await, rated(4.5, 2));
}

pub async fn the_author_deletes_the_review_and_the_rating_forgets_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let ann = buyer(&app, &product_id).await;
    let mine = review(&app, &ann, &product_id, json!({"rating": 3})).await;
    let path = review_path(&product_id, text(&mine, "id"));

    if_match(&app, Method::DELETE, &path, &ann, 7, None)
        .await
        .assert_problem(412);
    app.delete(&path, Some(&ann)).await.assert_status(204);

    assert_eq!(rating(&app, &product_id).await, rated(0.0, 0));
    assert!(
        listed(&app, &reviews_path(&product_id), None)
            .await
            .is_empty()
    );
    app.delete(&path, Some(&ann)).await.assert_problem(404);
    // Having removed it, the buyer may write a new one.
    review(&app, &ann, &product_id, json!({"rating": 5})).await;
    assert_eq!(rating(&app, &product_id).await, rated(5.0, 1));
}

pub async fn deleting_a_hidden_review_makes_no_room_for_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (staff_token, product_id) = shop(&app).await;
    let ann = buyer(&app, &product_id).await;
    let rude = review(
        &app,
        &ann,
        &product_id,
        json!({"rating": 1, "body": "Rude words."}),
    )
    .await;
    let rude_id = id_of(&rude);
    app.patch(
        &moderation_path(&rude_id),
        Some(&staff_token),
        json!({"hidden": true, "version": 1}),
    )
    .await
    .assert_status(200);

    let path = review_path(&product_id, &rude_id);
    app.delete(&path, Some(&ann)).await.assert_status(204);

    // Gone for the author and for staff alike...
    app.delete(&path, Some(&ann)).await.assert_problem(404);
    let with_hidden = format!("{}?include_hidden=true", reviews_path(&product_id));
    assert!(
        listed(&app, &with_hidden, Some(&staff_token))
            .await
            .is_empty()
    );
    app.patch(
        &moderation_path(&rude_id),
        Some(&staff_token),
        json!({"hidden": false, "version": 3}),
    )
    .await
    .assert_problem(404);
    // ...but the author's one review of the product stays used.
    let again = post_review(
        &app,
        &ann,
        &product_id,
        json!({"rating": 1, "body": "Rude again."}),
    )
    .await;
    again.assert_problem(409);
    assert_eq!(again.body["code"], "already_reviewed");
    assert!(
        listed(&app, &reviews_path(&product_id), None)
            .await
            .is_empty()
    );
    assert_eq!(rating(&app, &product_id).await, rated(0.0, 0));
}

pub async fn staff_hide_a_review_and_show_it_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (staff_token, product_id) = shop(&app).await;
    let (ann, bob) = (
        buyer(&app, &product_id).await,
        buyer(&app, &product_id).await,
    );
    let rude = review(
        &app,
        &ann,
        &product_id,
        json!({"rating": 1, "body": "Rude words."}),
    )
    .await;
    let kind = review(&app, &bob, &product_id, json!({"rating": 5})).await;
    let (rude_id, kind_id) = (id_of(&rude), id_of(&kind));
    let public = reviews_path(&product_id);
    let with_hidden = format!("{public}?include_hidden=true");
    assert_eq!(rating(&app, &product_id).await, rated(3.0, 2));

    let hidden = app
        .patch(
            &moderation_path(&rude_id),
            Some(&staff_token),
            json!({"hidden": true, "version": 1}),
        )
        .await;

    hidden.assert_status(200);
    assert_eq!(hidden.body["hidden"], true);
    assert_eq!(hidden.body["version"], 2);
    assert_eq!(
        listed(&app, &public, None).await,
        std::slice::from_ref(&kind_id)
    );
    assert_eq!(rating(&app, &product_id).await, rated(5.0, 1));
    let seen_by_staff = app.get(&with_hidden, Some(&staff_token)).await;
    seen_by_staff.assert_status(200);
    assert_eq!(seen_by_staff.body["items"][1]["id"], rude_id.as_str());
    assert_eq!(seen_by_staff.body["items"][1]["hidden"], true);
    app.get(&with_hidden, Some(&ann)).await.assert_problem(403);
    app.get(&with_hidden, None).await.assert_problem(403);
    app.patch(
        &moderation_path(&rude_id),
        Some(&staff_token),
        json!({"hidden": false, "version": 1}),
    )
    .await
    .assert_problem(412);

    let admin = staff(&app, "admin").await;
    let shown = app
        .patch(
            &moderation_path(&rude_id),
            Some(&admin),
            json!({"hidden": false, "version": 2}),
        )
        .await;

    shown.assert_status(200);
    assert_eq!(shown.body["hidden"], false);
    assert_eq!(
        listed(&app, &public, None).await,
        [kind_id, rude_id.clone()]
    );
    assert_eq!(rating(&app, &product_id).await, rated(3.0, 2));
    let log = app.get("/api/v1/catalog/audit-log", Some(&admin)).await;
    log.assert_status(200);
    let actions: Vec<(&str, &str)> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["target_kind"] == "review")
        .map(|e| (text(e, "action"), text(e, "target_id")))
        .collect();
    assert_eq!(
        actions,
        [
            ("review.unhidden", rude_id.as_str()),
            ("review.hidden", rude_id.as_str())
        ]
    );
}

pub async fn only_catalog_staff_may_hide_reviews(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = moderation_path(&Uuid::now_v7().to_string());
    let body = json!({"hidden": true, "version": 1});

    app.patch(&path, Some(&customer(&app).await), body.clone())
        .await
        .assert_problem(403);
    app.patch(&path, Some(&staff(&app, "finance").await), body.clone())
        .await
        .assert_problem(403);
    app.patch(&path, None, body.clone())
        .await
        .assert_problem(401);
    let staff_token = inventory(&app).await;
    app.patch(&path, Some(&staff_token), body.clone())
        .await
        .assert_problem(404);
    app.patch(&path, Some(&staff_token), json!({"hidden": true}))
        .await
        .assert_problem(428);
}

pub async fn another_customer_cannot_edit_or_delete_a_review(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let ann = buyer(&app, &product_id).await;
    let mine = review(&app, &ann, &product_id, json!({"rating": 4})).await;
    let path = review_path(&product_id, text(&mine, "id"));
    let (mallory, staff_token) = (customer(&app).await, inventory(&app).await);

    app.patch(&path, Some(&mallory), json!({"rating": 1, "version": 1}))
        .await
        .assert_problem(404);
    app.delete(&path, Some(&mallory)).await.assert_problem(404);
    app.delete(&path, Some(&staff_token))
        .await
        .assert_problem(403);
    let other_product = review_path(&Uuid::now_v7().to_string(), text(&mine, "id"));
    app.delete(&other_product, Some(&ann))
        .await
        .assert_problem(404);

    let res = app.get(&reviews_path(&product_id), None).await;
    assert_eq!(res.body["items"][0]["rating"], 4);
    assert_eq!(res.body["items"][0]["version"], 1);
    assert_eq!(rating(&app, &product_id).await, rated(4.0, 1));
}

pub async fn bad_reviews_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let product_id = product(&app, &inventory(&app).await, 1500, 50).await;
    let token = customer(&app).await;
    let cases = [
        (json!({"rating": 0}), "rating"),
        (json!({"rating": 6}), "rating"),
        (json!({"rating": 2.5}), "rating"),
        (json!({"rating": "5"}), "rating"),
        (json!({"body": "No stars."}), "rating"),
        (json!({"rating": 5, "title": "x".repeat(121)}), "title"),
        (json!({"rating": 5, "title": "two\nlines"}), "title"),
        (json!({"rating": 5, "body": "y".repeat(5001)}), "body"),
    ];
    for (body, field) in cases {
        let res = post_review(&app, &token, &product_id, body.clone()).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{body}: {}", res.text);
    }

    let all = post_review(
        &app,
        &token,
        &product_id,
        json!({"rating": 9, "title": "z".repeat(200), "body": "b".repeat(6000)}),
    )
    .await;
    all.assert_problem(422);
    assert_eq!(
        all.error_fields(),
        ["rating", "title", "body"],
        "every field at once"
    );
    post_review(&app, &token, &product_id, json!({"rating": 5, "stars": 5}))
        .await
        .assert_problem(422);
    let longest = json!({"rating": 5, "title": "t".repeat(120), "body": "b".repeat(5000)});
    let fine = post_review(&app, &token, &product_id, longest).await;
    assert_eq!(
        fine.body["code"], "purchase_required",
        "valid input reaches the purchase check"
    );
}

pub async fn reviews_of_an_unknown_or_archived_product_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff_token = inventory(&app).await;
    let token = customer(&app).await;
    let unknown = Uuid::now_v7().to_string();
    let body = json!({"rating": 5});

    post_review(&app, &token, &unknown, body.clone())
        .await
        .assert_problem(404);
    app.get(&reviews_path(&unknown), None)
        .await
        .assert_problem(404);
    let archived = product(&app, &staff_token, 1500, 50).await;
    app.delete(&product_path(&archived), Some(&staff_token))
        .await
        .assert_status(204);

    post_review(&app, &token, &archived, body)
        .await
        .assert_problem(404);
    app.get(&reviews_path(&archived), None)
        .await
        .assert_problem(404);
    app.get(&reviews_path(&archived), Some(&staff_token))
        .await
        .assert_status(200);
    let missing_review = review_path(&archived, &Uuid::now_v7().to_string());
    app.patch(
        &missing_review,
        Some(&token),
        json!({"rating": 1, "version": 1}),
    )
    .await
    .assert_problem(404);
    app.delete(&missing_review, Some(&token))
        .await
        .assert_problem(404);
}

pub async fn reviews_posted_together_all_count_exactly(backend: Backend) {
    const BUYERS: usize = 5;
    let app = TestApp::spawn(backend).await;
    let (_, product_id) = shop(&app).await;
    let mut buyers = Vec::with_capacity(BUYERS);
    for _ in 0..BUYERS {
        buyers.push(buyer(&app, &product_id).await);
    }
    let stars = [5, 4, 4, 2, 1];
    let url = app.url(&reviews_path(&product_id));

    // Every review is sent at the same moment, each on its own task.
    let mut racing = tokio::task::JoinSet::new();
    for (token, rating) in buyers.iter().zip(stars) {
        let (client, url, token) = (app.client.clone(), url.clone(), token.clone());
        racing.spawn(async move {
            let body = json!({"rating": rating});
            post_as_buyer(&client, &url, &token, &body)
                .await
                .status
                .as_u16()
        });
    }
    let statuses = racing.join_all().await;

    assert_eq!(statuses, [201; BUYERS]);
    let sum: i64 = stars.iter().sum();
    assert_eq!(
        rating(&app, &product_id).await,
        rated(sum as f64 / BUYERS as f64, BUYERS as i64)
    );
    // Two pages of newest-first reviews, each review once.
    let first = app
        .get(&format!("{}?limit=3", reviews_path(&product_id)), None)
        .await;
    first.assert_status(200);
    let cursor = text(&first.body, "next_cursor");
    let rest = app
        .get(
            &format!("{}?limit=3&cursor={cursor}", reviews_path(&product_id)),
            None,
        )
        .await;
    rest.assert_status(200);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let mut ids: Vec<String> = [&first.body, &rest.body]
        .iter()
        .flat_map(|page| page["items"].as_array().expect("items").iter().map(id_of))
        .collect();
    assert_eq!(ids.len(), BUYERS);
    let newest_first = {
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        sorted
    };
    assert_eq!(ids, newest_first);
    ids.dedup();
    assert_eq!(ids.len(), BUYERS);
}

testkit::backend_tests!(
    a_buyer_reviews_and_the_product_shows_the_rating,
    a_customer_who_did_not_buy_the_product_may_not_review_it,
    a_buyer_who_cancelled_the_paid_order_may_not_review,
    a_second_review_of_the_same_product_is_a_conflict,
    the_author_edits_against_the_version_and_the_average_follows,
    the_author_deletes_the_review_and_the_rating_forgets_it,
    staff_hide_a_review_and_show_it_again,
    deleting_a_hidden_review_makes_no_room_for_another,
    only_catalog_staff_may_hide_reviews,
    another_customer_cannot_edit_or_delete_a_review,
    bad_reviews_are_refused_naming_the_field,
    reviews_of_an_unknown_or_archived_product_are_not_found,
    reviews_posted_together_all_count_exactly,
);
