//! The image files: `GET /media/{image_id}/{variant}.webp`.
//!
//! A variant never changes once written (a new upload is a new id), so the answer may be
//! cached for a year without revalidation, and the ETag can be computed without reading
//! the blob.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contracts::media::VARIANTS;
use platform::error::{ApiError, ApiResult};
use platform::http::if_none_match;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::pipeline::variant_path;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(image_file))
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One variant of a processed image as WebP: `thumb` (160 px), `medium` (640 px),
/// `large` (1600 px) or `original` (full size), each on its longer side.
#[utoipa::path(get, path = "/media/{image_id}/{file}", tag = "media",
    params(("image_id" = Uuid, Path, description = "Image id"), ("file" = String, Path, description = "`thumb.webp`, `medium.webp`, `large.webp` or `original.webp`")),
    responses((status = 200, content_type = "image/webp", description = "The image"), (status = 304, description = "Not modified"),
              (status = 404, body = platform::error::Problem)))]
async fn image_file(
    State(s): State<AppState>,
    Path((image_id, file)): Path<(Uuid, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let variant = file
        .strip_suffix(".webp")
        .filter(|v| VARIANTS.iter().any(|(name, _)| name == v))
        .ok_or_else(|| ApiError::not_found("image variant"))?;
    let etag = format!("\"{image_id}-{variant}\"");
    if if_none_match(&headers, &etag) {
        return Ok(with_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
        ));
    }
    let bytes = s
        .blobs
        .get(&variant_path(image_id, variant))
        .await?
        .ok_or_else(|| ApiError::not_found("image"))?;
    let mut res = Response::new(Body::from(bytes));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
    Ok(with_headers(res, &etag))
}

fn with_headers(mut res: Response, etag: &str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    res
}
