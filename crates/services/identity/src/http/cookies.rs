//! Session cookies for the browser UI: httpOnly (no script can read them), Secure and
//! SameSite=Strict (no cross-site request carries them). Persistent only with
//! remember-me; otherwise they end with the browser session.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use platform::auth::{ACCESS_COOKIE, REFRESH_COOKIE};
use serde::Serialize;
use utoipa::ToSchema;

use crate::sessions::Issued;

/// The answer of a cookie-mode login or refresh: tokens travel only in cookies.
#[derive(Debug, Serialize, ToSchema)]
pub struct CookieSession {
    /// Always `Cookie`.
    pub token_type: &'static str,
    pub expires_in: u64,
}

fn cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={}", age.max(0)));
    }
    HeaderValue::from_str(&c).ok()
}

/// Sets both cookies. `refresh_path` scopes the refresh cookie to the refresh endpoint.
pub fn with_session_cookies(
    issued: Issued,
    refresh_path: &str,
    secure: bool,
    now: DateTime<Utc>,
) -> Response {
    let (access_age, refresh_age) = if issued.remember_me {
        (
            Some(issued.pair.expires_in as i64),
            Some((issued.session_expires_at - now).num_seconds()),
        )
    } else {
        (None, None)
    };
    let mut res = axum::Json(CookieSession {
        token_type: "Cookie",
        expires_in: issued.pair.expires_in,
    })
    .into_response();
    let headers = res.headers_mut();
    for v in [
        cookie(
            ACCESS_COOKIE,
            &issued.pair.access_token,
            "/",
            access_age,
            secure,
        ),
        cookie(
            REFRESH_COOKIE,
            &issued.pair.refresh_token,
            refresh_path,
            refresh_age,
            secure,
        ),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(SET_COOKIE, v);
    }
    res
}

/// Expires both cookies.
pub fn clear_session_cookies(res: &mut Response, refresh_path: &str, secure: bool) {
    for v in [
        cookie(ACCESS_COOKIE, "", "/", Some(0), secure),
        cookie(REFRESH_COOKIE, "", refresh_path, Some(0), secure),
    ]
    .into_iter()
    .flatten()
    {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

/// The refresh token from the cookie, when the browser sent one.
pub fn refresh_from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, value)| *name == REFRESH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}
