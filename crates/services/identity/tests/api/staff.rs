//! `/api/v1/staff`: admins manage staff, every action lands in the audit trail, role
//! changes and disabling end sessions, and the bootstrap admin stays.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{
    STAFF_PASSWORD, customer, send_with, staff_login, staff_refresh, text, unique_email,
    wait_for_subject,
};

const STAFF: &str = "/api/v1/staff";
const MEMBER_PASSWORD: &str = "inventory counts every widget";

async fn admin(app: &TestApp) -> String {
    let pair = app.staff_with_role("admin@shop.test", "admin").await;
    text(&pair, "access_token").to_owned()
}

/// Creates a staff member through the API; returns the created view.
async fn create(app: &TestApp, admin: &str, email: &str, role: &str) -> Value {
    let body =
        json!({"email": email, "name": "Sam Stock", "role": role, "password": MEMBER_PASSWORD});
    let res = app.post(STAFF, Some(admin), body).await;
    res.assert_status(201);
    res.body
}

fn member(id: &str) -> String {
    format!("{STAFF}/{id}")
}

pub async fn the_bootstrap_admin_signs_in_and_lists_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;

    let res = app.get(STAFF, Some(&token)).await;

    res.assert_status(200);
    let items = res.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["email"], "admin@shop.test");
    assert_eq!(items[0]["role"], "admin");
    assert_eq!(items[0]["is_bootstrap"], true);
    assert_eq!(items[0]["disabled"], false);
    assert!(items[0].get("password_hash").is_none());
    let login = staff_login(&app, "admin@shop.test", STAFF_PASSWORD).await;
    login.assert_status(200);
    assert_eq!(login.body["token_type"], "Bearer");
}

pub async fn an_admin_creates_a_staff_member_who_can_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("stock");

    let created = create(&app, &token, &email, "inventory").await;

    assert_eq!(created["email"], email);
    assert_eq!(created["name"], "Sam Stock");
    assert_eq!(created["role"], "inventory");
    assert_eq!(created["is_bootstrap"], false);
    assert_eq!(created["disabled"], false);
    let id = text(&created, "id");
    let one = app.get(&member(id), Some(&token)).await;
    one.assert_status(200);
    assert_eq!(
        one.headers["etag"],
        format!("\"{}\"", one.body["version"]).as_str()
    );
    staff_login(&app, &email, MEMBER_PASSWORD)
        .await
        .assert_status(200);
    wait_for_subject(&app, &email, "staff account").await;
}

pub async fn a_duplicate_staff_email_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("dup");
    create(&app, &token, &email, "finance").await;

    let body = json!({"email": email.to_uppercase(), "name": "Other", "role": "inventory", "password": MEMBER_PASSWORD});
    let res = app.post(STAFF, Some(&token), body).await;

    res.assert_problem(409);
    assert_eq!(res.body["code"], "email_taken");
}

pub async fn invalid_staff_fields_are_all_reported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;

    let res = app
        .post(
            STAFF,
            Some(&token),
            json!({"email": "nope", "name": "", "role": "boss", "password": "short"}),
        )
        .await;

    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["email", "name", "password", "role"]);
    let common = app
        .post(STAFF, Some(&token), json!({"email": unique_email("c"), "name": "C", "role": "finance", "password": "password123"}))
        .await;
    common.assert_problem(422);
    assert_eq!(common.error_fields(), vec!["password"]);
    let missing = app
        .post(
            STAFF,
            Some(&token),
            json!({"email": unique_email("m"), "name": "M", "password": MEMBER_PASSWORD}),
        )
        .await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["role"]);
}

pub async fn only_admins_may_manage_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, customer_pair) = customer(&app, "shopper").await;
    let inventory = app
        .staff_with_role("inventory@shop.test", "inventory")
        .await;
    let finance = app.staff_with_role("finance@shop.test", "finance").await;
    let body = json!({"email": unique_email("x"), "name": "X", "role": "admin", "password": MEMBER_PASSWORD});

    app.get(STAFF, None).await.assert_problem(401);
    app.post(STAFF, None, body.clone())
        .await
        .assert_problem(401);
    app.get(STAFF, Some(text(&customer_pair, "access_token")))
        .await
        .assert_problem(403);
    for pair in [&inventory, &finance] {
        let token = text(pair, "access_token");
        app.get(STAFF, Some(token)).await.assert_problem(403);
        app.post(STAFF, Some(token), body.clone())
            .await
            .assert_problem(403);
        app.get("/api/v1/staff/audit-log", Some(token))
            .await
            .assert_problem(403);
    }
}

pub async fn a_role_change_ends_the_members_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("promoted");
    let id = text(&create(&app, &token, &email, "inventory").await, "id").to_owned();
    let session = staff_login(&app, &email, MEMBER_PASSWORD).await.body;
    app.get(STAFF, Some(text(&session, "access_token")))
        .await
        .assert_problem(403);

    let res = send_with(
        &app,
        Method::PATCH,
        &member(&id),
        Some(&token),
        &[("if-match", "\"1\"")],
        Some(json!({"role": "admin"})),
    )
    .await;

    res.assert_status(200);
    assert_eq!(res.body["role"], "admin");
    assert_eq!(res.body["version"], 2);
    staff_refresh(&app, &session).await.assert_problem(401);
    let again = staff_login(&app, &email, MEMBER_PASSWORD).await;
    again.assert_status(200);
    app.get(STAFF, Some(text(&again.body, "access_token")))
        .await
        .assert_status(200);
}

pub async fn invalid_or_stale_staff_edits_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let id = text(
        &create(&app, &token, &unique_email("edit"), "inventory").await,
        "id",
    )
    .to_owned();

    let bad = app
        .patch(
            &member(&id),
            Some(&token),
            json!({"role": "boss", "password": "short"}),
        )
        .await;
    bad.assert_problem(422);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["password", "role"]);
    let stale = app
        .patch(
            &member(&id),
            Some(&token),
            json!({"name": "New Name", "version": 7}),
        )
        .await;
    stale.assert_problem(412);
    let unknown = app
        .patch(
            &member("0190e7a1-0000-7000-8000-000000000000"),
            Some(&token),
            json!({"name": "X"}),
        )
        .await;
    unknown.assert_problem(404);
    app.get(
        &member("0190e7a1-0000-7000-8000-000000000000"),
        Some(&token),
    )
    .await
    .assert_problem(404);
}

pub async fn an_admin_password_reset_ends_the_members_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("reset-by-admin");
    let id = text(&create(&app, &token, &email, "finance").await, "id").to_owned();
    let session = staff_login(&app, &email, MEMBER_PASSWORD).await.body;

    app.patch(
        &member(&id),
        Some(&token),
        json!({"password": "a brand new staff secret"}),
    )
    .await
    .assert_status(200);

    staff_refresh(&app, &session).await.assert_problem(401);
    staff_login(&app, &email, MEMBER_PASSWORD)
        .await
        .assert_problem(401);
    staff_login(&app, &email, "a brand new staff secret")
        .await
        .assert_status(200);
}

pub async fn a_disabled_member_can_neither_sign_in_nor_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("leaver");
    let id = text(&create(&app, &token, &email, "inventory").await, "id").to_owned();
    let session = staff_login(&app, &email, MEMBER_PASSWORD).await.body;

    app.delete(&member(&id), Some(&token))
        .await
        .assert_status(204);

    staff_refresh(&app, &session).await.assert_problem(401);
    let login = staff_login(&app, &email, MEMBER_PASSWORD).await;
    login.assert_problem(401);
    assert_eq!(login.body["code"], "invalid_credentials");
    assert_eq!(
        app.get(&member(&id), Some(&token)).await.body["disabled"],
        true
    );
    app.delete(&member(&id), Some(&token))
        .await
        .assert_status(204);
}

pub async fn the_bootstrap_admin_cannot_be_disabled_or_demoted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bootstrap = admin(&app).await;
    let second = unique_email("second-admin");
    create(&app, &bootstrap, &second, "admin").await;
    let second_token = text(
        &staff_login(&app, &second, MEMBER_PASSWORD).await.body,
        "access_token",
    )
    .to_owned();
    let list = app.get(STAFF, Some(&second_token)).await;
    let items = list.body["items"].as_array().expect("items");
    let boot_id = items
        .iter()
        .find(|m| m["email"] == "admin@shop.test")
        .expect("bootstrap")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let second_id = items
        .iter()
        .find(|m| m["email"] == second.as_str())
        .expect("second")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let res = app.delete(&member(&boot_id), Some(&second_token)).await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "bootstrap_admin");
    app.patch(
        &member(&boot_id),
        Some(&second_token),
        json!({"role": "finance"}),
    )
    .await
    .assert_problem(409);
    let own = app.delete(&member(&second_id), Some(&second_token)).await;
    own.assert_problem(409);

    staff_login(&app, "admin@shop.test", STAFF_PASSWORD)
        .await
        .assert_status(200);
}

pub async fn the_audit_log_lists_staff_actions_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    let email = unique_email("audited");
    let id = text(&create(&app, &token, &email, "inventory").await, "id").to_owned();
    app.patch(&member(&id), Some(&token), json!({"role": "finance"}))
        .await
        .assert_status(200);
    app.delete(&member(&id), Some(&token))
        .await
        .assert_status(204);

    let res = app.get("/api/v1/staff/audit-log", Some(&token)).await;

    res.assert_status(200);
    let items = res.body["items"].as_array().expect("items");
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        vec!["staff.disabled", "staff.updated", "staff.created"]
    );
    let admin_id = app.get(STAFF, Some(&token)).await.body["items"][0]["id"].clone();
    for entry in items {
        assert_eq!(entry["actor_id"], admin_id);
        assert_eq!(entry["target_kind"], "staff");
        assert_eq!(entry["target_id"], id.as_str());
        assert!(entry["at"].is_string() && entry["client_ip"].is_string());
    }
    assert_eq!(items[2]["details"]["role"], "inventory");
    assert!(
        !items[2]["details"].to_string().contains(MEMBER_PASSWORD),
        "no secrets in the trail"
    );
    app.get("/api/v1/staff/audit-log", None)
        .await
        .assert_problem(401);
}

pub async fn the_audit_log_narrows_by_actor_entity_and_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = admin(&app).await;
    let second = app.staff_token("admin").await;
    let x = text(
        &create(&app, &first, &unique_email("x"), "inventory").await,
        "id",
    )
    .to_owned();
    app.patch(&member(&x), Some(&first), json!({"role": "finance"}))
        .await
        .assert_status(200);
    create(&app, &second, &unique_email("y"), "inventory").await;
    let trail = |query: &str| {
        let (app, second) = (&app, second.clone());
        let path = format!("{STAFF}/audit-log?{query}");
        async move {
            let res = app.get(&path, Some(&second)).await;
            res.assert_status(200);
            res.body
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| text(e, "id").to_owned())
            .collect()
    };

    let all = trail("limit=100").await;
    let everything = ids(&all);
    assert_eq!(everything.len(), 3, "{all}");
    let second_id = text(&all["items"][0], "actor_id").to_owned();
    let by_second = trail(&format!("actor_id={second_id}")).await;
    assert_eq!(ids(&by_second), everything[..1]);
    let on_x = trail(&format!("target_kind=staff&target_id={x}")).await;
    assert_eq!(ids(&on_x), everything[1..]);
    // `before` pages on from any entry, as a client merging services' trails does.
    assert_eq!(
        ids(&trail(&format!("before={}", everything[0])).await),
        everything[1..]
    );
    let one = trail("limit=1").await;
    assert_eq!(ids(&one), everything[..1]);
    let cursor = text(&one, "next_cursor");
    assert_eq!(
        ids(&trail(&format!("limit=1&cursor={cursor}&before={}", everything[2])).await),
        Vec::<String>::new(),
        "the lower bound of the two holds"
    );
    assert!(ids(&trail("from=2999-01-01T00:00:00Z").await).is_empty());
    assert!(ids(&trail("to=2000-01-01T00:00:00Z").await).is_empty());
    assert_eq!(
        ids(&trail("from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z").await),
        everything
    );

    let long = app
        .get(
            &format!("{STAFF}/audit-log?target_kind={}", "k".repeat(41)),
            Some(&second),
        )
        .await;
    long.assert_problem(422);
    assert_eq!(long.body["errors"][0]["field"], "target_kind");
}

pub async fn the_staff_list_is_paginated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = admin(&app).await;
    for i in 0..2 {
        create(&app, &token, &unique_email(&format!("page{i}")), "finance").await;
    }

    let first = app.get(&format!("{STAFF}?limit=2"), Some(&token)).await;
    first.assert_status(200);
    assert_eq!(first.body["items"].as_array().expect("items").len(), 2);
    let cursor = text(&first.body, "next_cursor").to_owned();
    let second = app
        .get(&format!("{STAFF}?limit=2&cursor={cursor}"), Some(&token))
        .await;
    second.assert_status(200);
    assert_eq!(second.body["items"].as_array().expect("items").len(), 1);
    assert!(second.body["next_cursor"].is_null());

    app.get(&format!("{STAFF}?limit=0"), Some(&token))
        .await
        .assert_problem(422);
    app.get(&format!("{STAFF}?cursor=garbage!"), Some(&token))
        .await
        .assert_problem(422);
}

testkit::backend_tests!(
    the_bootstrap_admin_signs_in_and_lists_staff,
    an_admin_creates_a_staff_member_who_can_sign_in,
    a_duplicate_staff_email_is_a_conflict,
    invalid_staff_fields_are_all_reported,
    only_admins_may_manage_staff,
    a_role_change_ends_the_members_sessions,
    invalid_or_stale_staff_edits_are_refused,
    an_admin_password_reset_ends_the_members_sessions,
    a_disabled_member_can_neither_sign_in_nor_refresh,
    the_bootstrap_admin_cannot_be_disabled_or_demoted,
    the_audit_log_lists_staff_actions_newest_first,
    the_audit_log_narrows_by_actor_entity_and_time,
    the_staff_list_is_paginated,
);
