//! `/api/v1/staff/auth/*`: staff sign-in, refresh and sign-out, kept apart from the
//! customer flows.

use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{PASSWORD, STAFF_PASSWORD, customer, staff_login, staff_refresh, text};

const STAFF_LOGOUT: &str = "/api/v1/staff/auth/logout";

pub async fn a_staff_token_is_not_a_customer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app
        .staff_with_role("not-a-customer@shop.test", "admin")
        .await;

    let res = app
        .get("/api/v1/me", Some(text(&staff, "access_token")))
        .await;

    res.assert_problem(403);
    let customer_login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "not-a-customer@shop.test", "password": STAFF_PASSWORD}),
        )
        .await;
    customer_login.assert_problem(401);
}

pub async fn a_customer_cannot_sign_in_as_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, pair) = customer(&app, "wannabe").await;

    let res = staff_login(&app, &email, PASSWORD).await;

    res.assert_problem(401);
    assert_eq!(res.body["code"], "invalid_credentials");
    staff_refresh(&app, &pair).await.assert_problem(401);
}

pub async fn a_wrong_staff_password_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.staff_with_role("admin@shop.test", "admin").await;

    let res = staff_login(&app, "admin@shop.test", "not the staff password").await;

    res.assert_problem(401);
    assert_eq!(res.body["code"], "invalid_credentials");
    staff_login(&app, "nope", STAFF_PASSWORD)
        .await
        .assert_problem(422);
}

pub async fn staff_refresh_rotates_and_logout_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.staff_with_role("rotating@shop.test", "finance").await;

    let second = staff_refresh(&app, &first).await;
    second.assert_status(200);
    staff_refresh(&app, &first).await.assert_problem(401);
    staff_refresh(&app, &second.body).await.assert_problem(401);

    let fresh = staff_login(&app, "rotating@shop.test", STAFF_PASSWORD)
        .await
        .body;
    app.post(STAFF_LOGOUT, None, json!({}))
        .await
        .assert_problem(401);
    let (_, shopper) = customer(&app, "logout-customer").await;
    app.post(
        STAFF_LOGOUT,
        Some(text(&shopper, "access_token")),
        json!({}),
    )
    .await
    .assert_problem(403);
    app.post(STAFF_LOGOUT, Some(text(&fresh, "access_token")), json!({}))
        .await
        .assert_status(204);
    staff_refresh(&app, &fresh).await.assert_problem(401);
}

testkit::backend_tests!(
    a_staff_token_is_not_a_customer_token,
    a_customer_cannot_sign_in_as_staff,
    a_wrong_staff_password_is_refused,
    staff_refresh_rotates_and_logout_ends_the_session,
);
