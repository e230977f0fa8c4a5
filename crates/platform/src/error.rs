//! The one error type handlers return, rendered as RFC 9457 `application/problem+json`.
//!
//! Client errors carry a stable `code` and a human `detail`; validation errors add one
//! entry per field. Server errors are logged with their cause chain here, once, and
//! answered with an opaque body so no internals leak.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use utoipa::ToSchema;

/// One field's complaint in a validation error.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field's JSON path, e.g. `email` or `items[2].quantity`.
    pub field: String,
    pub message: String,
}

/// The problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every failure a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthorized { code: &'static str, detail: String },
    #[error("forbidden")]
    Forbidden(String),
    /// A 403 with its own code, for refusals the client can act on (buy first, …).
    #[error("{detail}")]
    ForbiddenBecause { code: &'static str, detail: String },
    #[error("not found")]
    NotFound(String),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    PreconditionFailed { code: &'static str, detail: String },
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// A write that must say which version it expects did not.
    #[error("precondition required")]
    PreconditionRequired(String),
    #[error("payload too large")]
    PayloadTooLarge(String),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    /// The client stopped sending the request body.
    #[error("request timeout")]
    RequestTimeout(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bounded resource (password hashing, image decoding, request slots) is full:
    /// refused at once with `Retry-After`, rather than queued without end.
    #[error("overloaded: {what}")]
    Overloaded {
        what: &'static str,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            code: "unauthorized",
            detail: detail.into(),
        }
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }
    pub fn forbidden_because(code: &'static str, detail: impl Into<String>) -> Self {
        Self::ForbiddenBecause {
            code,
            detail: detail.into(),
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            detail: detail.into(),
        }
    }
    pub fn stale_version(current: i64) -> Self {
        Self::PreconditionFailed {
            code: "stale_version",
            detail: format!("the resource changed; the current version is {current}"),
        }
    }
    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::BadRequest { code, detail } => (StatusCode::BAD_REQUEST, code, detail.clone()),
            Self::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "one or more fields are invalid".into(),
            ),
            Self::Unauthorized { code, detail } => (StatusCode::UNAUTHORIZED, code, detail.clone()),
            Self::Forbidden(d) => (StatusCode::FORBIDDEN, "forbidden", d.clone()),
            Self::ForbiddenBecause { code, detail } => {
                (StatusCode::FORBIDDEN, code, detail.clone())
            }
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} was not found"),
            ),
            Self::Conflict { code, detail } => (StatusCode::CONFLICT, code, detail.clone()),
            Self::PreconditionFailed { code, detail } => {
                (StatusCode::PRECONDITION_FAILED, code, detail.clone())
            }
            Self::Unprocessable { code, detail } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, detail.clone())
            }
            Self::PreconditionRequired(d) => (
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
                d.clone(),
            ),
            Self::PayloadTooLarge(d) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                d.clone(),
            ),
            Self::UnsupportedMediaType(d) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                d.clone(),
            ),
            Self::RequestTimeout(d) => (StatusCode::REQUEST_TIMEOUT, "timeout", d.clone()),
            Self::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many attempts; try again in {retry_after_secs} s"),
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable".into(),
            ),
            Self::Overloaded { what, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                format!("the shop is busy ({what}); try again in a moment"),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an unexpected error occurred; it has been logged".into(),
            ),
        }
    }
}

/// Renders a problem+json response; also used by middleware that fails outside handlers.
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> Response {
    let body = Problem {
        kind: format!("https://mercato.dev/problems/{}", code.replace('_', "-")),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail) = self.parts();
        match &self {
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "request failed"),
            Self::Unavailable(why) => tracing::warn!(reason = %why, "dependency unavailable"),
            _ => {}
        }
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_secs }
            | Self::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let errors = match self {
            Self::Validation(errors) => errors,
            _ => Vec::new(),
        };
        let mut res = problem_response(status, code, detail, errors);
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

impl From<DbErr> for ApiError {
    /// Unique violations that a handler did not anticipate still answer 409 rather than
    /// 500; everything else is an internal error.
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::conflict("conflict", "a resource with these values already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::conflict("conflict", "the resource is referenced by another resource")
            }
            _ => Self::Internal(anyhow::Error::new(err).context("database error")),
        }
    }
}

/// Whether a database error is a unique-constraint violation, for handlers that turn
/// one into a specific answer.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub type ApiResult<T> = Result<T, ApiError>;
