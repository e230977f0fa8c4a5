//! `POST /api/v1/auth/register`: new accounts, the verification mail, no enumeration of
//! taken addresses, and field validation.

use std::collections::BTreeSet;

use platform::config::Limit;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{PASSWORD, settle, text, unique_email, wait_for_subject};

const REGISTER: &str = "/api/v1/auth/register";

fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

pub async fn a_new_customer_is_created_unverified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("new");

    let res = app.register(&email, PASSWORD, "Ann Lee").await;

    res.assert_status(201);
    assert!(
        res.body["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{}",
        res.text
    );
    assert_eq!(res.body["email"], email);
    assert_eq!(res.body["name"], "Ann Lee");
    assert_eq!(res.body["email_verified"], false);
    assert!(res.body.get("password").is_none() && res.body.get("password_hash").is_none());
}

pub async fn the_email_is_stored_trimmed_and_lower_cased(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("case");

    let res = app
        .register(&format!("  {}  ", email.to_uppercase()), PASSWORD, "Ann")
        .await;

    res.assert_status(201);
    assert_eq!(res.body["email"], email);
    app.login(&email, PASSWORD).await;
}

pub async fn registration_mails_a_link_token_and_a_six_digit_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("mail");
    app.register(&email, PASSWORD, "Ann")
        .await
        .assert_status(201);

    let mail = app.wait_for_mails(&email, 1).await.remove(0);

    assert_eq!(mail.to, email);
    let token = mail.link_token().expect("a link with a token");
    assert!(token.len() >= 20, "the link token is long: {token}");
    let code = mail.code().expect("a code");
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    assert!(
        mail.subject.contains(&code),
        "the subject carries the code: {}",
        mail.subject
    );
    assert!(
        !mail.text.contains(PASSWORD),
        "the mail never carries the password"
    );
}

pub async fn a_taken_email_gets_the_same_answer_and_its_owner_a_notice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("taken");
    let first = app.register(&email, PASSWORD, "Owner").await;
    first.assert_status(201);
    app.wait_for_mails(&email, 1).await;

    let second = app
        .register(&email, "another fine passphrase", "Intruder")
        .await;

    second.assert_status(first.status.as_u16());
    assert_eq!(
        keys(&second.body),
        keys(&first.body),
        "same shape: {}",
        second.text
    );
    assert_eq!(second.body["email"], email);
    assert_eq!(second.body["email_verified"], false);
    assert_ne!(
        second.body["id"], first.body["id"],
        "the owner's id is not revealed"
    );
    let notice = wait_for_subject(&app, &email, "Someone tried to register").await;
    assert!(
        notice.text.contains("Owner"),
        "addressed to the owner: {}",
        notice.text
    );
    // The attempt changed nothing: the owner's password still works, the new one does not.
    app.login(&email, PASSWORD).await;
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": "another fine passphrase"}),
        )
        .await;
    res.assert_problem(401);
}

pub async fn a_verified_owner_is_not_revealed_either(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("verified-owner");
    app.verified_customer(&email, PASSWORD).await;

    let res = app.register(&email, PASSWORD, "Someone Else").await;

    res.assert_status(201);
    assert_eq!(res.body["email_verified"], false);
    assert_eq!(res.body["name"], "Someone Else");
    wait_for_subject(&app, &email, "Someone tried to register").await;
}

pub async fn every_invalid_field_is_reported_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let res = app.register("not-an-email", "short", "   ").await;

    res.assert_problem(422);
    assert_eq!(res.body["code"], "validation_failed");
    let fields = res.error_fields();
    for field in ["email", "password", "name"] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} missing from {fields:?}"
        );
    }
    assert!(
        res.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
    );
}

pub async fn invalid_email_addresses_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for bad in [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "a b@example.com",
        "ann@@example.com",
    ] {
        let res = app.register(bad, PASSWORD, "Ann").await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec!["email"], "{bad:?}: {}", res.text);
    }
}

pub async fn short_long_and_common_passwords_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("weak");
    let too_long = "x".repeat(60) + &"y".repeat(69);
    for bad in [
        "short",
        "123456789",
        "password123",
        "1234567890",
        "aaaaaaaaaaaa",
        too_long.as_str(),
    ] {
        let res = app.register(&email, bad, "Ann").await;
        res.assert_problem(422);
        assert_eq!(
            res.error_fields(),
            vec!["password"],
            "{bad:?}: {}",
            res.text
        );
    }
    let own_address = app.register(&email, &email, "Ann").await;
    own_address.assert_problem(422);
    assert_eq!(own_address.error_fields(), vec!["password"]);
    settle().await;
    assert!(app.mails_to(&email).await.is_empty(), "no account, no mail");
}

pub async fn a_missing_field_is_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("missing");
    let cases = [
        (json!({"password": PASSWORD, "name": "Ann"}), "email"),
        (json!({"email": email, "name": "Ann"}), "password"),
        (json!({"email": email, "password": PASSWORD}), "name"),
    ];
    for (body, field) in cases {
        let res = app.post(REGISTER, None, body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec![field], "{}", res.text);
    }
}

pub async fn a_field_of_the_wrong_type_is_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("types");
    let cases = [
        (
            json!({"email": 42, "password": PASSWORD, "name": "Ann"}),
            "email",
        ),
        (
            json!({"email": email, "password": ["x"], "name": "Ann"}),
            "password",
        ),
        (
            json!({"email": email, "password": PASSWORD, "name": {"first": "Ann"}}),
            "name",
        ),
        (
            json!({"email": email, "password": PASSWORD, "name": null}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let res = app.post(REGISTER, None, body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec![field], "{}", res.text);
    }
}

/// Registering someone else's address again and again must not flood their inbox.
pub async fn a_taken_email_gets_a_bounded_number_of_notices(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.mail_per_recipient = Limit::new(2, 3600)
    })
    .await;
    let email = unique_email("flooded");
    app.register(&email, PASSWORD, "Owner")
        .await
        .assert_status(201);
    app.wait_for_mails(&email, 1).await;

    for _ in 0..4 {
        app.register(&email, "another fine passphrase", "Intruder")
            .await
            .assert_status(201);
    }

    wait_for_subject(&app, &email, "Someone tried to register").await;
    settle().await;
    let notices = app
        .mails_to(&email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Someone tried to register"))
        .count();
    assert_eq!(notices, 2, "two notices an hour at most");
}

pub async fn registrations_from_one_client_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.mail_per_client = Limit::new(2, 3600)
    })
    .await;
    for i in 0..2 {
        app.register(&unique_email(&format!("rl{i}")), PASSWORD, "Ann")
            .await
            .assert_status(201);
    }

    let res = app
        .register(&unique_email("rl-over"), PASSWORD, "Ann")
        .await;

    res.assert_problem(429);
    assert_eq!(res.body["code"], "rate_limited");
    let retry: u64 = res.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
}

pub async fn the_created_customer_can_sign_in_with_the_id_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("me");
    let created = app.register(&email, PASSWORD, "Ann").await;
    created.assert_status(201);

    let pair = app.login(&email, PASSWORD).await;
    let me = app
        .get("/api/v1/me", Some(text(&pair, "access_token")))
        .await;

    me.assert_status(200);
    assert_eq!(me.body["id"], created.body["id"]);
    assert_eq!(me.body["email"], email);
}

testkit::backend_tests!(
    a_new_customer_is_created_unverified,
    the_email_is_stored_trimmed_and_lower_cased,
    registration_mails_a_link_token_and_a_six_digit_code,
    a_taken_email_gets_the_same_answer_and_its_owner_a_notice,
    a_taken_email_gets_a_bounded_number_of_notices,
    a_verified_owner_is_not_revealed_either,
    every_invalid_field_is_reported_at_once,
    invalid_email_addresses_are_refused,
    short_long_and_common_passwords_are_refused,
    a_missing_field_is_named,
    a_field_of_the_wrong_type_is_named,
    registrations_from_one_client_are_rate_limited,
    the_created_customer_can_sign_in_with_the_id_returned,
);
