//! `POST /api/v1/auth/login`: token pairs, one answer for every failure, and rate limits
//! per account and per client.

use platform::config::Limit;
use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp, TestResponse};

use crate::helpers::{PASSWORD, customer, send_with, text, unique_email};

const LOGIN: &str = "/api/v1/auth/login";

pub async fn a_customer_signs_in_with_a_token_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "login").await;

    let res = app
        .post(LOGIN, None, json!({"email": email, "password": PASSWORD}))
        .await;

    res.assert_status(200);
    let pair = &res.body;
    assert_eq!(pair["token_type"], "Bearer");
    let expires_in = pair["expires_in"].as_u64().expect("expires_in");
    assert!((1..=900).contains(&expires_in), "{expires_in}");
    assert_eq!(text(pair, "access_token").split('.').count(), 3, "a JWT");
    assert!(text(pair, "refresh_token").len() >= 20);
    assert!(
        res.headers.get("set-cookie").is_none(),
        "no cookies unless asked"
    );
    let me = app
        .get("/api/v1/me", Some(text(pair, "access_token")))
        .await;
    me.assert_status(200);
    assert_eq!(me.body["email"], email);
}

pub async fn the_email_is_matched_without_regard_to_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "case").await;

    app.login(&format!(" {} ", email.to_uppercase()), PASSWORD)
        .await;
}

pub async fn a_wrong_password_and_an_unknown_email_get_the_same_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "same").await;

    let wrong = app
        .post(
            LOGIN,
            None,
            json!({"email": email, "password": "not the right password"}),
        )
        .await;
    let unknown = app
        .post(
            LOGIN,
            None,
            json!({"email": unique_email("ghost"), "password": PASSWORD}),
        )
        .await;

    wrong.assert_problem(401);
    unknown.assert_problem(401);
    assert_eq!(wrong.body["code"], "invalid_credentials");
    assert_eq!(wrong.body, unknown.body, "nothing tells the two apart");
}

pub async fn an_unverified_customer_can_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("unverified");
    app.register(&email, PASSWORD, "Ann")
        .await
        .assert_status(201);

    let pair = app.login(&email, PASSWORD).await;

    let me = app
        .get("/api/v1/me", Some(text(&pair, "access_token")))
        .await;
    me.assert_status(200);
    assert_eq!(me.body["email_verified"], false);
}

/// Login attempts from `ip`, as a proxy the shop trusts would say.
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> TestResponse {
    send_with(
        app,
        Method::POST,
        LOGIN,
        None,
        &[("x-forwarded-for", ip)],
        Some(json!({"email": email, "password": password})),
    )
    .await
}

fn retry_after(res: &TestResponse) -> u64 {
    res.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

pub async fn repeated_failures_from_one_client_lock_out_that_client_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http.trust_forwarded_for = true;
        s.rate_limits.login_per_account_client = Limit::new(3, 900);
    })
    .await;
    let (email, _) = customer(&app, "locked").await;
    for _ in 0..3 {
        login_from(&app, "203.0.113.5", &email, "not the right password")
            .await
            .assert_problem(401);
    }

    let res = login_from(&app, "203.0.113.5", &email, PASSWORD).await;

    res.assert_problem(429);
    assert_eq!(res.body["code"], "rate_limited");
    assert!((1..=900).contains(&retry_after(&res)));
    login_from(&app, "198.51.100.20", &email, PASSWORD)
        .await
        .assert_status(200);
}

/// Many addresses guessing one account's password slow down every stranger, but the
/// owner's own machine signs in as always: nobody can aim a lock-out at a customer or
/// at the admin.
pub async fn a_guessing_crowd_delays_strangers_but_never_the_owner(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http.trust_forwarded_for = true;
        s.rate_limits.login_per_account = Limit::new(3, 3600);
    })
    .await;
    let (email, _) = customer(&app, "targeted").await;
    let home = "198.51.100.30";
    login_from(&app, home, &email, PASSWORD)
        .await
        .assert_status(200);
    for i in 1..=4 {
        login_from(&app, &format!("203.0.113.{i}"), &email, "a wrong guess")
            .await
            .assert_problem(401);
    }

    let stranger = login_from(&app, "192.0.2.50", &email, PASSWORD).await;

    stranger.assert_problem(429);
    assert!(retry_after(&stranger) >= 1);
    login_from(&app, home, &email, PASSWORD)
        .await
        .assert_status(200);
}

/// A burst of guesses sent at once must not get more tries than the limit allows.
pub async fn a_burst_of_wrong_passwords_gets_no_more_tries_than_the_limit(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.login_per_account_client = Limit::new(3, 900)
    })
    .await;
    let (email, _) = customer(&app, "burst").await;

    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let body = json!({"email": email, "password": format!("guess number {i} of ten")});
            let req = app.client.post(app.url(LOGIN)).json(&body);
            tokio::spawn(async move { req.send().await.expect("request sent").status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("the request task"));
    }

    let tried = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(tried + limited, 10, "{statuses:?}");
    assert!(
        tried <= 3,
        "{tried} of 10 simultaneous guesses were checked; the limit is 3: {statuses:?}"
    );
}

pub async fn a_successful_sign_in_clears_earlier_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.login_per_account_client = Limit::new(3, 900)
    })
    .await;
    let (email, _) = customer(&app, "cleared").await;
    for _ in 0..2 {
        app.post(
            LOGIN,
            None,
            json!({"email": email, "password": "not the right password"}),
        )
        .await
        .assert_problem(401);
    }
    app.login(&email, PASSWORD).await;
    for _ in 0..2 {
        app.post(
            LOGIN,
            None,
            json!({"email": email, "password": "not the right password"}),
        )
        .await
        .assert_problem(401);
    }

    app.login(&email, PASSWORD).await;
}

pub async fn sign_ins_from_one_client_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.login_per_client = Limit::new(3, 900)
    })
    .await;
    for i in 0..3 {
        let res = app
            .post(
                LOGIN,
                None,
                json!({"email": unique_email(&format!("c{i}")), "password": PASSWORD}),
            )
            .await;
        res.assert_problem(401);
    }

    let res = app
        .post(
            LOGIN,
            None,
            json!({"email": unique_email("c-over"), "password": PASSWORD}),
        )
        .await;

    res.assert_problem(429);
    assert!(res.headers.contains_key("retry-after"));
}

pub async fn a_forged_forwarded_for_header_does_not_escape_the_client_limit(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.rate_limits.login_per_client = Limit::new(3, 900)
    })
    .await;
    for i in 0..3 {
        let forwarded = format!("203.0.113.{i}");
        let body = json!({"email": unique_email("xff"), "password": PASSWORD});
        let res = send_with(
            &app,
            Method::POST,
            LOGIN,
            None,
            &[("x-forwarded-for", &forwarded)],
            Some(body),
        )
        .await;
        res.assert_problem(401);
    }

    let body = json!({"email": unique_email("xff-over"), "password": PASSWORD});
    let res = send_with(
        &app,
        Method::POST,
        LOGIN,
        None,
        &[("x-forwarded-for", "198.51.100.7")],
        Some(body),
    )
    .await;

    res.assert_problem(429);
}

pub async fn malformed_credentials_name_their_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"email": "nope", "password": PASSWORD}), "email"),
        (
            json!({"email": unique_email("empty"), "password": ""}),
            "password",
        ),
        (
            json!({"email": unique_email("huge"), "password": "x".repeat(1025)}),
            "password",
        ),
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": unique_email("missing")}), "password"),
        (
            json!({"email": unique_email("typed"), "password": PASSWORD, "remember_me": "yes"}),
            "remember_me",
        ),
    ];
    for (body, field) in cases {
        let res = app.post(LOGIN, None, body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec![field], "{}", res.text);
    }
}

testkit::backend_tests!(
    a_customer_signs_in_with_a_token_pair,
    the_email_is_matched_without_regard_to_case,
    a_wrong_password_and_an_unknown_email_get_the_same_401,
    an_unverified_customer_can_sign_in,
    repeated_failures_from_one_client_lock_out_that_client_only,
    a_guessing_crowd_delays_strangers_but_never_the_owner,
    a_burst_of_wrong_passwords_gets_no_more_tries_than_the_limit,
    a_successful_sign_in_clears_earlier_failures,
    sign_ins_from_one_client_are_rate_limited,
    a_forged_forwarded_for_header_does_not_escape_the_client_limit,
    malformed_credentials_name_their_fields,
);
