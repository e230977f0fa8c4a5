//! The signed-in customer's own profile and password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use contracts::identity::{CustomerUpdated, PasswordChanged, VerificationPurpose};
use platform::auth::CustomerAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, if_match, with_etag};
use platform::validate::{Fields, parse_email};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::check_password;
use crate::domain::password::Password;
use crate::sessions::CUSTOMER;
use crate::store::accounts::{self, Customer, CustomerChange};
use crate::store::{one_time, sessions};
use crate::verification;
use crate::{AppState, changed_meanwhile, throttle};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me))
        .routes(routes!(change_password))
}

/// A customer's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    /// A new address waiting for verification; `email` changes once it is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            email: c.email.clone(),
            name: c.name.clone(),
            email_verified: c.email_verified,
            pending_email: None,
            created_at: c.created_at,
            version: c.version,
        }
    }
}

async fn view_of(s: &AppState, customer: &Customer) -> ApiResult<CustomerView> {
    let mut view = CustomerView::from(customer);
    let now = s.ctx.clock.now();
    view.pending_email = one_time::latest_verification_for_customer(&s.ctx.db, customer.id)
        .await?
        .filter(|v| {
            v.purpose == "email_change"
                && v.is_usable(now, crate::domain::VERIFICATION_MAX_FAILURES)
        })
        .map(|v| v.email);
    Ok(view)
}

async fn load(s: &AppState, auth: &CustomerAuth) -> ApiResult<Customer> {
    accounts::customer(&s.ctx.db, auth.customer_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))
}

/// The signed-in customer's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = CustomerView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn get_me(State(s): State<AppState>, auth: CustomerAuth) -> ApiResult<Response> {
    let customer = load(&s, &auth).await?;
    let view = view_of(&s, &customer).await?;
    Ok(with_etag(view, customer.version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(schema_with = platform::schema::line_or_null::<1, 100>)]
    pub name: Option<String>,
    /// A new address; it takes effect once verified through the mail sent to it.
    #[schema(schema_with = platform::schema::email_or_null)]
    pub email: Option<String>,
    /// Expected version (or send `If-Match`).
    pub version: Option<i64>,
}

/// Changes the name now, and the email once the new address is verified.
#[utoipa::path(patch, path = "/api/v1/me", tag = "identity", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses((status = 200, body = CustomerView), (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn update_me(
    State(s): State<AppState>,
    auth: CustomerAuth,
    headers: HeaderMap,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> ApiResult<Response> {
    let mut f = Fields::new();
    let name = req.name.as_deref().and_then(|n| f.text("name", n, 1, 100));
    let email = req
        .email
        .as_deref()
        .and_then(|e| f.parse("email", parse_email(e)));
    f.finish()?;
    let expected = if_match(&headers)?.or(req.version);
    let work = s.ctx.begin().await?;
    let customer = accounts::customer(&work, auth.customer_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    if expected.is_some_and(|v| v != customer.version) {
        return Err(ApiError::stale_version(customer.version));
    }
    let mut current = customer.clone();
    if let Some(name) = name.as_deref().filter(|n| *n != customer.name) {
        let change = CustomerChange {
            name: Some(name),
            ..Default::default()
        };
        current.version =
            accounts::update_customer(&work, customer.id, customer.version, change, work.now())
                .await?
                .ok_or_else(|| ApiError::stale_version(customer.version))?;
        current.name = name.to_owned();
        let event = CustomerUpdated {
            customer_id: current.id,
            email: current.email.clone(),
            name: current.name.clone(),
            email_verified: current.email_verified,
        };
        work.emit(&event, current.version).await?;
    }
    if let Some(email) = email.as_deref().filter(|e| *e != customer.email) {
        throttle::admit_email_change(&s, customer.id, email).await?;
        verification::issue(&work, &current, email, VerificationPurpose::EmailChange).await?;
    }
    work.commit().await?;
    let view = view_of(&s, &current).await?;
    Ok(with_etag(view, current.version))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Changes the password; other sessions end, this one stays.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "identity", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 401, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn change_password(
    State(s): State<AppState>,
    auth: CustomerAuth,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let customer = load(&s, &auth).await?;
    let pw = Password::parse(&req.new_password, &customer.email, &customer.name)
        .map_err(|m| ApiError::field("new_password", m))?;
    check_password(
        &s,
        &format!("customer:{}", customer.email),
        ip,
        &req.current_password,
        Some(&customer.password_hash),
    )
    .await
    .map_err(|e| match e {
        ApiError::Unauthorized { .. } => ApiError::field("current_password", "is wrong"),
        other => other,
    })?;
    let hash = s.hasher.hash(&pw).await?;
    let work = s.ctx.begin().await?;
    let now = work.now();
    let change = CustomerChange {
        password_hash: Some(&hash),
        ..Default::default()
    };
    let version = accounts::update_customer(&work, customer.id, customer.version, change, now)
        .await?
        .ok_or_else(changed_meanwhile)?;
    sessions::revoke_all(
        &work,
        CUSTOMER,
        customer.id,
        Some(auth.session_id),
        "password changed",
        now,
    )
    .await?;
    work.emit(
        &PasswordChanged {
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
        },
        version,
    )
    .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
