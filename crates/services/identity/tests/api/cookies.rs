//! The cookie variant of sign-in and refresh for the browser UI: httpOnly, Secure,
//! SameSite=Strict cookies instead of tokens in the body, persistent only with remember-me.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{PASSWORD, cookie_value, customer, send_with, set_cookies};

const LOGIN: &str = "/api/v1/auth/login";

pub async fn cookie_sign_in_sets_http_only_strict_secure_session_cookies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "cookies").await;

    let res = app
        .post(
            LOGIN,
            None,
            json!({"email": email, "password": PASSWORD, "use_cookies": true}),
        )
        .await;

    res.assert_status(200);
    assert!(
        res.body.get("access_token").is_none() && res.body.get("refresh_token").is_none(),
        "{}",
        res.text
    );
    assert_eq!(res.body["token_type"], "Cookie");
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for c in &cookies {
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Strict"), "{c}");
        assert!(c.contains("Secure"), "{c}");
        assert!(
            !c.contains("Max-Age"),
            "a session cookie without remember-me: {c}"
        );
    }
    let access = cookie_value(&cookies, "mercato_access").expect("access cookie");
    assert!(cookie_value(&cookies, "mercato_refresh").is_some_and(|v| !v.is_empty()));
    let cookie = format!("mercato_access={access}");
    let me = send_with(
        &app,
        Method::GET,
        "/api/v1/me",
        None,
        &[("cookie", &cookie)],
        None,
    )
    .await;
    me.assert_status(200);
    assert_eq!(me.body["email"], email);
}

pub async fn remember_me_makes_the_cookies_persistent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "remember").await;

    let res = app
        .post(
            LOGIN,
            None,
            json!({"email": email, "password": PASSWORD, "use_cookies": true, "remember_me": true}),
        )
        .await;

    res.assert_status(200);
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for c in &cookies {
        let age: i64 = c
            .split(';')
            .find_map(|p| p.trim().strip_prefix("Max-Age="))
            .unwrap_or_else(|| panic!("no Max-Age in {c}"))
            .parse()
            .expect("seconds");
        assert!(age > 0, "{c}");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"),
            "{c}"
        );
    }
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("mercato_refresh="))
        .expect("refresh cookie");
    assert!(
        refresh.contains("Path=/api/v1/auth"),
        "scoped to the refresh endpoint: {refresh}"
    );
}

pub async fn the_refresh_cookie_renews_a_cookie_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "cookie-refresh").await;
    let (refresh, cookie) = refresh_cookie(&app, &email).await;

    // A browser says the request comes from the shop's own page.
    let res = send_with(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
        None,
    )
    .await;

    res.assert_status(200);
    assert!(res.body.get("refresh_token").is_none(), "{}", res.text);
    let renewed = set_cookies(&res);
    let next = cookie_value(&renewed, "mercato_refresh").expect("a new refresh cookie");
    assert_ne!(next, refresh);
    let again = send_with(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        &[("cookie", &cookie), ("origin", "http://shop.test")],
        None,
    )
    .await;
    again.assert_problem(401);
}

/// Signs in in cookie mode; returns the refresh token and its `Cookie` header.
async fn refresh_cookie(app: &TestApp, email: &str) -> (String, String) {
    let login = app
        .post(
            LOGIN,
            None,
            json!({"email": email, "password": PASSWORD, "use_cookies": true}),
        )
        .await;
    let refresh = cookie_value(&set_cookies(&login), "mercato_refresh").expect("refresh cookie");
    let cookie = format!("mercato_refresh={refresh}");
    (refresh, cookie)
}

/// Another site's page cannot make the browser spend its refresh cookie.
pub async fn a_cookie_request_from_another_site_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = customer(&app, "csrf").await;
    let (_, cookie) = refresh_cookie(&app, &email).await;
    for from in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
        vec![],
    ] {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(from.iter().copied());
        let res = send_with(
            &app,
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            &headers,
            None,
        )
        .await;
        res.assert_problem(403);
        assert_eq!(res.body["code"], "cross_site_request");
    }
    // The cookie was not spent: the shop's own page still renews with it.
    send_with(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
        None,
    )
    .await
    .assert_status(200);
}

testkit::backend_tests!(
    a_cookie_request_from_another_site_is_refused,
    cookie_sign_in_sets_http_only_strict_secure_session_cookies,
    remember_me_makes_the_cookies_persistent,
    the_refresh_cookie_renews_a_cookie_session,
);
