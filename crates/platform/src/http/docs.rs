//! The OpenAPI document and an interactive docs page whose assets are compiled into the
//! binary (a vendored swagger-ui-dist), so the docs work offline and need no download.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

const BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mercato API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>"#;

// In a file of its own rather than inline so the page works under a CSP without
// 'unsafe-inline'.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true
});"##;

pub(crate) fn router(openapi_json: String) -> Router {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route("/docs", get(|| async { Html(PAGE) }))
        .route(
            "/docs/assets/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript", BUNDLE_JS) }),
        )
        .route(
            "/docs/assets/swagger-ui.css",
            get(|| async { asset("text/css", CSS) }),
        )
        .route(
            "/docs/assets/init.js",
            get(|| async { asset("text/javascript", INIT_JS.as_bytes()) }),
        )
}

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}
