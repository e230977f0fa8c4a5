//! The HTTP kernel every service runs behind: request ids, logging, metrics, limits,
//! timeouts, security headers, problem+json for failures outside handlers, health and
//! readiness, and the OpenAPI document with its docs page.

mod client_ip;
pub mod dead_letters;
mod docs;
mod extract;
mod health;
pub mod idempotency;
mod middleware;
mod openapi;
mod server;
mod version;

pub use client_ip::{ClientIp, LocalClient, TrustForwardedFor};
pub use extract::{ApiJson, ApiQuery, RawBody, body_timed_out, body_timeout, nullable, parse_json};
pub use health::{Probe, Readiness, metrics_router};
pub use server::{ConnectionLimits, Server, shutdown_signal};
pub use version::{if_match, if_none_match, required_version, with_etag};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::OpenApi;

use crate::config::HttpSettings;
use crate::error::problem_response;

/// What the kernel needs to know beyond the HTTP settings.
pub struct KernelOptions {
    /// Largest upload body (multipart) any route of this process accepts.
    pub upload_limit_bytes: usize,
    /// The HTML page for an unknown address outside the API (when the process serves
    /// web pages); API paths always get problem+json.
    pub not_found_page: Option<fn() -> axum::response::Response>,
}

/// Wraps the merged service routers with the kernel's layers and endpoints.
pub fn kernel(
    api: Router,
    openapi: OpenApi,
    readiness: Readiness,
    settings: &HttpSettings,
    options: KernelOptions,
) -> Router {
    // Install the metrics recorder now, so requests before the first scrape count too.
    health::prometheus();
    let mut document = serde_json::to_value(&openapi).unwrap_or_default();
    openapi::document_kernel_answers(&mut document);
    let openapi_json = serde_json::to_string(&document).unwrap_or_else(|_| "{}".into());
    let not_found_page = options.not_found_page;
    let guards = middleware::Guards {
        slots: Arc::new(Semaphore::new(settings.max_concurrent_requests.max(1))),
        upload_limit: options.upload_limit_bytes.max(settings.body_limit_bytes) as u64,
        body_limit: settings.body_limit_bytes as u64,
        body_read_timeout: Duration::from_secs(settings.body_read_timeout_secs.max(1)),
    };
    let life = readiness.life();
    Router::new()
        .merge(api)
        .merge(health::router(readiness, settings.metrics_listen.is_some()))
        .merge(docs::router(openapi_json))
        .fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap| async move {
                match not_found_page {
                    Some(page) if wants_page(&uri, &headers) => page(),
                    _ => problem_response(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "no such endpoint".into(),
                        Vec::new(),
                    ),
                }
            },
        )
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(axum::middleware::from_fn_with_state(
            guards,
            middleware::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            middleware::ShopOrigin::of(&settings.public_url),
            middleware::csrf_guard,
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
        .layer(axum::middleware::from_fn(middleware::no_store_by_default))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(
            middleware::problem_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
        .layer(axum::middleware::from_fn_with_state(
            life,
            middleware::close_when_draining,
        ))
}

/// Whether an unknown address gets the HTML page rather than a problem: only outside the
/// API and the operator endpoints, and only for a client that reads HTML (a browser
/// says so in `Accept`); a program probing `/nope` keeps getting problem+json.
fn wants_page(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> bool {
    const MACHINE_PATHS: [&str; 7] = [
        "/api/",
        "/media/",
        "/docs",
        "/.well-known/",
        "/metrics",
        "/healthz",
        "/readyz",
    ];
    let machine = MACHINE_PATHS.iter().any(|p| uri.path().starts_with(p));
    let reads_html = headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    !machine && reads_html
}
