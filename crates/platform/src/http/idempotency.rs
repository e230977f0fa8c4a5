//! `Idempotency-Key` requests: reading the key, fingerprinting the body and answering a
//! retry with the stored first answer. Where the key, fingerprint and answer are kept
//! is the service's business (in the transaction of what the request did).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};

/// The request's `Idempotency-Key`: 1 to 255 visible ASCII characters, else 400.
pub fn idempotency_key(headers: &HeaderMap, what: &str) -> ApiResult<String> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            format!(
                "send an Idempotency-Key header (1 to 255 visible characters), the same on every retry of this {what}"
            ),
        ));
    }
    Ok(key.to_owned())
}

/// A fingerprint of a JSON body that ignores key order and spacing, so a retry that
/// serialises the same request differently is still the same request.
pub fn body_fingerprint(body: &[u8]) -> ApiResult<String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not JSON: {e}"))
    })?;
    let canonical = serde_json::to_vec(&value).map_err(ApiError::internal)?;
    Ok(crate::crypto::sha256_hex(&canonical))
}

/// The first answer to a key, sent again and marked `Idempotent-Replayed: true`.
pub fn replayed(status: i32, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// The refusal for a key that came back with another body.
pub fn key_reused(what: &str) -> ApiError {
    ApiError::unprocessable(
        "idempotency_key_reused",
        format!("this Idempotency-Key was used for a different {what}; use a new key"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_key_order_and_spacing() {
        let a = body_fingerprint(br#"{"a": 1, "b": [1, 2]}"#).unwrap();
        let b = body_fingerprint(br#"{"b":[1,2],"a":1}"#).unwrap();
        let c = body_fingerprint(br#"{"b":[2,1],"a":1}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_key_must_be_visible_ascii() {
        let mut h = HeaderMap::new();
        assert!(idempotency_key(&h, "x").is_err());
        h.insert("idempotency-key", HeaderValue::from_static("abc-123"));
        assert_eq!(idempotency_key(&h, "x").unwrap(), "abc-123");
        h.insert("idempotency-key", HeaderValue::from_static("a b"));
        assert!(idempotency_key(&h, "x").is_err());
    }
}
