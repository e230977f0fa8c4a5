//! The HTTP kernel every service runs behind: request ids, logging, metrics, limits,
//! timeouts, security headers, problem+json for failures outside handlers, health and
//! readiness, and the OpenAPI document with its docs page.

mod client_ip;
mod docs;
mod extract;
mod health;
pub mod idempotency;
mod middleware;
mod server;
mod version;

pub use client_ip::{ClientIp, TrustForwardedFor};
pub use extract::{ApiJson, ApiQuery, parse_json};
pub use health::{Probe, Readiness};
pub use server::{Server, shutdown_signal};
pub use version::{if_match, if_none_match, required_version, with_etag};

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::OpenApi;

use crate::config::HttpSettings;
use crate::error::problem_response;

/// Wraps the merged service routers with the kernel's layers and endpoints.
pub fn kernel(
    api: Router,
    openapi: OpenApi,
    readiness: Readiness,
    settings: &HttpSettings,
) -> Router {
    // Install the metrics recorder now, so requests before the first scrape count too.
    health::prometheus();
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_else(|_| "{}".into());
    Router::new()
        .merge(api)
        .merge(health::router(readiness))
        .merge(docs::router(openapi_json))
        .fallback(|| async {
            problem_response(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint".into(),
                Vec::new(),
            )
        })
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an unexpected error occurred".into(),
                Vec::new(),
            )
        }))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(
            middleware::problem_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
}
