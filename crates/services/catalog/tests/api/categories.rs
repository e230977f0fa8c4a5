//! `/api/v1/categories`: a public tree that inventory staff edit against the version they
//! read, that never gets a cycle, and that keeps categories still in use.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{
    CATEGORIES, category_path, create_category, create_product_with, customer, id_of, if_match,
    inventory, product_body, product_path, staff, text,
};

/// The tree's root nodes.
async fn tree(app: &TestApp) -> Vec<Value> {
    let res = app.get(CATEGORIES, None).await;
    res.assert_status(200);
    res.body["items"].as_array().expect("items").clone()
}

/// Every id anywhere in the tree.
fn all_ids(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .flat_map(|n| {
            let mut ids = vec![id_of(n)];
            ids.extend(all_ids(n["children"].as_array().expect("children")));
            ids
        })
        .collect()
}

pub async fn a_category_is_created_with_a_slug_made_from_its_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;

    let body =
        json!({"name": "Outdoor Gear & Camping", "description": "Tents", "show_on_home": true});
    let res = app.post(CATEGORIES, Some(&token), body).await;

    res.assert_status(201);
    assert_eq!(res.body["name"], "Outdoor Gear & Camping");
    assert_eq!(res.body["slug"], "outdoor-gear-camping");
    assert_eq!(res.body["description"], "Tents");
    assert_eq!(res.body["show_on_home"], true);
    assert_eq!(res.body["parent_id"], Value::Null);
    assert_eq!(res.body["version"], 1);
    assert_eq!(res.body["children"], json!([]));
}

pub async fn the_tree_nests_children_under_their_parents(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shoes = create_category(&app, &token, "Shoes", None).await;
    let running = create_category(&app, &token, "Running", Some(text(&shoes, "id"))).await;
    let trail = create_category(&app, &token, "Trail", Some(text(&running, "id"))).await;
    let bags = create_category(&app, &token, "Bags", None).await;

    let roots = tree(&app).await;

    let mut root_ids: Vec<String> = roots.iter().map(id_of).collect();
    root_ids.sort();
    let mut expected = vec![id_of(&shoes), id_of(&bags)];
    expected.sort();
    assert_eq!(root_ids, expected);
    let shoes_node = roots
        .iter()
        .find(|n| n["id"] == shoes["id"])
        .expect("shoes");
    let children = shoes_node["children"].as_array().expect("children");
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["id"], running["id"]);
    assert_eq!(children[0]["parent_id"], shoes["id"]);
    assert_eq!(children[0]["children"][0]["id"], trail["id"]);
    assert_eq!(children[0]["children"][0]["slug"], "trail");
}

pub async fn editing_a_category_needs_the_current_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let c = create_category(&app, &token, "Hats", None).await;
    let path = category_path(text(&c, "id"));

    let missing = app
        .patch(&path, Some(&token), json!({"name": "Caps"}))
        .await;
    let ok = if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        1,
        Some(json!({"name": "Caps", "description": "Baseball caps"})),
    )
    .await;
    let stale = if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        1,
        Some(json!({"name": "Beanies"})),
    )
    .await;
    let by_body = app
        .patch(&path, Some(&token), json!({"position": 3, "version": 2}))
        .await;

    missing.assert_problem(428);
    ok.assert_status(200);
    assert_eq!(ok.headers["etag"], "\"2\"");
    assert_eq!(ok.body["name"], "Caps");
    assert_eq!(ok.body["slug"], "hats", "the slug stays unless sent");
    assert_eq!(ok.body["description"], "Baseball caps");
    assert_eq!(ok.body["version"], 2);
    stale.assert_problem(412);
    by_body.assert_status(200);
    assert_eq!(by_body.body["version"], 3);
    assert_eq!(by_body.body["position"], 3);
    let roots = tree(&app).await;
    assert_eq!(roots[0]["name"], "Caps");
}

pub async fn a_category_without_a_name_or_with_a_bad_slug_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;

    let res = app
        .post(
            CATEGORIES,
            Some(&token),
            json!({"slug": "Not A Slug", "description": "x", "position": 1_000_001}),
        )
        .await;

    res.assert_problem(422);
    let fields = res.error_fields();
    assert!(fields.contains(&"name".to_owned()), "{fields:?}");
    assert!(fields.contains(&"slug".to_owned()), "{fields:?}");
    assert!(fields.contains(&"position".to_owned()), "{fields:?}");
    assert!(tree(&app).await.is_empty());
}

pub async fn a_parent_that_does_not_exist_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let ghost = uuid::Uuid::now_v7().to_string();

    let res = app
        .post(
            CATEGORIES,
            Some(&token),
            json!({"name": "Orphans", "parent_id": ghost}),
        )
        .await;

    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["parent_id"]);
    assert!(tree(&app).await.is_empty());
}

pub async fn a_category_cannot_be_moved_below_itself(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let top = create_category(&app, &token, "Top", None).await;
    let child = create_category(&app, &token, "Child", Some(text(&top, "id"))).await;
    let grandchild = create_category(&app, &token, "Grandchild", Some(text(&child, "id"))).await;
    let path = category_path(text(&top, "id"));

    let under_child = app
        .patch(
            &path,
            Some(&token),
            json!({"parent_id": child["id"], "version": 1}),
        )
        .await;
    let under_grandchild = app
        .patch(
            &path,
            Some(&token),
            json!({"parent_id": grandchild["id"], "version": 1}),
        )
        .await;
    let under_itself = app
        .patch(
            &path,
            Some(&token),
            json!({"parent_id": top["id"], "version": 1}),
        )
        .await;

    for res in [&under_child, &under_grandchild, &under_itself] {
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["parent_id"]);
    }
    let roots = tree(&app).await;
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["id"], top["id"]);
    assert_eq!(roots[0]["version"], 1);
}

pub async fn a_duplicate_category_slug_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    create_category(&app, &token, "Socks", None).await;
    let other = create_category(&app, &token, "Tights", None).await;

    let same_name = app
        .post(CATEGORIES, Some(&token), json!({"name": "Socks"}))
        .await;
    let renamed = app
        .patch(
            &category_path(text(&other, "id")),
            Some(&token),
            json!({"slug": "socks", "version": 1}),
        )
        .await;

    same_name.assert_problem(409);
    renamed.assert_problem(409);
    assert_eq!(tree(&app).await.len(), 2);
}

pub async fn a_deleted_category_leaves_the_tree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let keep = create_category(&app, &token, "Keep", None).await;
    let gone = create_category(&app, &token, "Gone", None).await;
    let path = category_path(text(&gone, "id"));

    let res = app.delete(&path, Some(&token)).await;

    res.assert_status(204);
    assert_eq!(all_ids(&tree(&app).await), [id_of(&keep)]);
    app.delete(&path, Some(&token)).await.assert_problem(404);
    app.patch(&path, Some(&token), json!({"name": "Back", "version": 2}))
        .await
        .assert_problem(404);
}

pub async fn a_category_in_use_cannot_be_deleted_until_its_product_is_archived(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let c = create_category(&app, &token, "Lamps", None).await;
    let mut body = product_body("Desk Lamp", 2500);
    body["category_ids"] = json!([c["id"]]);
    let product = create_product_with(&app, &token, body).await;
    let path = category_path(text(&c, "id"));

    let in_use = app.delete(&path, Some(&token)).await;
    app.delete(&product_path(text(&product, "id")), Some(&token))
        .await
        .assert_status(204);
    let after_archive = app.delete(&path, Some(&token)).await;

    in_use.assert_problem(409);
    assert_eq!(in_use.body["code"], "category_in_use", "{}", in_use.text);
    after_archive.assert_status(204);
    assert!(tree(&app).await.is_empty());
}

pub async fn a_category_with_a_subcategory_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let parent = create_category(&app, &token, "Kitchen", None).await;
    let child = create_category(&app, &token, "Knives", Some(text(&parent, "id"))).await;
    let path = category_path(text(&parent, "id"));

    let res = app.delete(&path, Some(&token)).await;
    app.delete(&category_path(text(&child, "id")), Some(&token))
        .await
        .assert_status(204);
    let after = app.delete(&path, Some(&token)).await;

    res.assert_problem(409);
    assert_eq!(res.body["code"], "category_has_children", "{}", res.text);
    after.assert_status(204);
}

pub async fn category_edits_need_an_inventory_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shopper = customer(&app).await;
    let finance = staff(&app, "finance").await;
    let c = create_category(&app, &token, "Guarded", None).await;
    let path = category_path(text(&c, "id"));
    let edit = json!({"name": "Taken", "version": 1});

    app.post(CATEGORIES, None, json!({"name": "Anon"}))
        .await
        .assert_problem(401);
    app.patch(&path, None, edit.clone())
        .await
        .assert_problem(401);
    app.delete(&path, None).await.assert_problem(401);
    for who in [&shopper, &finance] {
        app.post(CATEGORIES, Some(who), json!({"name": "Nope"}))
            .await
            .assert_problem(403);
        app.patch(&path, Some(who), edit.clone())
            .await
            .assert_problem(403);
        app.delete(&path, Some(who)).await.assert_problem(403);
    }
    let admin = staff(&app, "admin").await;
    app.post(CATEGORIES, Some(&admin), json!({"name": "By Admin"}))
        .await
        .assert_status(201);
    let roots = tree(&app).await;
    assert_eq!(roots.len(), 2);
    assert!(
        roots
            .iter()
            .any(|n| n["name"] == "Guarded" && n["version"] == 1)
    );
}

pub async fn a_category_moves_to_the_top_level_with_a_null_parent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let top = create_category(&app, &token, "Top", None).await;
    let child = create_category(&app, &token, "Child", Some(text(&top, "id"))).await;

    let res = app
        .patch(
            &category_path(text(&child, "id")),
            Some(&token),
            json!({"parent_id": null, "version": 1}),
        )
        .await;

    res.assert_status(200);
    assert_eq!(res.body["parent_id"], Value::Null);
    let roots = tree(&app).await;
    assert_eq!(roots.len(), 2);
    assert!(roots.iter().all(|n| n["children"] == json!([])));
}

pub async fn a_deleted_categorys_name_can_be_used_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let old = create_category(&app, &token, "Summer Sale", None).await;
    app.delete(&category_path(text(&old, "id")), Some(&token))
        .await
        .assert_status(204);

    let res = app
        .post(CATEGORIES, Some(&token), json!({"name": "Summer Sale"}))
        .await;

    res.assert_status(201);
    assert_eq!(res.body["slug"], "summer-sale");
    assert_eq!(all_ids(&tree(&app).await), [id_of(&res.body)]);
}

testkit::backend_tests!(
    a_category_moves_to_the_top_level_with_a_null_parent,
    a_deleted_categorys_name_can_be_used_again,
    a_category_is_created_with_a_slug_made_from_its_name,
    the_tree_nests_children_under_their_parents,
    editing_a_category_needs_the_current_version,
    a_category_without_a_name_or_with_a_bad_slug_is_rejected,
    a_parent_that_does_not_exist_is_rejected,
    a_category_cannot_be_moved_below_itself,
    a_duplicate_category_slug_is_a_conflict,
    a_deleted_category_leaves_the_tree,
    a_category_in_use_cannot_be_deleted_until_its_product_is_archived,
    a_category_with_a_subcategory_cannot_be_deleted,
    category_edits_need_an_inventory_token,
);
