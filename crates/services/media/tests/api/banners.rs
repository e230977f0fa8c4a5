//! Home-page banners (admin CRUD, public list) and `GET /storefront/home`.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{PNG, eventually, png, product, upload_png};

const BANNERS: &str = "/api/v1/banners";

async fn create_banner(app: &TestApp, token: &str, title: &str, link: &str) -> Value {
    let res = app
        .upload(
            BANNERS,
            Some(token),
            ("banner.png", PNG, png(1200, 400)),
            &[("title", title), ("link", link)],
        )
        .await;
    res.assert_status(201);
    res.body
}

async fn home(app: &TestApp) -> Value {
    let res = app.get("/api/v1/storefront/home", None).await;
    res.assert_status(200);
    res.body
}

fn banner_titles(home: &Value) -> Vec<String> {
    home["banners"]
        .as_array()
        .expect("banners")
        .iter()
        .map(|b| b["title"].as_str().expect("title").to_owned())
        .collect()
}

pub async fn banners_show_on_the_home_page_once_processed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;

    let created = create_banner(&app, &admin, "Summer sale", "/categories/summer").await;

    assert_eq!(created["image"]["status"], "processing");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("id").to_owned();
    let shown = eventually("the banner on the home page", || async {
        let h = home(&app).await;
        (banner_titles(&h) == ["Summer sale"]).then_some(h)
    })
    .await;
    let banner = &shown["banners"][0];
    assert_eq!(banner["link"], "/categories/summer");
    let large = banner["image"]["urls"]["large"].as_str().expect("url");
    assert_eq!(app.get_bytes(large, &[]).await.0, 200);
    let public = app.get(BANNERS, None).await;
    assert_eq!(public.body["items"][0]["id"], id.as_str());

    let path = format!("{BANNERS}/{id}");
    let renamed = app
        .patch(
            &path,
            Some(&admin),
            json!({"title": "Big sale", "version": 1}),
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.headers["etag"], "\"2\"");
    app.patch(&path, Some(&admin), json!({"title": "Stale", "version": 1}))
        .await
        .assert_problem(412);
    app.patch(&path, Some(&admin), json!({"title": "Blind"}))
        .await
        .assert_problem(428);
    eventually("the new title", || async {
        (banner_titles(&home(&app).await) == ["Big sale"]).then_some(())
    })
    .await;

    app.delete(&path, Some(&admin)).await.assert_status(204);
    eventually("the banner gone", || async {
        banner_titles(&home(&app).await).is_empty().then_some(())
    })
    .await;
    assert_eq!(app.get_bytes(large, &[]).await.0, 404);
    app.delete(&path, Some(&admin)).await.assert_problem(404);
}

pub async fn banner_fields_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    for (fields, bad) in [
        (vec![("link", "/x")], "title"),
        (vec![("title", "T")], "link"),
        (
            vec![("title", "T"), ("link", "javascript:alert(1)")],
            "link",
        ),
        (vec![("title", "T"), ("link", "//evil.example")], "link"),
        (
            vec![("title", "T"), ("link", "/x"), ("position", "-1")],
            "position",
        ),
        (
            vec![("title", "T"), ("link", "/x"), ("position", "first")],
            "position",
        ),
    ] {
        let res = app
            .upload(BANNERS, Some(&admin), ("b.png", PNG, png(20, 10)), &fields)
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [bad], "{fields:?}");
    }
    let res = app
        .upload(
            BANNERS,
            Some(&admin),
            ("b.png", PNG, b"GIF89a but not really".to_vec()),
            &[("title", "T"), ("link", "/x")],
        )
        .await;
    res.assert_problem(422);
    assert_eq!(
        app.get(BANNERS, Some(&admin)).await.body["items"],
        json!([])
    );
}

pub async fn only_admins_manage_banners(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    let inventory = app.staff_token("inventory").await;
    let shopper = app.customer_token().await;
    let fields = [("title", "T"), ("link", "/x")];
    for who in [&inventory, &shopper] {
        app.upload(BANNERS, Some(who), ("b.png", PNG, png(20, 10)), &fields)
            .await
            .assert_problem(403);
    }
    app.upload(BANNERS, None, ("b.png", PNG, png(20, 10)), &fields)
        .await
        .assert_problem(401);
    let banner = create_banner(&app, &admin, "Mine", "/x").await;
    let path = format!("{BANNERS}/{}", banner["id"].as_str().expect("id"));
    for who in [Some(inventory.as_str()), Some(shopper.as_str())] {
        app.delete(&path, who).await.assert_problem(403);
        app.send(
            Method::PATCH,
            &path,
            who,
            Some(json!({"title": "X", "version": 1})),
        )
        .await
        .assert_problem(403);
    }
    app.delete(&path, None).await.assert_problem(401);
    // What staff did is in media's audit trail, for admins only.
    let audit = app.get("/api/v1/media/audit-log", Some(&admin)).await;
    audit.assert_status(200);
    assert_eq!(audit.body["items"][0]["action"], "banner.created");
    app.get("/api/v1/media/audit-log", Some(&inventory))
        .await
        .assert_problem(403);
    app.get("/api/v1/media/audit-log", None)
        .await
        .assert_problem(401);
    // Customers never see a banner whose image is not ready; admins see it at once.
    assert_eq!(
        app.get(BANNERS, Some(&admin)).await.body["items"][0]["title"],
        "Mine"
    );
}

pub async fn the_home_page_lists_marked_categories_with_their_products(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.staff_token("inventory").await;
    let admin = app.staff_token("admin").await;
    let shown = app
        .post(
            "/api/v1/categories",
            Some(&admin),
            json!({"name": "Garden", "show_on_home": true}),
        )
        .await;
    shown.assert_status(201);
    let hidden = app
        .post("/api/v1/categories", Some(&admin), json!({"name": "Attic"}))
        .await;
    let garden = shown.body["id"].as_str().expect("id").to_owned();
    let sub = app
        .post(
            "/api/v1/categories",
            Some(&admin),
            json!({"name": "Hoses", "parent_id": garden}),
        )
        .await;
    let hose = product(&app, &token, "Hose").await;
    app.send_with(
        Method::PATCH,
        &format!("/api/v1/products/{hose}"),
        Some(&token),
        &[("if-match", "\"1\"")],
        Some(json!({"category_ids": [sub.body["id"]]})),
    )
    .await
    .assert_status(200);
    let box_id = product(&app, &token, "Box").await;
    app.send_with(
        Method::PATCH,
        &format!("/api/v1/products/{box_id}"),
        Some(&token),
        &[("if-match", "\"1\"")],
        Some(json!({"category_ids": [hidden.body["id"]]})),
    )
    .await
    .assert_status(200);
    upload_png(&app, &token, &hose, png(30, 30))
        .await
        .assert_status(201);

    let page = eventually("the hose's image on the home page", || async {
        let h = home(&app).await;
        let first = &h["categories"][0]["products"][0];
        (first["images"].as_array().map_or(0, Vec::len) == 1).then_some(h)
    })
    .await;

    let categories = page["categories"].as_array().expect("categories");
    assert_eq!(categories.len(), 1, "only marked categories: {page}");
    assert_eq!(categories[0]["name"], "Garden");
    let products: Vec<&str> = categories[0]["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(products, ["Hose"], "products of subcategories count");
    assert!(
        categories[0]["products"][0].get("stock").is_none(),
        "the public view"
    );
}

testkit::backend_tests!(
    banners_show_on_the_home_page_once_processed,
    banner_fields_are_validated,
    only_admins_manage_banners,
    the_home_page_lists_marked_categories_with_their_products,
);
