//! Home-page banners: an image, a title and where a click leads. Admins manage them;
//! everyone reads the ones whose image is ready.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use contracts::claims::StaffRole;
use contracts::media::{BannersChanged, BlobsOrphaned, ImageUploaded};
use platform::auth::{Admin, MaybeStaff, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use platform::page::Page;
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ImageUrls, Upload, alt_text, urls};
use crate::AppState;
use crate::pipeline;
use crate::store::{self, Banner, Image, NewImage, Owner, READY};

const MAX_BANNERS: usize = 20;
const MAX_POSITION: i32 = 1000;

/// `upload_limit`: the largest multipart body, the file and its framing.
pub(super) fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_banners, create_banner))
        .layer(DefaultBodyLimit::max(upload_limit))
        .routes(routes!(update_banner, delete_banner))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerImage {
    pub id: Uuid,
    /// `processing`, `ready` or `failed`; customers only see banners whose image is ready.
    pub status: String,
    pub alt: String,
    pub urls: ImageUrls,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerView {
    pub id: Uuid,
    pub title: String,
    /// A path in the shop (`/categories/shoes`) or an absolute http(s) URL.
    pub link: String,
    /// Smaller first.
    pub position: i32,
    pub image: BannerImage,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

fn view(banner: Banner, image: Option<Image>) -> BannerView {
    let (status, alt) = image
        .map(|i| (i.status, i.alt))
        .unwrap_or_else(|| ("missing".into(), String::new()));
    BannerView {
        image: BannerImage {
            id: banner.image_id,
            status,
            alt,
            urls: urls(banner.image_id),
        },
        id: banner.id,
        title: banner.title,
        link: banner.link,
        position: banner.position,
        created_at: banner.created_at,
        version: banner.version,
    }
}

/// The home-page banners in order: those with a ready image for everyone, all of them
/// for admins.
#[utoipa::path(get, path = "/api/v1/banners", tag = "media",
    responses((status = 200, body = Page<BannerView>)))]
async fn list_banners(
    State(s): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
) -> ApiResult<Json<Page<BannerView>>> {
    let admin = staff.is_some_and(|st| st.role == StaffRole::Admin);
    let items = store::banners(&s.ctx.db)
        .await?
        .into_iter()
        .filter(|(_, img)| admin || img.as_ref().is_some_and(|i| i.status == READY))
        .map(|(b, img)| view(b, img))
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Checked banner fields; `None` keeps the current value on an edit.
struct BannerFields {
    title: Option<String>,
    link: Option<String>,
    position: Option<i32>,
}

fn check_fields(
    title: Option<&str>,
    link: Option<&str>,
    position: Option<i32>,
) -> ApiResult<BannerFields> {
    let mut f = Fields::new();
    let title = title.and_then(|t| f.text("title", t, 1, 120));
    let link = link.and_then(|l| f.parse("link", parse_link(l)));
    if let Some(p) = position {
        f.check(
            (0..=MAX_POSITION).contains(&p),
            "position",
            "must be between 0 and 1000",
        );
    }
    f.finish()?;
    Ok(BannerFields {
        title,
        link,
        position,
    })
}

/// A link stays in the shop (`/path`, not `//host`) or is an absolute http(s) URL; never
/// `javascript:` or anything a browser would run.
fn parse_link(input: &str) -> Result<String, String> {
    let link = input.trim();
    let ok_scheme = link.starts_with("https://") || link.starts_with("http://");
    let ok_path = link.starts_with('/') && !link.starts_with("//");
    if link.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    if !(ok_scheme || ok_path) || link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a path like /categories/shoes or an http(s) URL".into());
    }
    Ok(link.to_owned())
}

fn position_field(fields: &BTreeMap<String, String>) -> ApiResult<Option<i32>> {
    fields
        .get("position")
        .map(|p| {
            p.trim()
                .parse::<i32>()
                .map_err(|_| ApiError::field("position", "must be a whole number"))
        })
        .transpose()
}

/// Creates a banner from a multipart form: `file` (the image), `title`, `link`, and
/// optionally `position` and `alt`. It shows once its image is processed.
#[utoipa::path(post, path = "/api/v1/banners", tag = "media", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = super::BannerUpload, description = "`file`, `title`, `link`, optional `position` and `alt`"),
    responses((status = 201, body = BannerView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 413, body = platform::error::Problem), (status = 415, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn create_banner(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<BannerView>)> {
    let upload = Upload::read(&s, multipart, &["title", "link", "position", "alt"]).await?;
    let position = position_field(&upload.fields)?;
    let fields = check_fields(
        Some(upload.fields.get("title").map_or("", String::as_str)),
        Some(upload.fields.get("link").map_or("", String::as_str)),
        position,
    )?;
    let alt = alt_text(&upload.fields)?;
    let (banner_id, image_id) = (Uuid::now_v7(), Uuid::now_v7());
    let bytes = upload.file.len();
    let inspected = pipeline::accept(&s, image_id, upload.file).await?;

    let stored = async {
        let work = s.ctx.begin().await?;
        let now = work.now();
        let existing = store::banners(&work).await?;
        if existing.len() >= MAX_BANNERS {
            return Err(ApiError::conflict(
                "too_many_banners",
                format!("the home page has at most {MAX_BANNERS} banners; delete one first"),
            ));
        }
        let next = existing
            .iter()
            .map(|(b, _)| b.position + 1)
            .max()
            .unwrap_or(0);
        let new = NewImage {
            id: image_id,
            owner: Owner::Banner(banner_id),
            alt,
            format: inspected.format,
            bytes,
            width: inspected.width,
            height: inspected.height,
        };
        let image = store::insert_image(&work, new, now).await?;
        let banner = store::insert_banner(
            &work,
            Banner {
                id: banner_id,
                title: fields.title.unwrap_or_default(),
                link: fields.link.unwrap_or_default(),
                position: fields.position.unwrap_or(next.min(MAX_POSITION)),
                image_id,
                created_at: now,
                updated_at: now,
                version: 1,
            },
        )
        .await?;
        work.emit(&ImageUploaded { image_id }, 1).await?;
        let details = json!({"title": banner.title, "link": banner.link});
        work.audit(&admin, ip, "banner.created", "banner", banner_id, details)
            .await?;
        work.commit().await?;
        Ok(view(banner, Some(image)))
    }
    .await;
    match stored {
        Ok(banner) => Ok((StatusCode::CREATED, Json(banner))),
        Err(e) => {
            pipeline::discard_source(&s, image_id).await;
            Err(e)
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerInput {
    #[schema(schema_with = platform::schema::line_or_null::<1, 120>)]
    pub title: Option<String>,
    #[schema(
        max_length = 2048,
        pattern = "^[ \\t]*(?:https?://|/(?:[^/\\s\\u0000-\\u001f\\u007f-\\u009f][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?)(?:[^\\s\\u0000-\\u001f\\u007f-\\u009f]*)[ \\t]*$"
    )]
    pub link: Option<String>,
    #[schema(minimum = 0, maximum = 1000)]
    pub position: Option<i32>,
    /// The version you read (or send `If-Match`).
    pub version: Option<i64>,
}

/// Changes a banner's title, link or position (a new image is a new banner).
#[utoipa::path(patch, path = "/api/v1/banners/{id}", tag = "media", security(("bearer" = [])), request_body = BannerInput,
    params(("id" = Uuid, Path, description = "Banner id")),
    responses((status = 200, body = BannerView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem),
              (status = 428, body = platform::error::Problem)))]
async fn update_banner(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BannerInput>,
) -> ApiResult<Response> {
    let fields = check_fields(
        input.title.as_deref(),
        input.link.as_deref(),
        input.position,
    )?;
    let expected = required_version(&headers, input.version)?;
    let work = s.ctx.begin().await?;
    let current = store::get_banner(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("banner"))?;
    if current.version != expected {
        return Err(ApiError::stale_version(current.version));
    }
    let banner = Banner {
        title: fields.title.unwrap_or(current.title),
        link: fields.link.unwrap_or(current.link),
        position: fields.position.unwrap_or(current.position),
        updated_at: work.now(),
        version: current.version + 1,
        ..current
    };
    if !store::update_banner(&work, &banner, expected).await? {
        return Err(ApiError::stale_version(current.version));
    }
    let (version, banners) = store::banner_list_changed(&work).await?;
    work.emit(&BannersChanged { version, banners }, version)
        .await?;
    let details = json!({"title": banner.title, "link": banner.link, "position": banner.position});
    work.audit(&admin, ip, "banner.updated", "banner", id, details)
        .await?;
    let image = store::get_image(&work, banner.image_id).await?;
    work.commit().await?;
    let version = banner.version;
    Ok(with_etag(view(banner, image), version))
}

/// Deletes a banner and its image files.
#[utoipa::path(delete, path = "/api/v1/banners/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Banner id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
async fn delete_banner(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let banner = store::get_banner(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("banner"))?;
    store::delete_banner(&work, id).await?;
    store::delete_image(&work, banner.image_id).await?;
    let (version, banners) = store::banner_list_changed(&work).await?;
    work.emit(&BannersChanged { version, banners }, version)
        .await?;
    work.emit(
        &BlobsOrphaned {
            image_id: banner.image_id,
        },
        1,
    )
    .await?;
    let details = json!({"title": banner.title});
    work.audit(&admin, ip, "banner.deleted", "banner", id, details)
        .await?;
    work.commit().await?;
    if let Err(e) = pipeline::remove_blobs(&s.blobs, banner.image_id).await {
        tracing::warn!(image_id = %banner.image_id, error = %e, "blob removal deferred");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::parse_link;

    #[test]
    fn links_stay_in_the_shop_or_use_http() {
        assert!(parse_link("/categories/shoes").is_ok());
        assert!(parse_link("https://example.com/sale").is_ok());
        for bad in [
            "javascript:alert(1)",
            "//evil.example",
            "data:text/html,x",
            "",
            "/a b",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
    }
}
