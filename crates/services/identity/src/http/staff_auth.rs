//! Staff sign-in, refresh and sign-out: the customer flows, for staff accounts.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use contracts::claims::AccountKind;
use platform::auth::StaffAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, RawBody};
use platform::validate::parse_email;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{
    LoginRequest, RefreshRequest, check_password, end_session, presented_refresh, session_response,
};
use crate::AppState;
use crate::sessions::TokenPair;
use crate::store::accounts;

const REFRESH_PATH: &str = "/api/v1/staff/auth";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff_login))
        .routes(routes!(staff_refresh))
        .routes(routes!(staff_logout))
}

/// Signs a staff member in. Disabled accounts cannot.
#[utoipa::path(post, path = "/api/v1/staff/auth/login", tag = "staff", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn staff_login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let email = parse_email(&req.email).map_err(|m| ApiError::field("email", m))?;
    if req.password.is_empty() || req.password.len() > 1024 {
        return Err(ApiError::field(
            "password",
            "must be between 1 and 1024 characters",
        ));
    }
    let staff = accounts::staff_by_email(&s.ctx.db, &email)
        .await?
        .filter(|m| m.disabled_at.is_none());
    check_password(
        &s,
        &format!("staff:{email}"),
        ip,
        &req.password,
        staff.as_ref().map(|m| m.password_hash.as_str()),
    )
    .await?;
    let staff = staff.ok_or_else(|| ApiError::unauthorized("the email or password is wrong"))?;
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let issued = s
        .open_session(
            &txn,
            AccountKind::Staff,
            staff.id,
            Some(staff.role),
            req.remember_me,
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
async fn staff_logout(State(s): State<AppState>, auth: StaffAuth) -> ApiResult<Response> {
    end_session(&s, auth.session_id, REFRESH_PATH).await
}
