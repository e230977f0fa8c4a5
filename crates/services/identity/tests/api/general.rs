//! What every response shares: problem+json for unknown paths and methods, a request
//! id, and security headers.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp, TestResponse};

use crate::helpers::{customer, send_with, text};

fn assert_common_headers(res: &TestResponse) {
    let id = res
        .headers
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id on {}: {:?}", res.status, res.headers));
    assert!(!id.is_empty());
    assert_eq!(
        res.headers["x-content-type-options"], "nosniff",
        "{:?}",
        res.headers
    );
    assert_eq!(res.headers["x-frame-options"], "DENY");
}

pub async fn an_unknown_path_is_a_404_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for path in ["/api/v1/nope", "/api/v1/auth", "/nope"] {
        let res = app.get(path, None).await;
        res.assert_problem(404);
        assert_eq!(res.body["code"], "not_found");
        assert_common_headers(&res);
    }
}

pub async fn a_wrong_method_is_a_405_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let res = app.get("/api/v1/auth/login", None).await;

    res.assert_problem(405);
    assert_common_headers(&res);
    app.delete("/api/v1/auth/register", None)
        .await
        .assert_problem(405);
}

pub async fn every_response_carries_a_request_id_and_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "headers").await;

    let responses = [
        app.get("/api/v1/me", Some(text(&pair, "access_token")))
            .await,
        app.get("/api/v1/me", None).await,
        app.post("/api/v1/auth/login", None, json!({"email": "nope"}))
            .await,
        app.post(
            "/api/v1/auth/password/forgot",
            None,
            json!({"email": "someone@example.test"}),
        )
        .await,
        app.get("/.well-known/jwks.json", None).await,
        app.post_raw("/api/v1/auth/register", "application/json", "{")
            .await,
    ];

    let mut ids: Vec<String> = Vec::new();
    for res in &responses {
        assert_common_headers(res);
        ids.push(
            res.headers["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_owned(),
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), responses.len(), "each request gets its own id");
}

pub async fn a_sane_caller_request_id_is_echoed_and_a_bad_one_replaced(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let echoed = send_with(
        &app,
        Method::GET,
        "/.well-known/jwks.json",
        None,
        &[("x-request-id", "trace-abc.123")],
        None,
    )
    .await;
    assert_eq!(echoed.headers["x-request-id"], "trace-abc.123");

    let replaced = send_with(
        &app,
        Method::GET,
        "/.well-known/jwks.json",
        None,
        &[("x-request-id", "bad id <script>")],
        None,
    )
    .await;
    let id = replaced.headers["x-request-id"].to_str().expect("ascii");
    assert!(!id.is_empty() && !id.contains('<'), "{id}");
}

testkit::backend_tests!(
    an_unknown_path_is_a_404_problem,
    a_wrong_method_is_a_405_problem,
    every_response_carries_a_request_id_and_security_headers,
    a_sane_caller_request_id_is_echoed_and_a_bad_one_replaced,
);
