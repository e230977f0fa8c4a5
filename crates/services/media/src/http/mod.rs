//! Media's HTTP surface: uploads, galleries, banners and the image files themselves.

mod audit;
mod banners;
mod files;
mod images;

use std::collections::BTreeMap;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use platform::config::MediaSettings;
use platform::error::{ApiError, ApiResult};
use serde::Serialize;
use tokio::sync::OwnedSemaphorePermit;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::AppState;
use crate::store::Image;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    routes(&state.ctx.settings.media).with_state(state)
}

/// Every route of the service with its OpenAPI declaration, before it has a state: the
/// service's part of the API document, which every process serves whole.
pub(crate) fn routes(settings: &MediaSettings) -> OpenApiRouter<AppState> {
    let upload_limit = settings.upload_body_limit();
    OpenApiRouter::new()
        .merge(audit::router())
        .merge(banners::router(upload_limit))
        .merge(files::router())
        .merge(images::router(upload_limit))
}

/// Text fields besides the file: few and short.
const MAX_TEXT_FIELDS: usize = 8;
const MAX_TEXT_BYTES: usize = 2048;

/// A multipart upload: the file from the field `file`, and any short text fields.
pub(crate) struct Upload {
    pub file: Bytes,
    pub fields: BTreeMap<String, String>,
    /// One of `media.max_concurrent_uploads`, held while the upload is read and checked.
    _slot: OwnedSemaphorePermit,
}

impl Upload {
    /// Takes an upload slot (or refuses with 503 before reading anything), then reads
    /// the body.
    pub async fn read(
        s: &AppState,
        multipart: Result<Multipart, MultipartRejection>,
        allowed: &[&str],
    ) -> ApiResult<Self> {
        let slot = s
            .uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded {
                what: "too many uploads at once",
                retry_after_secs: 2,
            })?;
        let max_bytes = s.ctx.settings.media.max_upload_bytes;
        let mut multipart = multipart.map_err(|e| {
            ApiError::UnsupportedMediaType(format!(
                "send multipart/form-data with the image in the field `file` ({e})"
            ))
        })?;
        let mut file = None;
        let mut fields = BTreeMap::new();
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                if file.is_some() {
                    return Err(ApiError::field("file", "send one file per upload"));
                }
                let mut buf = BytesMut::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if buf.len() + chunk.len() > max_bytes {
                        return Err(too_large(max_bytes));
                    }
                    buf.extend_from_slice(&chunk);
                }
                file = Some(buf.freeze());
            } else if allowed.contains(&name.as_str()) {
                if fields.len() >= MAX_TEXT_FIELDS || fields.contains_key(&name) {
                    return Err(ApiError::field(name, "sent more than once"));
                }
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if bytes.len() > MAX_TEXT_BYTES {
                    return Err(ApiError::field(name, "is too long"));
                }
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::field(name.clone(), "must be UTF-8 text"))?;
                fields.insert(name, text);
            } else {
                return Err(ApiError::field(
                    name,
                    format!("unknown field; expected file or {}", allowed.join(", ")),
                ));
            }
        }
        let file = file
            .filter(|f| !f.is_empty())
            .ok_or_else(|| ApiError::field("file", "attach the image in the field `file`"))?;
        Ok(Self {
            file,
            fields,
            _slot: slot,
        })
    }
}

fn too_large(max_bytes: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "an upload may be at most {} MiB",
        max_bytes as f64 / (1024.0 * 1024.0)
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(e.body_text())
    } else if platform::http::body_timed_out(&e) {
        platform::http::body_timeout()
    } else {
        ApiError::bad_request("bad_multipart", e.body_text())
    }
}

/// Where an image's variants are served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageUrls {
    pub thumb: String,
    pub medium: String,
    pub large: String,
    pub original: String,
}

pub(crate) fn urls(image_id: Uuid) -> ImageUrls {
    let url = |v: &str| contracts::media::variant_url(image_id, v);
    ImageUrls {
        thumb: url("thumb"),
        medium: url("medium"),
        large: url("large"),
        original: url("original"),
    }
}

/// An image as staff see it, processed or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: Uuid,
    /// `processing` until the WebP variants exist, then `ready` (or `failed`).
    pub status: String,
    /// 0 is the primary image.
    pub position: i32,
    pub alt: String,
    /// The uploaded format, recognised by content.
    pub format: String,
    /// Of the upload, after applying its EXIF orientation.
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub urls: ImageUrls,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn image_view(i: Image) -> ImageView {
    ImageView {
        urls: urls(i.id),
        id: i.id,
        status: i.status,
        position: i.position,
        alt: i.alt,
        format: i.format,
        width: i.width,
        height: i.height,
        bytes: i.bytes,
        created_at: i.created_at,
    }
}

/// Alt text: optional, one line, bounded.
pub(crate) fn alt_text(fields: &BTreeMap<String, String>) -> ApiResult<String> {
    let mut f = platform::validate::Fields::new();
    let alt = f.text("alt", fields.get("alt").map_or("", String::as_str), 0, 300);
    f.finish()?;
    Ok(alt.unwrap_or_default())
}

/// The form of an image upload, for the document; the handler reads the parts itself.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form; Upload::read reads it"
)]
pub(crate) struct ImageUpload {
    /// The image: JPEG, PNG, WebP or GIF, recognised by its content, not its name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// One line describing the picture, for readers who cannot see it.
    #[schema(schema_with = platform::schema::line_or_null::<0, 300>)]
    alt: Option<String>,
}

/// The form of a banner upload, for the document.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form; Upload::read reads it"
)]
pub(crate) struct BannerUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(schema_with = platform::schema::line::<1, 120>)]
    title: String,
    /// A path in the shop (`/categories/shoes`) or an http(s) URL.
    #[schema(
        max_length = 2048,
        pattern = "^[ \\t]*(?:https?://|/(?:[^/\\s\\u0000-\\u001f\\u007f-\\u009f][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?)(?:[^\\s\\u0000-\\u001f\\u007f-\\u009f]*)[ \\t]*$"
    )]
    link: String,
    #[schema(minimum = 0, maximum = 1000)]
    position: Option<i32>,
    #[schema(schema_with = platform::schema::line_or_null::<0, 300>)]
    alt: Option<String>,
}
