//! `/api/v1/me` and `/api/v1/me/password`: the signed-in customer's profile, optimistic
//! concurrency, email changes that wait for verification, and password changes.

use platform::config::Limit;
use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{NEW_PASSWORD, PASSWORD, customer, send_with, text, unique_email};

const ME: &str = "/api/v1/me";
const ME_PASSWORD: &str = "/api/v1/me/password";

pub async fn the_profile_needs_a_customer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_with_role("me-staff@shop.test", "admin").await;

    let anonymous = app.get(ME, None).await;
    anonymous.assert_problem(401);
    app.get(ME, Some("not.a.jwt")).await.assert_problem(401);
    let basic = send_with(
        &app,
        Method::GET,
        ME,
        None,
        &[("authorization", "Basic dXNlcjpwYXNz")],
        None,
    )
    .await;
    basic.assert_problem(401);
    let forbidden = app.get(ME, Some(text(&staff, "access_token"))).await;
    forbidden.assert_problem(403);
    assert_eq!(forbidden.body["code"], "forbidden");
}

pub async fn the_profile_carries_an_etag_of_its_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, pair) = customer(&app, "profile").await;

    let res = app.get(ME, Some(text(&pair, "access_token"))).await;

    res.assert_status(200);
    assert_eq!(res.body["email"], email);
    assert_eq!(res.body["name"], "Test Customer");
    assert_eq!(res.body["email_verified"], true);
    assert!(
        res.body["id"].is_string() && res.body["created_at"].is_string(),
        "{}",
        res.text
    );
    assert!(res.body.get("pending_email").is_none());
    assert!(res.body.get("password_hash").is_none());
    let version = res.body["version"].as_i64().expect("version");
    assert_eq!(res.headers["etag"], format!("\"{version}\"").as_str());
}

pub async fn patching_the_name_changes_it_and_the_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "rename").await;
    let token = text(&pair, "access_token");
    let before = app.get(ME, Some(token)).await.body["version"]
        .as_i64()
        .expect("version");

    let res = app
        .patch(ME, Some(token), json!({"name": "  Ann Lee  "}))
        .await;

    res.assert_status(200);
    assert_eq!(res.body["name"], "Ann Lee");
    assert_eq!(res.body["version"], before + 1);
    assert_eq!(res.headers["etag"], format!("\"{}\"", before + 1).as_str());
    assert_eq!(app.get(ME, Some(token)).await.body["name"], "Ann Lee");
}

pub async fn a_stale_version_is_refused_with_412(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "stale").await;
    let token = text(&pair, "access_token");
    let current = app.get(ME, Some(token)).await;
    let etag = current.headers["etag"].to_str().expect("ascii").to_owned();
    let version = current.body["version"].as_i64().expect("version");

    let fresh = send_with(
        &app,
        Method::PATCH,
        ME,
        Some(token),
        &[("if-match", &etag)],
        Some(json!({"name": "First"})),
    )
    .await;
    fresh.assert_status(200);

    let stale = send_with(
        &app,
        Method::PATCH,
        ME,
        Some(token),
        &[("if-match", &etag)],
        Some(json!({"name": "Second"})),
    )
    .await;
    stale.assert_problem(412);
    assert_eq!(stale.body["code"], "stale_version");
    let stale_body = app
        .patch(
            ME,
            Some(token),
            json!({"name": "Third", "version": version}),
        )
        .await;
    stale_body.assert_problem(412);
    assert_eq!(app.get(ME, Some(token)).await.body["name"], "First");
}

pub async fn a_malformed_if_match_is_a_bad_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "if-match").await;

    let res = send_with(
        &app,
        Method::PATCH,
        ME,
        Some(text(&pair, "access_token")),
        &[("if-match", "\"abc\"")],
        Some(json!({"name": "X"})),
    )
    .await;

    res.assert_problem(400);
    assert_eq!(res.body["code"], "bad_if_match");
}

pub async fn invalid_profile_changes_name_their_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "bad-patch").await;
    let token = text(&pair, "access_token");

    let res = app
        .patch(ME, Some(token), json!({"name": "   ", "email": "nope"}))
        .await;
    res.assert_problem(422);
    let fields = res.error_fields();
    assert!(
        fields.contains(&"name".to_owned()) && fields.contains(&"email".to_owned()),
        "{fields:?}"
    );

    let long = app
        .patch(ME, Some(token), json!({"name": "x".repeat(101)}))
        .await;
    long.assert_problem(422);
    assert_eq!(long.error_fields(), vec!["name"]);

    let typed = app.patch(ME, Some(token), json!({"name": 5})).await;
    typed.assert_problem(422);
    assert_eq!(typed.error_fields(), vec!["name"]);

    let unknown = app
        .patch(ME, Some(token), json!({"email_verified": true}))
        .await;
    unknown.assert_problem(422);

    app.patch(ME, None, json!({"name": "Nobody"}))
        .await
        .assert_problem(401);
}

pub async fn a_new_email_takes_effect_only_once_verified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (old, pair) = customer(&app, "old-address").await;
    let token = text(&pair, "access_token");
    let new = unique_email("new-address");

    let res = app.patch(ME, Some(token), json!({"email": new})).await;

    res.assert_status(200);
    assert_eq!(res.body["email"], old);
    assert_eq!(res.body["pending_email"], new);
    let me = app.get(ME, Some(token)).await;
    assert_eq!(me.body["email"], old);
    assert_eq!(me.body["pending_email"], new);
    let mail = app.wait_for_mails(&new, 1).await.remove(0);
    assert!(
        app.mails_to(&old)
            .await
            .iter()
            .all(|m| m.link_token() != mail.link_token()),
        "the proof goes to the new address only"
    );

    app.post(
        "/api/v1/auth/verify-email",
        None,
        json!({"token": mail.link_token().expect("token")}),
    )
    .await
    .assert_status(204);

    let me = app.get(ME, Some(token)).await;
    assert_eq!(me.body["email"], new);
    assert_eq!(me.body["email_verified"], true);
    assert!(me.body.get("pending_email").is_none(), "{}", me.text);
    app.login(&new, PASSWORD).await;
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": old, "password": PASSWORD}),
    )
    .await
    .assert_problem(401);
}

/// Each email change mails the new address, so both the changes one customer starts and
/// the mails one address receives are limited: nobody can use the shop to flood an
/// inbox.
pub async fn email_changes_are_limited_per_customer_and_per_new_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.email_change_per_account = Limit::new(2, 3600);
        s.rate_limits.mail_per_recipient = Limit::new(1, 3600);
    })
    .await;
    let (_, pair) = customer(&app, "changer").await;
    let token = text(&pair, "access_token");
    for _ in 0..2 {
        app.patch(ME, Some(token), json!({"email": unique_email("next")}))
            .await
            .assert_status(200);
    }
    let over = app
        .patch(ME, Some(token), json!({"email": unique_email("next")}))
        .await;
    over.assert_problem(429);
    assert!(over.headers.contains_key("retry-after"));

    let target = unique_email("target");
    let (_, first) = customer(&app, "first").await;
    let (_, second) = customer(&app, "second").await;
    app.patch(
        ME,
        Some(text(&first, "access_token")),
        json!({"email": target}),
    )
    .await
    .assert_status(200);
    app.patch(
        ME,
        Some(text(&second, "access_token")),
        json!({"email": target}),
    )
    .await
    .assert_problem(429);
    app.wait_for_mails(&target, 1).await;
    assert_eq!(app.mails_to(&target).await.len(), 1);
    // The refused change left the profile as it was.
    let me = app.get(ME, Some(text(&second, "access_token"))).await;
    assert!(me.body.get("pending_email").is_none(), "{}", me.text);
}

pub async fn a_new_email_can_be_confirmed_with_its_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "code-change").await;
    let token = text(&pair, "access_token");
    let new = unique_email("code-new");
    app.patch(ME, Some(token), json!({"email": new}))
        .await
        .assert_status(200);
    let code = app
        .wait_for_mails(&new, 1)
        .await
        .remove(0)
        .code()
        .expect("code");

    app.post(
        "/api/v1/auth/verify-email",
        None,
        json!({"email": new, "code": code}),
    )
    .await
    .assert_status(204);

    assert_eq!(app.get(ME, Some(token)).await.body["email"], new);
}

pub async fn an_email_taken_meanwhile_is_not_switched_to(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "switcher").await;
    let token = text(&pair, "access_token");
    let contested = unique_email("contested");
    app.patch(ME, Some(token), json!({"email": contested}))
        .await
        .assert_status(200);
    let mail = app.wait_for_mails(&contested, 1).await.remove(0);
    app.register(&contested, PASSWORD, "Other Owner")
        .await
        .assert_status(201);

    let res = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": mail.link_token().expect("token")}),
        )
        .await;

    res.assert_problem(409);
    assert_ne!(app.get(ME, Some(token)).await.body["email"], contested);
}

pub async fn a_wrong_current_password_is_a_field_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, pair) = customer(&app, "pw-wrong").await;
    let token = text(&pair, "access_token");

    let res = app
        .post(
            ME_PASSWORD,
            Some(token),
            json!({"current_password": "not my password", "new_password": NEW_PASSWORD}),
        )
        .await;

    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["current_password"]);
    app.login(&email, PASSWORD).await;
}

pub async fn a_weak_new_password_is_a_field_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, pair) = customer(&app, "pw-weak").await;
    let token = text(&pair, "access_token");

    for weak in ["password123", "short", email.as_str(), "Test Customer"] {
        let res = app
            .post(
                ME_PASSWORD,
                Some(token),
                json!({"current_password": PASSWORD, "new_password": weak}),
            )
            .await;
        res.assert_problem(422);
        assert_eq!(
            res.error_fields(),
            vec!["new_password"],
            "{weak}: {}",
            res.text
        );
    }
    let missing = app
        .post(
            ME_PASSWORD,
            Some(token),
            json!({"current_password": PASSWORD}),
        )
        .await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["new_password"]);
    app.post(
        ME_PASSWORD,
        None,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .assert_problem(401);
}

pub async fn changing_the_password_ends_the_other_sessions_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, other) = customer(&app, "pw-change").await;
    let current = app.login(&email, PASSWORD).await;

    let res = app
        .post(
            ME_PASSWORD,
            Some(text(&current, "access_token")),
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;

    res.assert_status(204);
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await
    .assert_problem(401);
    app.login(&email, NEW_PASSWORD).await;
    let refresh = |pair: &serde_json::Value| json!({"refresh_token": text(pair, "refresh_token")});
    app.post("/api/v1/auth/refresh", None, refresh(&other))
        .await
        .assert_problem(401);
    app.post("/api/v1/auth/refresh", None, refresh(&current))
        .await
        .assert_status(200);
}

pub async fn concurrent_edits_of_one_version_have_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "race").await;
    let token = text(&pair, "access_token");
    let etag = app.get(ME, Some(token)).await.headers["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();

    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let req = app
                .client
                .patch(app.url(ME))
                .bearer_auth(token)
                .header("if-match", &etag)
                .json(&json!({"name": format!("Writer {i}")}));
            tokio::spawn(
                async move { TestApp::read(req.send().await.expect("request sent")).await },
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let res = task.await.expect("the request task");
        statuses.push((res.status.as_u16(), res.text));
    }

    let won = statuses.iter().filter(|(s, _)| *s == 200).count();
    let lost = statuses.iter().filter(|(s, _)| *s == 412).count();
    assert_eq!((won, lost), (1, 5), "one 200 and five 412s: {statuses:?}");
}

testkit::backend_tests!(
    the_profile_needs_a_customer_token,
    the_profile_carries_an_etag_of_its_version,
    patching_the_name_changes_it_and_the_version,
    a_stale_version_is_refused_with_412,
    a_malformed_if_match_is_a_bad_request,
    invalid_profile_changes_name_their_fields,
    a_new_email_takes_effect_only_once_verified,
    a_new_email_can_be_confirmed_with_its_code,
    email_changes_are_limited_per_customer_and_per_new_address,
    an_email_taken_meanwhile_is_not_switched_to,
    a_wrong_current_password_is_a_field_error,
    a_weak_new_password_is_a_field_error,
    changing_the_password_ends_the_other_sessions_only,
    concurrent_edits_of_one_version_have_one_winner,
);
