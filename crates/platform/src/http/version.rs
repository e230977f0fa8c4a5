//! Optimistic concurrency over HTTP: `ETag: "<version>"` on reads, and the version a
//! write expects from `If-Match` or a `version` field.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// `If-Match: "3"` → 3. A malformed header is refused rather than ignored.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = v
        .to_str()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    raw.parse::<i64>().map(Some).map_err(|_| {
        ApiError::bad_request("bad_if_match", "If-Match must be a version ETag like \"3\"")
    })
}

/// The version a write expects: `If-Match` wins over the body's `version`; neither is
/// 428, because a write that does not say what it saw could overwrite someone's change.
pub fn required_version(headers: &HeaderMap, body_version: Option<i64>) -> ApiResult<i64> {
    if_match(headers)?.or(body_version).ok_or_else(|| {
        ApiError::PreconditionRequired(
            "send the version you read, as If-Match: \"<version>\" or a version field".into(),
        )
    })
}

/// A JSON body with its version as a strong ETag.
pub fn with_etag<T: Serialize>(body: T, version: i64) -> Response {
    let mut res = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// Whether the client's `If-None-Match` already names `etag` (a quoted entity tag).
/// The comparison is weak (RFC 9110 13.1.2): `W/"3"` matches `"3"`, and `*` matches any
/// current representation.
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
        })
}
