//! Malformed requests on every identity endpoint that takes a body: each is answered
//! with problem+json and the right 4xx, never a 5xx.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp, TestResponse};

use crate::helpers::{PASSWORD, customer, text, unique_email};

/// Every JSON endpoint and the token it needs (`customer`, `admin`, or none).
const ENDPOINTS: &[(Method, &str, Auth)] = &[
    (Method::POST, "/api/v1/auth/register", Auth::None),
    (Method::POST, "/api/v1/auth/verify-email", Auth::None),
    (Method::POST, "/api/v1/auth/resend-verification", Auth::None),
    (Method::POST, "/api/v1/auth/login", Auth::None),
    (Method::POST, "/api/v1/auth/refresh", Auth::None),
    (Method::POST, "/api/v1/auth/password/forgot", Auth::None),
    (Method::POST, "/api/v1/auth/password/reset", Auth::None),
    (Method::POST, "/api/v1/staff/auth/login", Auth::None),
    (Method::POST, "/api/v1/staff/auth/refresh", Auth::None),
    (Method::PATCH, "/api/v1/me", Auth::Customer),
    (Method::POST, "/api/v1/me/password", Auth::Customer),
    (Method::POST, "/api/v1/me/addresses", Auth::Customer),
    (Method::POST, "/api/v1/staff", Auth::Admin),
    (Method::POST, "/api/v1/staff/me/totp/confirm", Auth::Admin),
    (Method::DELETE, "/api/v1/staff/me/totp", Auth::Admin),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    None,
    Customer,
    Admin,
}

struct Tokens {
    customer: String,
    admin: String,
}

async fn tokens(app: &TestApp) -> Tokens {
    let (_, pair) = customer(app, "bad-input").await;
    let admin = app
        .staff_with_role("bad-input-admin@shop.test", "admin")
        .await;
    Tokens {
        customer: text(&pair, "access_token").to_owned(),
        admin: text(&admin, "access_token").to_owned(),
    }
}

async fn raw(
    app: &TestApp,
    tokens: &Tokens,
    method: &Method,
    path: &str,
    auth: Auth,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> TestResponse {
    let mut req = app.client.request(method.clone(), app.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    match auth {
        Auth::None => {}
        Auth::Customer => req = req.bearer_auth(&tokens.customer),
        Auth::Admin => req = req.bearer_auth(&tokens.admin),
    }
    TestApp::read(req.send().await.expect("request sent")).await
}

#[track_caller]
fn assert_problem_of(res: &TestResponse, status: u16, path: &str) {
    assert_eq!(res.status.as_u16(), status, "{path}: {}", res.text);
    assert!(
        res.is_problem(),
        "{path}: not problem+json: {:?}",
        res.headers.get("content-type")
    );
    assert_eq!(res.body["status"], status, "{path}");
}

pub async fn malformed_json_is_a_400_problem_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = tokens(&app).await;

    for (method, path, auth) in ENDPOINTS {
        // Each breaks before any key is complete, so no field is looked at first.
        for body in ["{\"email", "{'email': 'a'}", "not json at all", "{,}", "["] {
            let res = raw(
                &app,
                &tokens,
                method,
                path,
                *auth,
                Some("application/json"),
                body.into(),
            )
            .await;
            assert_problem_of(&res, 400, path);
            assert_eq!(res.body["code"], "malformed_json", "{path} {body}");
        }
    }
}

pub async fn a_body_that_is_not_json_is_a_415_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = tokens(&app).await;
    let body =
        json!({"email": unique_email("ct"), "password": PASSWORD, "name": "Ann"}).to_string();

    for (method, path, auth) in ENDPOINTS
        .iter()
        .filter(|(_, p, _)| !p.ends_with("/refresh"))
    {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let res = raw(
                &app,
                &tokens,
                method,
                path,
                *auth,
                ct,
                body.clone().into_bytes(),
            )
            .await;
            assert_problem_of(&res, 415, path);
        }
    }
    let charset = raw(
        &app,
        &tokens,
        &Method::POST,
        "/api/v1/auth/register",
        Auth::None,
        Some("application/json; charset=utf-8"),
        body.into_bytes(),
    )
    .await;
    charset.assert_status(201);
}

pub async fn an_oversized_body_is_a_413_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = tokens(&app).await;
    let huge =
        json!({"email": unique_email("huge"), "password": PASSWORD, "name": "x".repeat(70 * 1024)})
            .to_string();

    for (method, path, auth) in ENDPOINTS {
        let res = raw(
            &app,
            &tokens,
            method,
            path,
            *auth,
            Some("application/json"),
            huge.clone().into_bytes(),
        )
        .await;
        assert_problem_of(&res, 413, path);
    }
}

pub async fn a_body_of_the_wrong_shape_is_a_422_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = tokens(&app).await;

    for (method, path, auth) in ENDPOINTS {
        for body in ["[]", "\"text\"", "42", "null", "[1, 2, 3]"] {
            let res = raw(
                &app,
                &tokens,
                method,
                path,
                *auth,
                Some("application/json"),
                body.into(),
            )
            .await;
            assert_problem_of(&res, 422, &format!("{path} with {body}"));
        }
    }
}

/// A valid document followed by more text is not JSON (RFC 8259), so it must not be
/// half-read and acted upon.
pub async fn trailing_characters_after_the_json_are_malformed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email("trailing");
    let body = format!(
        "{} and then some",
        json!({"email": email, "password": PASSWORD, "name": "Ann"})
    );

    let res = app
        .post_raw("/api/v1/auth/register", "application/json", body)
        .await;

    res.assert_problem(400);
    assert_eq!(res.body["code"], "malformed_json");
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    login.assert_problem(401);
}

/// Junk of every kind: some of it is harmless (an empty profile patch, an extra field
/// where unknown fields are ignored), but nothing is a server error, and every refusal
/// is problem+json.
pub async fn no_junk_body_causes_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = tokens(&app).await;
    let long = "ä".repeat(5000);
    let bodies: Vec<Value> = vec![
        json!({}),
        json!({"email": long, "password": long, "name": long, "token": long, "code": long}),
        json!({"email": "\u{0000}@example.test", "password": "\u{0000}".repeat(12), "name": "\u{0007}"}),
        json!({"email": "a@b.co", "password": 1e308, "name": -1, "remember_me": 3}),
        json!({"email": ["a@b.co"], "refresh_token": {"x": 1}, "current_password": true}),
        json!({"country": "🇮🇩", "phone": "١٢٣٤٥٦٧٨٩", "postal_code": "\n", "line1": " ", "recipient_name": "x".repeat(121)}),
        json!({"role": "ADMIN", "email": "Robert'); DROP TABLE staff;--@example.test", "name": "x", "password": "x"}),
    ];

    for (method, path, auth) in ENDPOINTS {
        for body in &bodies {
            let res = raw(
                &app,
                &tokens,
                method,
                path,
                *auth,
                Some("application/json"),
                body.to_string().into_bytes(),
            )
            .await;
            assert!(
                !res.status.is_server_error(),
                "{path} answered {} to {body}: {}",
                res.status,
                res.text
            );
            if res.status.is_client_error() {
                assert!(res.is_problem(), "{path}: {}", res.text);
            }
        }
    }
    assert_eq!(
        app.get("/api/v1/staff", Some(&tokens.admin)).await.body["items"]
            .as_array()
            .expect("items")
            .len(),
        1
    );
}

testkit::backend_tests!(
    malformed_json_is_a_400_problem_everywhere,
    a_body_that_is_not_json_is_a_415_problem,
    an_oversized_body_is_a_413_problem,
    a_body_of_the_wrong_shape_is_a_422_problem,
    trailing_characters_after_the_json_are_malformed,
    no_junk_body_causes_a_server_error,
);
