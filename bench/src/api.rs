//! Calls to the shop's public API that preparing a run needs: a staff member made the
//! way `mercato admin create-staff` makes one and signed in, and resources created with
//! their answer checked. Preparation goes through the API rather than the database so
//! that every event a real shop would publish is published, and the services that keep
//! replicas (orders, shipping) hear of what was made.

use anyhow::{Context, bail};
use platform::clock::SystemClock;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::shop::Shop;

const STAFF_PASSWORD: &str = "a long bench staff passphrase";

/// Sends `req` and returns the JSON answer (`null` for an empty body) when the status is
/// `expected`; otherwise an error naming `what`, the status and the body.
pub async fn expect(
    req: RequestBuilder,
    expected: StatusCode,
    what: &str,
) -> anyhow::Result<Value> {
    let res = req.send().await.with_context(|| what.to_owned())?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if status != expected {
        bail!("{what} answered {status}: {text}");
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).with_context(|| format!("reading the answer to {what}"))
}

/// Posts `body` and returns the created resource's `id`.
pub async fn create(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<Uuid> {
    let req = client.post(url).bearer_auth(token).json(body);
    let created = expect(req, StatusCode::CREATED, &format!("POST {url}")).await?;
    created["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .with_context(|| format!("no id in {created}"))
}

/// A signed-in staff member's access token for `role` (`inventory`, `admin`, …); valid
/// 15 minutes, enough to prepare a run. The member is `bench-<role>@shop.example`.
pub async fn staff_token(
    shop: &Shop,
    client: &reqwest::Client,
    role: &str,
) -> anyhow::Result<String> {
    let email = format!("bench-{role}@shop.example");
    identity::bootstrap::create_staff(
        &shop.identity_db,
        &SystemClock,
        &email,
        "Bench Staff",
        role,
        STAFF_PASSWORD,
    )
    .await
    .with_context(|| format!("creating the {role} staff member"))?;
    let url = format!("{}/api/v1/staff/auth/login", shop.base_url);
    let req = client
        .post(&url)
        .json(&json!({"email": email, "password": STAFF_PASSWORD}));
    let pair = expect(req, StatusCode::OK, "signing staff in").await?;
    pair["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no access token in {pair}"))
}
