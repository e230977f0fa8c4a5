//! A staff member's own second factor: where it stands, enrolling an authenticator app,
//! confirming it with a first code, and removing it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use platform::auth::{StaffAuth, StaffEnrolling};
use platform::config::StaffTwoFactor;
use platform::error::ApiResult;
use platform::http::{ApiJson, ClientIp};
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::two_factor::Proof;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, enrol, remove))
        .routes(routes!(confirm))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpStatus {
    /// Sign-in asks this member for a code.
    pub enabled: bool,
    /// The shop requires a second factor of every staff member.
    pub required: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
}

/// Whether the member signs in with a second factor.
#[utoipa::path(get, path = "/api/v1/staff/me/totp", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = TotpStatus), (status = 401, body = platform::error::Problem)))]
async fn status(
    State(s): State<AppState>,
    StaffEnrolling(staff, _): StaffEnrolling,
) -> ApiResult<Json<TotpStatus>> {
    let (enabled, recovery_codes_left) = s.second_factor_status(staff.staff_id).await?;
    Ok(Json(TotpStatus {
        enabled,
        required: s.ctx.settings.auth.staff_2fa == StaffTwoFactor::Required,
        recovery_codes_left,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an app that cannot scan.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_uri: String,
    /// Ten codes, each good for one sign-in without the app. Shown this once.
    pub recovery_codes: Vec<String>,
}

/// Starts setting up an authenticator app: a new secret and ten recovery codes, active
/// once confirmed with a first code. Starting again replaces a set-up not confirmed yet.
#[utoipa::path(post, path = "/api/v1/staff/me/totp", tag = "staff", security(("bearer" = [])),
    responses((status = 201, body = TotpEnrolment), (status = 401, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn enrol(
    State(s): State<AppState>,
    StaffEnrolling(staff, _): StaffEnrolling,
) -> ApiResult<(StatusCode, Json<TotpEnrolment>)> {
    let enrolment = s.start_enrolment(&staff).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolment {
            secret: enrolment.secret,
            otpauth_uri: enrolment.otpauth_uri,
            recovery_codes: enrolment.recovery_codes,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The 6-digit code the app shows now.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// Confirms the set-up with the code the app shows: from the next sign-in on, the
/// member gives a code too. A session that had to enrol first is let through at its next
/// refresh.
#[utoipa::path(post, path = "/api/v1/staff/me/totp/confirm", tag = "staff", security(("bearer" = [])), request_body = TotpConfirm,
    responses((status = 204, description = "Enabled"), (status = 401, body = platform::error::Problem),
              (status = 403, description = "`totp_invalid`: not the code the app shows now", body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn confirm(
    State(s): State<AppState>,
    StaffEnrolling(staff, _): StaffEnrolling,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<TotpConfirm>,
) -> ApiResult<StatusCode> {
    s.confirm_enrolment(&staff, &input.code, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpRemove {
    #[schema(max_length = 64)]
    pub totp_code: Option<String>,
    #[schema(max_length = 64)]
    pub recovery_code: Option<String>,
}

/// Removes the member's second factor, proven by a current code or a recovery code.
/// Refused (409 `totp_required`) where the shop requires one; a missing or wrong code is
/// a 403 (`totp_required`, `totp_invalid`), which leaves the session as it is.
#[utoipa::path(delete, path = "/api/v1/staff/me/totp", tag = "staff", security(("bearer" = [])), request_body = TotpRemove,
    responses((status = 204, description = "Removed"), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn remove(
    State(s): State<AppState>,
    staff: StaffAuth,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<TotpRemove>,
) -> ApiResult<StatusCode> {
    let mut f = Fields::new();
    for (field, code) in [
        ("totp_code", &input.totp_code),
        ("recovery_code", &input.recovery_code),
    ] {
        let short = code.as_ref().is_none_or(|c| c.chars().count() <= 64);
        f.check(short, field, "must be at most 64 characters");
    }
    f.finish()?;
    let proof = Proof::of(input.totp_code.as_deref(), input.recovery_code.as_deref());
    s.remove_second_factor(&staff, proof, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
