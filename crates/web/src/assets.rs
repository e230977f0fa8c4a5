//! Static assets, compiled into the binary and served under URLs that name their
//! content (`/assets/shop.3f9c2a1d.css`), so a browser may keep them forever: a new
//! release has new URLs. Text is compressed by the router's compression layer.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Asset {
    /// The name in the URL, with the content's hash: `shop.3f9c2a1d.css`.
    hashed: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

fn asset(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    let digest = platform::crypto::sha256_hex(bytes);
    Asset {
        hashed: format!("{stem}.{}.{ext}", &digest[..12]),
        content_type,
        bytes,
    }
}

static CSS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "shop",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/shop.css"),
    )
});

static HTMX: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "htmx-2.0.11",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/htmx-2.0.11.min.js"),
    )
});

/// The URL of the stylesheet.
pub fn css_url() -> String {
    format!("/assets/{}", CSS.hashed)
}

/// The URL of htmx.
pub fn htmx_url() -> String {
    format!("/assets/{}", HTMX.hashed)
}

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{name}", get(serve))
}

async fn serve(Path(name): Path<String>) -> Response {
    let found = [&*CSS, &*HTMX].into_iter().find(|a| a.hashed == name);
    match found {
        Some(a) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_name_their_content() {
        assert!(css_url().starts_with("/assets/shop.") && css_url().ends_with(".css"));
        assert_ne!(css_url(), htmx_url());
        assert_eq!(css_url(), css_url(), "stable within a build");
    }
}
