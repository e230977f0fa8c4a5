//! Customer sign-up, verification, sign-in, refresh, sign-out and password reset.
//!
//! Nothing here tells a caller whether an email has an account: registration answers
//! the same for a taken address (and mails its owner instead), resend and forgot always
//! answer 202, and a failed login is the same 401 either way, after the same argon2 work.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use contracts::claims::AccountKind;
use contracts::identity::{
    CustomerRegistered, PasswordChanged, PasswordResetRequested, RegistrationAttempted,
    VerificationPurpose,
};
use platform::auth::CustomerAuth;
use platform::crypto::{random_token, sha256_hex};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ClientIp, RawBody};
use platform::validate::{Fields, parse_email};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::cookies;
use super::me::CustomerView;
use crate::domain::password::Password;
use crate::domain::{RESEND_COOLDOWN, RESET_TTL, RESETS_PER_WINDOW};
use crate::sessions::{CUSTOMER, Issued, TokenPair};
use crate::store::{accounts, one_time, sessions};
use crate::verification::{self, CodeCheck};
use crate::{AppState, changed_meanwhile, throttle};

const REFRESH_PATH: &str = "/api/v1/auth";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(schema_with = platform::schema::email)]
    pub email: String,
    /// 10 to 128 characters, not a common password, not the email or the name.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(schema_with = platform::schema::line::<1, 100>)]
    pub name: String,
}

/// Creates a customer account and mails a verification link and code.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "identity", request_body = RegisterRequest,
    responses((status = 201, body = CustomerView), (status = 422, description = "Invalid fields", body = platform::error::Problem),
              (status = 429, description = "Too many attempts", body = platform::error::Problem)))]
async fn register(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<CustomerView>)> {
    let mut f = Fields::new();
    let email = f.parse("email", parse_email(&req.email));
    let name = f.text("name", &req.name, 1, 100);
    let pw = match (&email, &name) {
        (Some(e), Some(n)) => f.parse("password", Password::parse(&req.password, e, n)),
        _ => f.parse(
            "password",
            Password::parse(&req.password, &req.email, &req.name),
        ),
    };
    f.finish()?;
    let (Some(email), Some(name), Some(pw)) = (email, name, pw) else {
        return Err(ApiError::field("body", "is invalid"));
    };
    s.ctx
        .limiter
        .hit(
            &format!("mail:ip:{ip}"),
            s.ctx.settings.rate_limits.mail_per_client,
        )
        .await?;

    // Hash before looking the address up, so both answers cost the same time.
    let hash = s.hasher.hash(&pw).await?;
    let work = s.ctx.begin().await?;
    let now = work.now();
    let created = match accounts::customer_by_email(&work, &email).await? {
        Some(_) => None,
        None => match accounts::insert_customer(&work, &email, &name, &hash, now).await {
            Ok(c) => Some(c),
            Err(e) if is_unique_violation(&e) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let view = match created {
        Some(customer) => {
            let registered = CustomerRegistered {
                customer_id: customer.id,
                email: email.clone(),
                name: name.clone(),
            };
            work.emit(&registered, customer.version).await?;
            verification::issue(&work, &customer, &email, VerificationPurpose::Registration)
                .await?;
            work.commit().await?;
            CustomerView::from(&customer)
        }
        None => {
            drop(work);
            // A taken address: its owner hears about it; the caller sees what a new
            // registration would look like.
            let work = s.ctx.begin().await?;
            if let Some(owner) = accounts::customer_by_email(&work, &email).await?
                && throttle::mail_allowed(&s, &owner.email).await
            {
                let notice = RegistrationAttempted {
                    customer_id: owner.id,
                    email: owner.email.clone(),
                    name: owner.name.clone(),
                };
                work.emit(&notice, owner.version).await?;
            }
            work.commit().await?;
            CustomerView {
                id: Uuid::now_v7(),
                email,
                name,
                email_verified: false,
                pending_email: None,
                created_at: now,
                version: 1,
            }
        }
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    /// The token from the link in the mail.
    #[schema(min_length = 1, max_length = 256)]
    pub token: Option<String>,
    /// With `code`: the address the code was sent to.
    #[schema(schema_with = platform::schema::email_or_null)]
    pub email: Option<String>,
    /// The 6-digit code from the mail.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: Option<String>,
}

/// Verifies an address with the link token or with the email and 6-digit code.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "identity", request_body = VerifyEmailRequest,
    responses((status = 204, description = "Verified"), (status = 400, description = "Invalid, used or expired", body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn verify_email(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> ApiResult<StatusCode> {
    let limit_key = format!("verify:ip:{ip}");
    let limit = s.ctx.settings.rate_limits.verify_per_client;
    s.ctx.limiter.check(&limit_key, limit).await?;
    let now = s.ctx.clock.now();
    let invalid = || {
        ApiError::bad_request(
            "invalid_verification",
            "the verification link or code is invalid, used or expired",
        )
    };
    // Find what the request proves first (a code check commits its attempt on its own),
    // then apply it in one write transaction.
    let proven = match (&req.token, &req.email, &req.code) {
        (Some(token), _, _) => verification::by_token(&s.ctx.db, token, now).await,
        (None, Some(email), Some(code)) => {
            let mut f = Fields::new();
            let email = f.parse("email", parse_email(email));
            f.check(
                code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
                "code",
                "must be the 6 digits from the mail",
            );
            f.finish()?;
            match verification::by_code(&s.ctx.db, email.as_deref().unwrap_or_default(), code, now)
                .await?
            {
                CodeCheck::Valid(v) => Ok(v),
                CodeCheck::Wrong | CodeCheck::Unusable => Err(invalid()),
            }
        }
        _ => {
            return Err(ApiError::field(
                "token",
                "send either the token from the link, or email and code",
            ));
        }
    };
    let result = match proven {
        Ok(v) => {
            let work = s.ctx.begin().await?;
            match verification::apply(&work, &v).await {
                Ok(()) => work.commit().await.map_err(ApiError::from),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) => {
            s.ctx.limiter.hit(&limit_key, limit).await?;
            Err(e)
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailRequest {
    #[schema(schema_with = platform::schema::email)]
    pub email: String,
}

/// Sends a new verification mail if the account exists and is unverified. Always 202.
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = "identity", request_body = EmailRequest,
    responses((status = 202, description = "Accepted"), (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn resend_verification(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<StatusCode> {
    let email = parse_email(&req.email).map_err(|m| ApiError::field("email", m))?;
    s.ctx
        .limiter
        .hit(
            &format!("mail:ip:{ip}"),
            s.ctx.settings.rate_limits.mail_per_client,
        )
        .await?;
    let work = s.ctx.begin().await?;
    if let Some(customer) = accounts::customer_by_email(&work, &email)
        .await?
        .filter(|c| !c.email_verified)
    {
        let last = one_time::latest_verification_for_customer(&work, customer.id).await?;
        if last.is_none_or(|v| work.now() - v.created_at >= RESEND_COOLDOWN)
            && throttle::mail_allowed(&s, &email).await
        {
            verification::issue(&work, &customer, &email, VerificationPurpose::Registration)
                .await?;
        }
    }
    work.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(schema_with = platform::schema::email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// Keep the session for 30 days instead of 12 hours.
    #[serde(default)]
    pub remember_me: bool,
    /// For the browser UI: answer with httpOnly cookies instead of tokens in the body.
    #[serde(default)]
    pub use_cookies: bool,
}

/// Answers with tokens in the body, or with cookies for the browser UI.
pub(super) fn session_response(
    s: &AppState,
    issued: Issued,
    use_cookies: bool,
    refresh_path: &str,
) -> Response {
    if use_cookies {
        cookies::with_session_cookies(
            issued,
            refresh_path,
            s.ctx.settings.http.secure_cookies,
            Utc::now(),
        )
    } else {
        Json(issued.pair).into_response()
    }
}

/// Checks a password for `account` (`customer:<email>` or `staff:<email>`) within the
/// sign-in limits, which are checked before the hash is.
pub(super) async fn check_password(
    s: &AppState,
    account: &str,
    ip: std::net::IpAddr,
    password: &str,
    stored_hash: Option<&str>,
) -> ApiResult<()> {
    let attempt = throttle::Attempt { account, ip };
    verify_password(s, &attempt, password, stored_hash).await?;
    throttle::succeeded(s, &attempt).await;
    Ok(())
}

/// The password part of a sign-in: throttled, and a wrong one counted. The caller
/// counts the success (`throttle::succeeded`) once every factor has passed, so a
/// client that knows the password alone never becomes one the account trusts.
pub(super) async fn verify_password(
    s: &AppState,
    attempt: &throttle::Attempt<'_>,
    password: &str,
    stored_hash: Option<&str>,
) -> ApiResult<()> {
    throttle::admit(s, attempt).await?;
    if s.hasher.verify(password, stored_hash).await? {
        Ok(())
    } else {
        throttle::failed(s, attempt).await;
        Err(ApiError::Unauthorized {
            code: "invalid_credentials",
            detail: "the email or password is wrong".into(),
        })
    }
}

/// Signs a customer in. Unverified customers may sign in but not check out.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn login(
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
    let customer = accounts::customer_by_email(&s.ctx.db, &email).await?;
    check_password(
        &s,
        &format!("customer:{email}"),
        ip,
        &req.password,
        customer.as_ref().map(|c| c.password_hash.as_str()),
    )
    .await?;
    let customer =
        customer.ok_or_else(|| ApiError::unauthorized("the email or password is wrong"))?;
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let issued = s
        .open_session(
            &txn,
            AccountKind::Customer,
            customer.id,
            None,
            req.remember_me,
            false,
        )
        .await?;
    txn.commit().await?;
    Ok(session_response(&s, issued, req.use_cookies, REFRESH_PATH))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// Omit when the browser sends the refresh cookie.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 256)]
    pub refresh_token: Option<String>,
}

/// Reads the refresh token from the body, or from the cookie when the body has none.
pub(super) fn presented_refresh(headers: &HeaderMap, body: &[u8]) -> ApiResult<(String, bool)> {
    let req: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        platform::http::parse_json(body)?
    };
    match (req.refresh_token, cookies::refresh_from_cookie(headers)) {
        (Some(t), _) => Ok((t, false)),
        (None, Some(t)) => Ok((t, true)),
        (None, None) => Err(ApiError::field("refresh_token", "is required")),
    }
}

/// Exchanges a refresh token for a new pair. A spent token revokes its whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = platform::error::Problem)))]
async fn refresh(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let (token, from_cookie) = presented_refresh(&headers, &body)?;
    let issued = s.rotate(AccountKind::Customer, &token).await?;
    Ok(session_response(&s, issued, from_cookie, REFRESH_PATH))
}

/// Ends the current session (its whole refresh family).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = platform::error::Problem)))]
async fn logout(State(s): State<AppState>, auth: CustomerAuth) -> ApiResult<Response> {
    end_session(&s, auth.session_id, REFRESH_PATH).await
}

/// Revokes a session's refresh family and expires the browser's cookies.
pub(super) async fn end_session(
    s: &AppState,
    session_id: Uuid,
    refresh_path: &str,
) -> ApiResult<Response> {
    s.revoke_family(session_id, "logout").await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    cookies::clear_session_cookies(&mut res, refresh_path, s.ctx.settings.http.secure_cookies);
    Ok(res)
}

/// Mails a reset link when the account exists. Always 202.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "identity", request_body = EmailRequest,
    responses((status = 202, description = "Accepted"), (status = 422, body = platform::error::Problem), (status = 429, body = platform::error::Problem)))]
async fn forgot_password(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<StatusCode> {
    let email = parse_email(&req.email).map_err(|m| ApiError::field("email", m))?;
    s.ctx
        .limiter
        .hit(
            &format!("mail:ip:{ip}"),
            s.ctx.settings.rate_limits.mail_per_client,
        )
        .await?;
    let work = s.ctx.begin().await?;
    let now = work.now();
    if let Some(c) = accounts::customer_by_email(&work, &email).await?
        && one_time::resets_since(&work, c.id, now - RESET_TTL).await? < RESETS_PER_WINDOW
        && throttle::mail_allowed(&s, &c.email).await
    {
        let token = random_token();
        let expires_at = now + RESET_TTL;
        one_time::insert_reset(&work, c.id, &sha256_hex(token.as_bytes()), expires_at, now).await?;
        let event = PasswordResetRequested {
            customer_id: c.id,
            email: c.email.clone(),
            name: c.name.clone(),
            token,
            expires_at,
        };
        work.emit(&event, c.version).await?;
    }
    work.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    #[schema(min_length = 1, max_length = 256)]
    pub token: String,
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// Sets a new password with a reset token and ends every session of the account.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "identity", request_body = ResetPasswordRequest,
    responses((status = 204, description = "Password changed"), (status = 400, description = "Invalid, used or expired token", body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn reset_password(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_reset_token",
            "the reset link is invalid, used or expired",
        )
    };
    if req.token.is_empty() || req.token.len() > 256 {
        return Err(invalid());
    }
    let work = s.ctx.begin().await?;
    let now = work.now();
    let customer_id = one_time::use_reset(&work, &sha256_hex(req.token.as_bytes()), now)
        .await?
        .ok_or_else(invalid)?;
    let customer = accounts::customer(&work, customer_id)
        .await?
        .ok_or_else(invalid)?;
    // A refused password rolls the transaction back, so the link still works.
    let pw = Password::parse(&req.password, &customer.email, &customer.name)
        .map_err(|m| ApiError::field("password", m))?;
    let hash = s.hasher.hash(&pw).await?;
    let change = accounts::CustomerChange {
        password_hash: Some(&hash),
        ..Default::default()
    };
    let version = accounts::update_customer(&work, customer.id, customer.version, change, now)
        .await?
        .ok_or_else(changed_meanwhile)?;
    sessions::revoke_all(&work, CUSTOMER, customer.id, None, "password reset", now).await?;
    let event = PasswordChanged {
        customer_id: customer.id,
        email: customer.email.clone(),
        name: customer.name.clone(),
    };
    work.emit(&event, version).await?;
    work.commit().await?;
    throttle::forgive(&s, &format!("customer:{}", customer.email)).await;
    Ok(StatusCode::NO_CONTENT)
}
