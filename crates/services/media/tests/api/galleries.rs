//! A product's gallery: order and primary image, deletion, and the catalog's view of it.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{
    eventually, images_path, png, product, product_with_images, stored_files, upload_png,
};

fn ids(images: &Value) -> Vec<String> {
    images
        .as_array()
        .expect("images")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn gallery_of_three(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let id = product(app, token, "Chair").await;
    let mut uploaded = Vec::new();
    for size in [40, 50, 60] {
        let res = upload_png(app, token, &id, png(size, size)).await;
        res.assert_status(201);
        uploaded.push(res.body["id"].as_str().expect("id").to_owned());
    }
    let shown = product_with_images(app, &id, 3).await;
    assert_eq!(
        ids(&shown["images"]),
        uploaded,
        "upload order is display order"
    );
    (id, uploaded)
}

pub async fn images_can_be_reordered_and_the_first_is_primary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let (id, uploaded) = gallery_of_three(&app, &token).await;
    let reversed: Vec<String> = uploaded.iter().rev().cloned().collect();
    let order = format!("{}/order", images_path(&id));

    let res = app
        .send(
            reqwest::Method::PUT,
            &order,
            Some(&token),
            Some(json!({"image_ids": reversed})),
        )
        .await;

    res.assert_status(200);
    assert_eq!(ids(&res.body), reversed);
    assert_eq!(res.body[0]["position"], 0);
    let shown = eventually("the new order in the catalog", || async {
        let p = app.get(&format!("/api/v1/products/{id}"), None).await.body;
        (ids(&p["images"]) == reversed).then_some(p)
    })
    .await;
    assert_eq!(
        shown["images"][0]["width"], 60,
        "the primary image comes first"
    );
    let listing = app.get("/api/v1/products?q=chair", None).await;
    assert_eq!(ids(&listing.body["items"][0]["images"]), reversed);

    let missing_one = json!({"image_ids": reversed[..2]});
    let twice = json!({"image_ids": [reversed[0], reversed[0], reversed[1]]});
    let foreign = json!({"image_ids": [reversed[0], reversed[1], uuid::Uuid::now_v7()]});
    for body in [missing_one, twice, foreign] {
        let res = app
            .send(reqwest::Method::PUT, &order, Some(&token), Some(body))
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["image_ids"]);
    }
    let shopper = app.customer_token().await;
    app.send(
        reqwest::Method::PUT,
        &order,
        Some(&shopper),
        Some(json!({"image_ids": reversed})),
    )
    .await
    .assert_problem(403);
    app.send(
        reqwest::Method::PUT,
        &order,
        None,
        Some(json!({"image_ids": reversed})),
    )
    .await
    .assert_problem(401);
}

pub async fn deleting_an_image_removes_its_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let (id, uploaded) = gallery_of_three(&app, &token).await;
    let victim = &uploaded[1];
    let thumb = format!("/media/{victim}/thumb.webp");
    assert_eq!(app.get_bytes(&thumb, &[]).await.0, 200);
    let files_before = stored_files(&app).len();
    let path = format!("{}/{victim}", images_path(&id));
    let shopper = app.customer_token().await;
    app.delete(&path, Some(&shopper)).await.assert_problem(403);
    app.delete(&path, None).await.assert_problem(401);

    app.delete(&path, Some(&token)).await.assert_status(204);

    assert_eq!(app.get_bytes(&thumb, &[]).await.0, 404);
    // The upload as sent plus four variants, gone.
    assert_eq!(stored_files(&app).len(), files_before - 5);
    assert!(
        stored_files(&app)
            .iter()
            .all(|f| !f.contains(victim.as_str()))
    );
    let shown = product_with_images(&app, &id, 2).await;
    assert_eq!(
        ids(&shown["images"]),
        [uploaded[0].clone(), uploaded[2].clone()]
    );
    app.delete(&path, Some(&token)).await.assert_problem(404);
    let other = product(&app, &token, "Table").await;
    let elsewhere = format!("{}/{}", images_path(&other), uploaded[0]);
    app.delete(&elsewhere, Some(&token))
        .await
        .assert_problem(404);
}

testkit::backend_tests!(
    images_can_be_reordered_and_the_first_is_primary,
    deleting_an_image_removes_its_files,
);
