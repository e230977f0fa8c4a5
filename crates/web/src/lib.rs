//! Web: the storefront as HTML pages, served at `/` beside the API, and the staff
//! dashboard at `/admin` ([`admin`]).
//!
//! Pages are rendered on the server (askama templates, escaped by default) and work
//! without JavaScript; htmx, vendored and compiled in, improves what it can. The pages
//! own no data: everything they show or change goes through the public API
//! ([`api::Api`]), in this process or across the network, so a page can do nothing a
//! client of the API cannot. Sessions ride on httpOnly, SameSite=Strict cookies
//! ([`session`]); the kernel refuses cross-site posts made with them.

mod admin;
mod api;
mod assets;
mod multipart;
mod pages;
mod session;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tower_http::compression::CompressionLayer;

pub use api::Api;

/// Everything a page handler needs.
#[derive(Clone)]
pub struct WebState {
    pub api: Api,
    /// The name in the header and titles.
    pub shop: Arc<str>,
    /// Where the shop is reached, for canonical and Open Graph URLs.
    pub public_url: Arc<str>,
    pub secure_cookies: bool,
    /// How long a remembered session lasts (the API's `auth.remember_me_days`).
    pub remember_days: u64,
    /// The largest upload form (the media API's own limit, one file and its framing).
    pub upload_limit_bytes: usize,
    /// The largest image file the media API takes, for the upload forms' hint.
    pub max_image_bytes: usize,
}

impl WebState {
    pub fn new(api: Api, settings: &platform::config::Settings) -> Self {
        Self {
            api,
            shop: "Mercato".into(),
            public_url: settings.http.public_url.trim_end_matches('/').into(),
            secure_cookies: settings.http.secure_cookies,
            remember_days: settings.auth.remember_me_days,
            upload_limit_bytes: settings.media.upload_body_limit(),
            max_image_bytes: settings.media.max_upload_bytes,
        }
    }
}

/// The storefront's routes. Text answers are compressed (gzip or brotli, as the
/// browser accepts).
pub fn router(state: WebState) -> Router {
    // Each part reads only its own session: the dashboard's cookies never reach the
    // storefront's pages (they are scoped to /admin), and the storefront's are ignored
    // on the dashboard's.
    let storefront = pages::router().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        session::middleware,
    ));
    let dashboard = admin::router(state.upload_limit_bytes).layer(
        axum::middleware::from_fn_with_state(state.clone(), session::staff_middleware),
    );
    Router::new()
        .merge(storefront)
        .merge(dashboard)
        .merge(assets::router())
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// The page for an address that names nothing, for the kernel's fallback outside the
/// API.
pub fn not_found_page() -> Response {
    page_status(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address. It may have moved, or the link may be mistyped.",
    )
}

fn page_status(status: StatusCode, title: &str, message: &str) -> Response {
    let page = view::StatusPage {
        layout: view::Layout::plain(),
        title: title.to_owned(),
        message: message.to_owned(),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a status page did not render");
            status.into_response()
        }
    }
}
