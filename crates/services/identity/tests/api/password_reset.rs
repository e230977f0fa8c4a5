//! `POST /api/v1/auth/password/forgot` and `/reset`: no enumeration, single-use expiring
//! links, and a reset that ends every session.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{
    NEW_PASSWORD, PASSWORD, customer, settle, text, unique_email, wait_for_subject,
};

const FORGOT: &str = "/api/v1/auth/password/forgot";
const RESET: &str = "/api/v1/auth/password/reset";
const RESET_SUBJECT: &str = "Reset your";

/// Asks for a reset of `email` and returns the token from the mail.
async fn reset_token(app: &TestApp, email: &str) -> String {
    app.post(FORGOT, None, json!({"email": email}))
        .await
        .assert_status(202);
    wait_for_subject(app, email, RESET_SUBJECT)
        .await
        .link_token()
        .expect("a reset link")
}

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

pub async fn forgot_answers_202_for_unknown_addresses_and_mails_nobody(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("nobody");

    let res = app.post(FORGOT, None, json!({"email": email})).await;

    res.assert_status(202);
    settle().await;
    assert!(app.mails_to(&email).await.is_empty());
}

pub async fn forgot_refuses_a_malformed_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let bad = app.post(FORGOT, None, json!({"email": "nope"})).await;
    bad.assert_problem(422);
    assert_eq!(bad.error_fields(), vec!["email"]);

    let missing = app.post(FORGOT, None, json!({})).await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["email"]);
}

pub async fn a_reset_sets_the_new_password_and_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, before) = customer(&app, "reset").await;
    let token = reset_token(&app, &email).await;

    let res = app
        .post(
            RESET,
            None,
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;

    res.assert_status(204);
    app.post("/api/v1/auth/login", None, login_body(&email, PASSWORD))
        .await
        .assert_problem(401);
    app.login(&email, NEW_PASSWORD).await;
    let old_session = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": text(&before, "refresh_token")}),
        )
        .await;
    old_session.assert_problem(401);
    wait_for_subject(&app, &email, "password was changed").await;
}

pub async fn a_reset_link_works_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "reset-once").await;
    let token = reset_token(&app, &email).await;
    app.post(
        RESET,
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await
    .assert_status(204);

    let again = app
        .post(
            RESET,
            None,
            json!({"token": token, "password": "yet another good passphrase"}),
        )
        .await;

    again.assert_problem(400);
    assert_eq!(again.body["code"], "invalid_reset_token");
    app.login(&email, NEW_PASSWORD).await;
}

pub async fn a_bad_reset_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(300);

    for token in ["made-up", "", long.as_str()] {
        let res = app
            .post(
                RESET,
                None,
                json!({"token": token, "password": NEW_PASSWORD}),
            )
            .await;
        res.assert_problem(400);
        assert_eq!(res.body["code"], "invalid_reset_token");
    }
    let missing = app
        .post(RESET, None, json!({"password": NEW_PASSWORD}))
        .await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["token"]);
}

pub async fn a_weak_new_password_is_refused_and_the_link_still_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "weak-reset").await;
    let token = reset_token(&app, &email).await;

    for weak in ["password123", "short", email.as_str()] {
        let res = app
            .post(RESET, None, json!({"token": token, "password": weak}))
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec!["password"], "{weak}: {}", res.text);
    }

    app.post(
        RESET,
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await
    .assert_status(204);
    app.login(&email, NEW_PASSWORD).await;
}

pub async fn a_reset_link_expires_after_an_hour(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "reset-expired").await;
    let token = reset_token(&app, &email).await;

    app.advance_clock(chrono::Duration::minutes(61));

    let res = app
        .post(
            RESET,
            None,
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    res.assert_problem(400);
    app.login(&email, PASSWORD).await;
}

pub async fn using_one_reset_link_retires_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "two-links").await;
    let first = reset_token(&app, &email).await;
    app.post(FORGOT, None, json!({"email": email}))
        .await
        .assert_status(202);
    let mails = app.wait_for_mails(&email, 3).await;
    let second = mails
        .iter()
        .filter(|m| m.subject.contains(RESET_SUBJECT))
        .filter_map(|m| m.link_token())
        .find(|t| *t != first)
        .expect("a second reset link");

    app.post(
        RESET,
        None,
        json!({"token": second, "password": NEW_PASSWORD}),
    )
    .await
    .assert_status(204);

    let res = app
        .post(
            RESET,
            None,
            json!({"token": first, "password": "yet another good passphrase"}),
        )
        .await;
    res.assert_problem(400);
    app.login(&email, NEW_PASSWORD).await;
}

pub async fn reset_mails_are_capped_per_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "flood").await;

    for _ in 0..5 {
        app.post(FORGOT, None, json!({"email": email}))
            .await
            .assert_status(202);
    }

    app.wait_for_mails(&email, 4).await;
    settle().await;
    let resets = app
        .mails_to(&email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains(RESET_SUBJECT))
        .count();
    assert_eq!(resets, 3, "at most three reset mails an hour");
}

testkit::backend_tests!(
    forgot_answers_202_for_unknown_addresses_and_mails_nobody,
    forgot_refuses_a_malformed_address,
    a_reset_sets_the_new_password_and_ends_every_session,
    a_reset_link_works_once,
    a_bad_reset_token_is_refused,
    a_weak_new_password_is_refused_and_the_link_still_works,
    a_reset_link_expires_after_an_hour,
    using_one_reset_link_retires_the_others,
    reset_mails_are_capped_per_account,
);
