//! How catalog's public reads answer: JSON with caching headers, and product answers
//! with their ETag and 304.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use platform::http::if_none_match;

/// A JSON answer. Public answers may be kept briefly by browsers and proxies; staff
/// answers carry stock counts and are never stored.
pub(crate) fn json_response(body: Bytes, public: bool) -> Response {
    let cache = if public {
        "public, max-age=30"
    } else {
        "private, no-store"
    };
    let mut res = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response();
    res.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Cookie"),
    );
    res
}

/// A product answer with its ETag; `304` when a public client already has this version.
pub(crate) fn product_response(
    version: i64,
    body: Bytes,
    headers: &HeaderMap,
    public: bool,
) -> Response {
    let etag = format!("\"{version}\"");
    let fresh = if_none_match(headers, &etag);
    let mut res = if fresh && public {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        json_response(body, public)
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}
