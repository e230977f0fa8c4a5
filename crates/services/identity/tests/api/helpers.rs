//! Small helpers the identity suites share: unique emails, a good password, token
//! access and requests with extra headers.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use testkit::{MailMessage, TestApp, TestResponse};
use uuid::Uuid;

/// Passes the policy: long enough and not a common password.
pub const PASSWORD: &str = "correct horse battery staple";
/// Another good password, for changes and resets.
pub const NEW_PASSWORD: &str = "purple elephant juggling seventeen";
/// The password `TestApp::staff_with_role` gives staff.
pub const STAFF_PASSWORD: &str = "staff password for tests";

/// An address no other test uses: `<prefix>-<random>@example.test`.
pub fn unique_email(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}@example.test", &id[..10])
}

/// A string field of a JSON answer (a token, an id), or a panic naming it.
pub fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {body}"))
}

/// A registered, verified and signed-in customer: `(email, token pair)`.
pub async fn customer(app: &TestApp, prefix: &str) -> (String, Value) {
    let email = unique_email(prefix);
    let pair = app.verified_customer(&email, PASSWORD).await;
    (email, pair)
}

/// Sends a request with extra headers (`If-Match`, `Cookie`, …) and an optional JSON body.
pub async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> TestResponse {
    app.send_with(method, path, token, headers, body).await
}

/// The newest mail to `to` whose subject contains `subject`, waiting up to 15 s for it.
pub async fn wait_for_subject(app: &TestApp, to: &str, subject: &str) -> MailMessage {
    for _ in 0..150 {
        if let Some(m) = app
            .mails_to(to)
            .await
            .into_iter()
            .find(|m| m.subject.contains(subject))
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let subjects: Vec<String> = app
        .mails_to(to)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    panic!("no mail to {to} with a subject containing {subject:?}; has {subjects:?}");
}

/// Gives the notification pipeline time to deliver anything it was going to, so a test
/// can assert that a mail was *not* sent.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

/// The `Set-Cookie` values of a response.
pub fn set_cookies(res: &TestResponse) -> Vec<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// The value of cookie `name` in a list of `Set-Cookie` headers.
pub fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (n, v) = first.split_once('=')?;
        (n.trim() == name).then(|| v.to_owned())
    })
}

/// Signs a staff member in; the raw answer.
pub async fn staff_login(app: &TestApp, email: &str, password: &str) -> TestResponse {
    let body = serde_json::json!({"email": email, "password": password});
    app.post("/api/v1/staff/auth/login", None, body).await
}

/// Exchanges a staff pair's refresh token; the raw answer.
pub async fn staff_refresh(app: &TestApp, pair: &Value) -> TestResponse {
    let body = serde_json::json!({"refresh_token": text(pair, "refresh_token")});
    app.post("/api/v1/staff/auth/refresh", None, body).await
}
