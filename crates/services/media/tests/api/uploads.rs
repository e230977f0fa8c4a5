//! `POST /api/v1/products/{id}/images` and `GET /media/{id}/{variant}.webp`: uploads are
//! judged by content, refused cleanly when bad, and served as WebP in four sizes.

use image::ImageFormat;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{
    PNG, encoded, eventually, images_path, picture, png, png_claiming, product,
    product_with_images, stored_files, transparent_png, upload_png,
};

pub async fn an_upload_is_served_as_webp_in_four_sizes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let id = product(&app, &token, "Lamp").await;

    let res = app
        .upload(
            &images_path(&id),
            Some(&token),
            ("lamp.png", PNG, png(2000, 1000)),
            &[("alt", "A lamp")],
        )
        .await;

    res.assert_status(201);
    assert_eq!(res.body["status"], "processing");
    assert_eq!(res.body["format"], "png");
    assert_eq!(
        (res.body["width"].as_i64(), res.body["height"].as_i64()),
        (Some(2000), Some(1000))
    );
    let image_id = res.body["id"].as_str().expect("id").to_owned();
    let shown = product_with_images(&app, &id, 1).await;
    let image = &shown["images"][0];
    assert_eq!(image["id"], image_id.as_str());
    assert_eq!(image["alt"], "A lamp");
    for (variant, size) in [
        ("thumb", (160, 80)),
        ("medium", (640, 320)),
        ("large", (1600, 800)),
        ("original", (2000, 1000)),
    ] {
        let url = image["urls"][variant].as_str().expect("url");
        assert_eq!(url, format!("/media/{image_id}/{variant}.webp"));
        let (status, headers, body) = app.get_bytes(url, &[]).await;
        assert_eq!(status, 200, "{variant}");
        assert_eq!(headers["content-type"], "image/webp");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let decoded = image::load_from_memory_with_format(&body, ImageFormat::WebP).expect("webp");
        assert_eq!((decoded.width(), decoded.height()), size, "{variant}");

        let etag = headers["etag"].to_str().expect("etag").to_owned();
        let (again, again_headers, empty) = app.get_bytes(url, &[("if-none-match", &etag)]).await;
        assert_eq!(again, 304);
        assert_eq!(again_headers["etag"], etag.as_str());
        assert!(empty.is_empty());
    }
    let listed = app.get(&images_path(&id), Some(&token)).await;
    assert_eq!(listed.body[0]["status"], "ready");
}

pub async fn formats_are_recognised_by_content_not_by_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let id = product(&app, &token, "Poster").await;
    let img = picture(300, 200);
    let cases = [
        ("jpeg", encoded(&img, ImageFormat::Jpeg)),
        ("gif", encoded(&img, ImageFormat::Gif)),
        ("webp", encoded(&img, ImageFormat::WebP)),
        ("png", transparent_png(50, 40)),
    ];
    for (format, bytes) in cases {
        // Every file claims to be a PNG; the content decides.
        let res = app
            .upload(
                &images_path(&id),
                Some(&token),
                ("misnamed.png", PNG, bytes),
                &[],
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.body["format"], format);
    }
    let shown = product_with_images(&app, &id, 4).await;
    let transparent = shown["images"][3]["urls"]["thumb"]
        .as_str()
        .expect("url")
        .to_owned();
    let (_, _, body) = app.get_bytes(&transparent, &[]).await;
    let decoded = image::load_from_memory_with_format(&body, ImageFormat::WebP).expect("webp");
    assert!(decoded.color().has_alpha(), "transparency survives");
}

pub async fn bad_images_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.media.max_upload_bytes = 200_000).await;
    let token = app.staff_token("inventory").await;
    let id = product(&app, &token, "Kite").await;
    let whole = png(64, 64);

    let truncated = upload_png(&app, &token, &id, whole[..whole.len() / 2].to_vec()).await;
    let text = app
        .upload(
            &images_path(&id),
            Some(&token),
            ("photo.png", PNG, b"this is not a picture".to_vec()),
            &[],
        )
        .await;
    let bomb = upload_png(&app, &token, &id, png_claiming(20_000, 20_000)).await;
    let empty = upload_png(&app, &token, &id, Vec::new()).await;
    let too_big = upload_png(&app, &token, &id, vec![0u8; 300_000]).await;
    let no_file = app
        .post(&images_path(&id), Some(&token), json!({"file": "x"}))
        .await;
    let stray_field = app
        .upload(
            &images_path(&id),
            Some(&token),
            ("a.png", PNG, whole.clone()),
            &[("colour", "red")],
        )
        .await;
    let long_alt = "a".repeat(301);
    let bad_alt = app
        .upload(
            &images_path(&id),
            Some(&token),
            ("a.png", PNG, whole),
            &[("alt", &long_alt)],
        )
        .await;

    truncated.assert_problem(422);
    assert_eq!(truncated.body["code"], "image_corrupt");
    text.assert_problem(415);
    bomb.assert_problem(422);
    assert_eq!(bomb.body["code"], "image_too_large");
    assert!(
        bomb.body["detail"]
            .as_str()
            .expect("detail")
            .contains("20000×20000")
    );
    empty.assert_problem(422);
    assert_eq!(empty.error_fields(), ["file"]);
    too_big.assert_problem(413);
    no_file.assert_problem(415);
    stray_field.assert_problem(422);
    assert_eq!(stray_field.error_fields(), ["colour"]);
    bad_alt.assert_problem(422);
    assert_eq!(bad_alt.error_fields(), ["alt"]);
    let listed = app.get(&images_path(&id), Some(&token)).await;
    assert_eq!(listed.body, json!([]));
    assert_eq!(stored_files(&app), Vec::<String>::new());
}

pub async fn uploads_need_an_inventory_token_and_a_live_product(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let finance = app.staff_token("finance").await;
    let shopper = app.customer_token().await;
    let id = product(&app, &token, "Vase").await;
    let path = images_path(&id);

    for who in [None, Some("not-a-token")] {
        app.upload(&path, who, ("a.png", PNG, png(8, 8)), &[])
            .await
            .assert_problem(401);
        app.get(&path, who).await.assert_problem(401);
    }
    for who in [&finance, &shopper] {
        app.upload(&path, Some(who), ("a.png", PNG, png(8, 8)), &[])
            .await
            .assert_problem(403);
        app.get(&path, Some(who)).await.assert_problem(403);
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    upload_png(&app, &token, &unknown, png(8, 8))
        .await
        .assert_problem(404);

    // Once media has heard of the archive, the product takes no new images.
    let archived = app
        .send_with(
            reqwest::Method::DELETE,
            &format!("/api/v1/products/{id}"),
            Some(&token),
            &[("if-match", "\"1\"")],
            None,
        )
        .await;
    archived.assert_status(204);
    let refused = eventually("the archive to reach media", || async {
        let res = upload_png(&app, &token, &id, png(8, 8)).await;
        (res.status != 201).then_some(res)
    })
    .await;
    refused.assert_problem(409);
    assert_eq!(refused.body["code"], "product_archived");
}

pub async fn unknown_files_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/media/{id}/thumb.webp"),
        format!("/media/{id}/huge.webp"),
        format!("/media/{id}/thumb.png"),
        "/media/not-a-uuid/thumb.webp".to_owned(),
    ] {
        let (status, _, _) = app.get_bytes(&path, &[]).await;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
}

testkit::backend_tests!(
    an_upload_is_served_as_webp_in_four_sizes,
    formats_are_recognised_by_content_not_by_name,
    bad_images_are_refused_and_nothing_is_stored,
    uploads_need_an_inventory_token_and_a_live_product,
    unknown_files_are_not_found,
);
