//! `POST /api/v1/auth/verify-email` and `/resend-verification`: link tokens and codes,
//! single use, expiry, attempt limits and the resend cool-down.

use platform::config::Limit;
use serde_json::json;
use testkit::{Backend, MailMessage, TestApp};

use crate::helpers::{PASSWORD, settle, text, unique_email};

const VERIFY: &str = "/api/v1/auth/verify-email";
const RESEND: &str = "/api/v1/auth/resend-verification";

/// Registers `email` and returns its verification mail.
async fn registered(app: &TestApp, email: &str) -> MailMessage {
    app.register(email, PASSWORD, "Ann Lee")
        .await
        .assert_status(201);
    app.wait_for_mails(email, 1).await.remove(0)
}

async fn is_verified(app: &TestApp, email: &str) -> bool {
    let pair = app.login(email, PASSWORD).await;
    let me = app
        .get("/api/v1/me", Some(text(&pair, "access_token")))
        .await;
    me.assert_status(200);
    me.body["email_verified"].as_bool().expect("email_verified")
}

/// A six-digit code that is not `code`.
fn wrong(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

pub async fn the_link_token_verifies_the_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("link");
    let mail = registered(&app, &email).await;
    assert!(!is_verified(&app, &email).await);

    let res = app
        .post(
            VERIFY,
            None,
            json!({"token": mail.link_token().expect("token")}),
        )
        .await;

    res.assert_status(204);
    assert!(res.text.is_empty());
    assert!(is_verified(&app, &email).await);
}

pub async fn a_link_token_works_only_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("once");
    let token = registered(&app, &email).await.link_token().expect("token");
    app.post(VERIFY, None, json!({"token": token}))
        .await
        .assert_status(204);

    let again = app.post(VERIFY, None, json!({"token": token})).await;

    again.assert_problem(400);
    assert_eq!(again.body["code"], "invalid_verification");
}

pub async fn an_unknown_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let long = "x".repeat(300);
    for token in ["nope", "", long.as_str()] {
        let res = app.post(VERIFY, None, json!({"token": token})).await;
        res.assert_problem(400);
        assert_eq!(res.body["code"], "invalid_verification");
    }
}

pub async fn the_email_and_code_verify_the_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("code");
    let mail = registered(&app, &email).await;

    let res = app
        .post(
            VERIFY,
            None,
            json!({"email": email.to_uppercase(), "code": mail.code().expect("code")}),
        )
        .await;

    res.assert_status(204);
    assert!(is_verified(&app, &email).await);
    let again = app
        .post(
            VERIFY,
            None,
            json!({"email": email, "code": mail.code().expect("code")}),
        )
        .await;
    again.assert_problem(400);
}

pub async fn a_wrong_code_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("wrong");
    let code = registered(&app, &email).await.code().expect("code");

    let res = app
        .post(VERIFY, None, json!({"email": email, "code": wrong(&code)}))
        .await;

    res.assert_problem(400);
    assert_eq!(res.body["code"], "invalid_verification");
    assert!(!is_verified(&app, &email).await);
    app.post(VERIFY, None, json!({"email": email, "code": code}))
        .await
        .assert_status(204);
}

pub async fn five_wrong_codes_burn_the_verification(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("burnt");
    let mail = registered(&app, &email).await;
    let code = mail.code().expect("code");
    for _ in 0..5 {
        app.post(VERIFY, None, json!({"email": email, "code": wrong(&code)}))
            .await
            .assert_problem(400);
    }

    let right = app
        .post(VERIFY, None, json!({"email": email, "code": code}))
        .await;

    right.assert_problem(400);
    let link = app
        .post(
            VERIFY,
            None,
            json!({"token": mail.link_token().expect("token")}),
        )
        .await;
    link.assert_problem(400);
    assert!(!is_verified(&app, &email).await);
}

pub async fn a_verification_expires_after_a_day(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("expired");
    let mail = registered(&app, &email).await;

    app.advance_clock(chrono::Duration::hours(25));

    let by_token = app
        .post(
            VERIFY,
            None,
            json!({"token": mail.link_token().expect("token")}),
        )
        .await;
    by_token.assert_problem(400);
    let by_code = app
        .post(
            VERIFY,
            None,
            json!({"email": email, "code": mail.code().expect("code")}),
        )
        .await;
    by_code.assert_problem(400);
    assert!(!is_verified(&app, &email).await);
}

pub async fn a_malformed_verification_request_names_its_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let nothing = app.post(VERIFY, None, json!({})).await;
    nothing.assert_problem(422);
    assert_eq!(nothing.error_fields(), vec!["token"]);

    let code_only = app.post(VERIFY, None, json!({"code": "123456"})).await;
    code_only.assert_problem(422);

    let bad = app
        .post(
            VERIFY,
            None,
            json!({"email": "not-an-email", "code": "12ab"}),
        )
        .await;
    bad.assert_problem(422);
    let fields = bad.error_fields();
    assert!(
        fields.contains(&"email".to_owned()) && fields.contains(&"code".to_owned()),
        "{fields:?}"
    );

    let typed = app.post(VERIFY, None, json!({"token": 123456})).await;
    typed.assert_problem(422);
    assert_eq!(typed.error_fields(), vec!["token"]);
}

pub async fn failed_verifications_from_one_client_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.verify_per_client = Limit::new(3, 900)
    })
    .await;
    let email = unique_email("verify-rl");
    let token = registered(&app, &email).await.link_token().expect("token");
    for _ in 0..3 {
        app.post(VERIFY, None, json!({"token": "made-up"}))
            .await
            .assert_problem(400);
    }

    let res = app.post(VERIFY, None, json!({"token": token})).await;

    res.assert_problem(429);
    assert!(res.headers.contains_key("retry-after"));
}

pub async fn resend_answers_202_for_unknown_addresses_and_sends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("nobody");

    let res = app.post(RESEND, None, json!({"email": email})).await;

    res.assert_status(202);
    settle().await;
    assert!(app.mails_to(&email).await.is_empty());
}

pub async fn resend_refuses_a_malformed_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let res = app.post(RESEND, None, json!({"email": "nope"})).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["email"]);

    let missing = app.post(RESEND, None, json!({})).await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["email"]);
}

pub async fn resend_waits_for_the_cool_down_and_retires_the_old_mail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("resend");
    let first = registered(&app, &email).await;

    app.post(RESEND, None, json!({"email": email}))
        .await
        .assert_status(202);
    settle().await;
    assert_eq!(
        app.mails_to(&email).await.len(),
        1,
        "no new mail within the cool-down"
    );

    app.advance_clock(chrono::Duration::seconds(61));
    app.post(RESEND, None, json!({"email": email}))
        .await
        .assert_status(202);
    let mails = app.wait_for_mails(&email, 2).await;
    let old_token = first.link_token().expect("token");
    let second = mails
        .iter()
        .find(|m| m.link_token().as_deref() != Some(old_token.as_str()))
        .expect("a new verification mail");

    let old = app.post(VERIFY, None, json!({"token": old_token})).await;
    old.assert_problem(400);
    let old_code = app
        .post(
            VERIFY,
            None,
            json!({"email": email, "code": first.code().expect("code")}),
        )
        .await;
    assert_ne!(
        old_code.status.as_u16(),
        204,
        "the old code no longer works"
    );
    app.post(
        VERIFY,
        None,
        json!({"token": second.link_token().expect("token")}),
    )
    .await
    .assert_status(204);
    assert!(is_verified(&app, &email).await);
}

pub async fn resend_sends_nothing_once_verified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("done");
    app.verified_customer(&email, PASSWORD).await;
    app.advance_clock(chrono::Duration::minutes(5));

    app.post(RESEND, None, json!({"email": email}))
        .await
        .assert_status(202);

    settle().await;
    assert_eq!(
        app.mails_to(&email).await.len(),
        1,
        "only the original verification mail"
    );
}

testkit::backend_tests!(
    the_link_token_verifies_the_address,
    a_link_token_works_only_once,
    an_unknown_token_is_refused,
    the_email_and_code_verify_the_address,
    a_wrong_code_is_refused,
    five_wrong_codes_burn_the_verification,
    a_verification_expires_after_a_day,
    a_malformed_verification_request_names_its_fields,
    failed_verifications_from_one_client_are_rate_limited,
    resend_answers_202_for_unknown_addresses_and_sends_nothing,
    resend_refuses_a_malformed_address,
    resend_waits_for_the_cool_down_and_retires_the_old_mail,
    resend_sends_nothing_once_verified,
);
