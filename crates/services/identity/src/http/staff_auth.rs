//! Staff sign-in, refresh and sign-out: the customer flows, for staff accounts.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use contracts::claims::AccountKind;
use platform::auth::StaffEnrolling;
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, RawBody};
use platform::validate::parse_email;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{
    RefreshRequest, end_session, presented_refresh, session_response, verify_password,
};
use crate::sessions::TokenPair;
use crate::store::accounts;
use crate::two_factor::Proof;
use crate::{AppState, throttle};

const REFRESH_PATH: &str = "/api/v1/staff/auth";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff_login))
        .routes(routes!(staff_refresh))
        .routes(routes!(staff_logout))
}

/// A staff sign-in: the customer's fields, and the second factor of a member who has one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffLoginRequest {
    #[schema(schema_with = platform::schema::email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    #[serde(default)]
    pub remember_me: bool,
    #[serde(default)]
    pub use_cookies: bool,
    /// The 6-digit code from the member's authenticator app, once they enrolled one.
    #[schema(max_length = 64)]
    pub totp_code: Option<String>,
    /// Instead of a code: one of the member's recovery codes, each good once.
    #[schema(max_length = 64)]
    pub recovery_code: Option<String>,
}

/// Signs a staff member in. Disabled accounts cannot. A member with a second factor
/// also gives `totp_code` or `recovery_code` (401 `totp_required` without, 401
/// `totp_invalid` for a wrong or spent one); where `auth.staff_2fa` is `required`, a
/// member without one gets a session that opens only the enrolment endpoints.
#[utoipa::path(post, path = "/api/v1/staff/auth/login", tag = "staff", request_body = StaffLoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = platform::error::Problem), (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn staff_login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> ApiResult<Response> {
    let email = parse_email(&req.email).map_err(|m| ApiError::field("email", m))?;
    if req.password.is_empty() || req.password.len() > 1024 {
        return Err(ApiError::field(
            "password",
            "must be between 1 and 1024 characters",
        ));
    }
    for (field, value) in [
        ("totp_code", &req.totp_code),
        ("recovery_code", &req.recovery_code),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > 64) {
            return Err(ApiError::field(field, "must be at most 64 characters"));
        }
    }
    let staff = accounts::staff_by_email(&s.ctx.db, &email)
        .await?
        .filter(|m| m.disabled_at.is_none());
    let account = format!("staff:{email}");
    let attempt = throttle::Attempt {
        account: &account,
        ip,
    };
    let hash = staff.as_ref().map(|m| m.password_hash.as_str());
    verify_password(&s, &attempt, &req.password, hash).await?;
    let staff = staff.ok_or_else(|| ApiError::unauthorized("the email or password is wrong"))?;
    let proof = Proof::of(req.totp_code.as_deref(), req.recovery_code.as_deref());
    match s.check_second_factor(staff.id, proof).await {
        Ok(_) => {}
        // A missing code is a step of the sign-in, not a failure; a wrong one is.
        Err(
            e @ ApiError::Unauthorized {
                code: "totp_required",
                ..
            },
        ) => return Err(e),
        Err(e) => {
            throttle::failed(&s, &attempt).await;
            return Err(e);
        }
    }
    throttle::succeeded(&s, &attempt).await;
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let enrolling = s.must_enrol(&txn, staff.id).await?;
    let issued = s
        .open_session(
            &txn,
            AccountKind::Staff,
            staff.id,
            Some(staff.role),
            req.remember_me,
            enrolling,
        )
        .await?;
    txn.commit().await?;
    Ok(session_response(&s, issued, req.use_cookies, REFRESH_PATH))
}

/// Exchanges a staff refresh token. Fails once the member is disabled or their role changed.
#[utoipa::path(post, path = "/api/v1/staff/auth/refresh", tag = "staff", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = platform::error::Problem)))]
async fn staff_refresh(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let (token, from_cookie) = presented_refresh(&headers, &body)?;
    let issued = s.rotate(AccountKind::Staff, &token).await?;
    Ok(session_response(&s, issued, from_cookie, REFRESH_PATH))
}

/// Ends the staff member's current session.
#[utoipa::path(post, path = "/api/v1/staff/auth/logout", tag = "staff", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = platform::error::Problem)))]
async fn staff_logout(
    State(s): State<AppState>,
    StaffEnrolling(auth, _): StaffEnrolling,
) -> ApiResult<Response> {
    end_session(&s, auth.session_id, REFRESH_PATH).await
}
