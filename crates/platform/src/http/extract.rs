//! Extractors that turn bad input into problem+json instead of axum's plain-text
//! rejections: malformed JSON is 400, a missing or mistyped field is 422 naming the
//! field, a wrong content type is 415 and an oversized body is 413.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Tells an absent field (keep what is stored) from an explicit `null` (clear it) in a
/// partial update: `#[serde(default, deserialize_with = "platform::http::nullable")]`
/// on an `Option<Option<T>>`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON body, deserialised with the failing field's path in the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "expected a body with Content-Type: application/json".into(),
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Whether reading a body failed because the client paused longer than
/// `http.body_read_timeout_secs` (the kernel's timeout, somewhere in the error's chain).
pub fn body_timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The answer to a body that stopped arriving.
pub fn body_timeout() -> ApiError {
    ApiError::RequestTimeout("the request body stopped arriving; send it again".into())
}

/// A body read whole, for handlers that need its exact bytes (signatures, fingerprints),
/// with the same problem answers as [`ApiJson`] for one that is too large or stalls.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge("the request body is larger than allowed".into())
                } else if body_timed_out(&rejection) {
                    body_timeout()
                } else {
                    ApiError::bad_request("unreadable_body", rejection.body_text())
                }
            })
    }
}

/// Deserialises JSON, telling syntax errors (400) from shape errors (422, with field).
///
/// The body is read as a JSON value first, so trailing text is refused and integral
/// numbers written with a fraction (`3.0`) count as the integers they are: JSON Schema
/// (and the OpenAPI document) calls them integers, and serde alone would refuse them.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let mut value = serde_json::Value::deserialize(&mut *de).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    // Trailing text after the document means the client sent something other than it
    // thinks; refuse it rather than act on a prefix.
    de.end().map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    integral_floats_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = if path == "." {
            missing_field(&inner).unwrap_or_default()
        } else {
            path
        };
        ApiError::Validation(vec![FieldError {
            field,
            message: clean_message(&inner),
        }])
    })
}

/// `3.0` becomes `3`; other numbers are left as they are. Only up to 2^53, where every
/// integer has an exact float: past it, a float may stand for a number out of the
/// integer's range (`-9223372036854775809` reads as `-2^63`).
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// serde reports a missing field at the parent's path; the name is in the message.
fn missing_field(err: &serde_json::Error) -> Option<String> {
    let msg = err.to_string();
    let rest = msg.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Drops serde's " at line 1 column 9" suffix, which means nothing to an API client.
fn clean_message(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Query parameters, with the same error shape as [`ApiJson`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_deserializer(query);
        de.map(ApiQuery)
    }
}

/// Reads the query string, naming the parameter a bad value was given for (`limit`),
/// as a body's field errors do, instead of one message for the whole query.
fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        let field = if path == "." {
            missing_field_name(&inner).unwrap_or_else(|| "query".into())
        } else {
            path
        };
        ApiError::Validation(vec![FieldError {
            field,
            message: inner,
        }])
    })
}

/// `missing field `x`` names `x`.
fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Body {
        email: String,
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Item {
        quantity: u32,
    }

    fn field_of(err: ApiError) -> (String, String) {
        match err {
            ApiError::Validation(mut errs) => {
                let e = errs.remove(0);
                (e.field, e.message)
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Filters {
        limit: Option<u32>,
        in_stock: Option<bool>,
        q: String,
    }

    #[test]
    fn a_bad_query_parameter_is_named() {
        let field = |q: &str| field_of(serde_urlencoded_deserializer::<Filters>(q).unwrap_err()).0;
        assert_eq!(field("q=a&limit=abc"), "limit");
        assert_eq!(field("q=a&limit=-1"), "limit");
        assert_eq!(field("q=a&in_stock=maybe"), "in_stock");
        assert_eq!(field("limit=1"), "q");
        assert!(serde_urlencoded_deserializer::<Filters>("q=tea%20cup&limit=5").is_ok());
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = parse_json::<Body>(br#"{"items": []}"#).unwrap_err();
        assert_eq!(field_of(err).0, "email");
    }

    #[test]
    fn a_wrong_type_deep_in_the_body_is_named_by_path() {
        let err = parse_json::<Body>(br#"{"email":"a","items":[{"quantity":1},{"quantity":"x"}]}"#)
            .unwrap_err();
        let (field, message) = field_of(err);
        assert_eq!(field, "items[1].quantity");
        assert!(!message.contains("line"), "{message}");
    }

    #[test]
    fn text_after_the_document_is_refused() {
        let err = parse_json::<Item>(br#"{"quantity": 1} trailing"#).unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
    }

    #[test]
    fn an_integer_written_with_a_fraction_is_that_integer() {
        // Large enough that a best-effort float parser lands a step off the integer.
        let item = parse_json::<Versioned>(br#"{"version": 2164733378417495.0}"#).unwrap();
        assert_eq!(item.version, 2_164_733_378_417_495);
        let err = parse_json::<Versioned>(br#"{"version": 2.5}"#).unwrap_err();
        assert_eq!(field_of(err).0, "version");
    }

    #[derive(Debug, Deserialize)]
    struct Versioned {
        version: i64,
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let err = parse_json::<Body>(b"{\"email\": ").unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
    }
}
