//! `POST /api/v1/auth/refresh` and `/logout`: rotation, reuse detection that revokes the
//! whole family, session lifetimes and signing out.

use serde_json::{Value, json};
use testkit::{Backend, TestApp, TestResponse};

use crate::helpers::{PASSWORD, customer, set_cookies, text};

const REFRESH: &str = "/api/v1/auth/refresh";
const LOGOUT: &str = "/api/v1/auth/logout";

async fn refresh(app: &TestApp, pair: &Value) -> TestResponse {
    app.post(
        REFRESH,
        None,
        json!({"refresh_token": text(pair, "refresh_token")}),
    )
    .await
}

pub async fn a_refresh_gives_a_new_pair_and_spends_the_old_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, first) = customer(&app, "rotate").await;

    let res = refresh(&app, &first).await;

    res.assert_status(200);
    let second = &res.body;
    assert_eq!(second["token_type"], "Bearer");
    assert!(second["expires_in"].as_u64().is_some_and(|s| s <= 900));
    assert_ne!(text(second, "refresh_token"), text(&first, "refresh_token"));
    assert_ne!(text(second, "access_token"), text(&first, "access_token"));
    app.get("/api/v1/me", Some(text(second, "access_token")))
        .await
        .assert_status(200);
    refresh(&app, second).await.assert_status(200);
}

pub async fn a_reused_refresh_token_revokes_the_whole_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, first) = customer(&app, "reuse").await;
    let second = refresh(&app, &first).await.body;
    let third = refresh(&app, &second).await.body;
    assert!(third["refresh_token"].is_string());

    let reused = refresh(&app, &first).await;

    reused.assert_problem(401);
    refresh(&app, &third).await.assert_problem(401);
}

pub async fn reuse_in_one_session_leaves_other_sessions_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, stolen) = customer(&app, "other-session").await;
    let laptop = app.login(&email, PASSWORD).await;
    refresh(&app, &stolen).await.assert_status(200);

    refresh(&app, &stolen).await.assert_problem(401);

    refresh(&app, &laptop).await.assert_status(200);
}

pub async fn an_unknown_or_missing_refresh_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let unknown = app
        .post(REFRESH, None, json!({"refresh_token": "made-up"}))
        .await;
    unknown.assert_problem(401);

    let missing = app.post(REFRESH, None, json!({})).await;
    missing.assert_problem(422);
    assert_eq!(missing.error_fields(), vec!["refresh_token"]);

    let typed = app.post(REFRESH, None, json!({"refresh_token": 7})).await;
    typed.assert_problem(422);
    assert_eq!(typed.error_fields(), vec!["refresh_token"]);

    let malformed = app
        .post_raw(REFRESH, "application/json", "{\"refresh_token\":")
        .await;
    malformed.assert_problem(400);
}

pub async fn a_staff_refresh_token_is_not_a_customer_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_with_role("clerk@shop.test", "inventory").await;

    refresh(&app, &staff).await.assert_problem(401);

    let staff_refresh = app
        .post(
            "/api/v1/staff/auth/refresh",
            None,
            json!({"refresh_token": text(&staff, "refresh_token")}),
        )
        .await;
    staff_refresh.assert_status(200);
}

pub async fn a_session_without_remember_me_ends_after_twelve_hours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "short").await;

    app.advance_clock(chrono::Duration::hours(13));

    refresh(&app, &pair).await.assert_problem(401);
}

pub async fn a_remembered_session_outlives_twelve_hours_but_not_thirty_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "remembered").await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "remember_me": true}),
        )
        .await;
    login.assert_status(200);

    app.advance_clock(chrono::Duration::hours(13));
    let renewed = refresh(&app, &login.body).await;
    renewed.assert_status(200);

    app.advance_clock(chrono::Duration::days(30));
    refresh(&app, &renewed.body).await.assert_problem(401);
}

pub async fn logout_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "logout").await;

    let res = app
        .post(LOGOUT, Some(text(&pair, "access_token")), json!({}))
        .await;

    res.assert_status(204);
    let cleared = set_cookies(&res);
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "cookies are cleared: {cleared:?}"
    );
    refresh(&app, &pair).await.assert_problem(401);
}

pub async fn logout_leaves_other_sessions_signed_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, phone) = customer(&app, "two-devices").await;
    let laptop = app.login(&email, PASSWORD).await;

    app.post(LOGOUT, Some(text(&phone, "access_token")), json!({}))
        .await
        .assert_status(204);

    refresh(&app, &phone).await.assert_problem(401);
    refresh(&app, &laptop).await.assert_status(200);
}

pub async fn logout_needs_a_valid_customer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app
        .staff_with_role("logout-staff@shop.test", "finance")
        .await;

    app.post(LOGOUT, None, json!({})).await.assert_problem(401);
    app.post(LOGOUT, Some("not-a-jwt"), json!({}))
        .await
        .assert_problem(401);
    app.post(LOGOUT, Some(text(&staff, "access_token")), json!({}))
        .await
        .assert_problem(403);
}

testkit::backend_tests!(
    a_refresh_gives_a_new_pair_and_spends_the_old_token,
    a_reused_refresh_token_revokes_the_whole_family,
    reuse_in_one_session_leaves_other_sessions_alone,
    an_unknown_or_missing_refresh_token_is_refused,
    a_staff_refresh_token_is_not_a_customer_one,
    a_session_without_remember_me_ends_after_twelve_hours,
    a_remembered_session_outlives_twelve_hours_but_not_thirty_days,
    logout_ends_the_session,
    logout_leaves_other_sessions_signed_in,
    logout_needs_a_valid_customer_token,
);
