//! A product's images: upload, list, order and delete, for inventory staff.

use std::collections::HashSet;
use std::time::Duration;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use contracts::media::{BlobsOrphaned, GalleryReordered, ImageDeleted, ImageUploaded};
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ImageView, Upload, alt_text, image_view};
use crate::AppState;
use crate::pipeline;
use crate::store::{self, NewImage, Owner};

/// Images one product may have; a gallery is for showing, not for archiving.
const MAX_IMAGES: usize = 30;

/// How long an upload waits to hear of a product catalog has just created.
const PRODUCT_WAIT: Duration = Duration::from_secs(3);

/// `upload_limit`: the largest multipart body, the file and its framing.
pub(super) fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_images, upload_image))
        .layer(DefaultBodyLimit::max(upload_limit))
        .routes(routes!(delete_image))
        .routes(routes!(order_images))
}

/// Whether the product takes images. Media learns of products from catalog's events, so
/// one created a moment ago may not be known yet: wait briefly for it rather than
/// answer 404 for a product the caller has just seen created.
async fn product_takes_images(s: &AppState, id: Uuid) -> ApiResult<()> {
    let deadline = Instant::now() + PRODUCT_WAIT;
    loop {
        let notified = s.products_seen.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match store::product_active(&s.ctx.db, id).await? {
            Some(true) => return Ok(()),
            Some(false) => return Err(archived()),
            None if Instant::now() >= deadline => return Err(ApiError::not_found("product")),
            None => {
                let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            }
        }
    }
}

fn archived() -> ApiError {
    ApiError::conflict(
        "product_archived",
        "the product is archived and takes no new images",
    )
}

/// A product's images, processed or not, in display order.
#[utoipa::path(get, path = "/api/v1/products/{id}/images", tag = "media", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = Vec<ImageView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn list_images(
    State(s): State<AppState>,
    _staff: Staff<Inventory>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<ImageView>>> {
    let images = store::images_of(&s.ctx.db, id).await?;
    Ok(Json(images.into_iter().map(image_view).collect()))
}

/// Uploads an image (JPEG, PNG, WebP or GIF, recognised by content) in the multipart field
/// `file`, with optional `alt` text. Answered once the upload is checked and stored; the
/// WebP variants follow within seconds, and customers see the image then.
#[utoipa::path(post, path = "/api/v1/products/{id}/images", tag = "media", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body(content_type = "multipart/form-data", content = super::ImageUpload, description = "`file`: the image; `alt`: optional text"),
    responses((status = 201, body = ImageView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 413, body = platform::error::Problem),
              (status = 415, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn upload_image(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<ImageView>)> {
    product_takes_images(&s, id).await?;
    let upload = Upload::read(&s, multipart, &["alt"]).await?;
    let alt = alt_text(&upload.fields)?;
    let image_id = Uuid::now_v7();
    let bytes = upload.file.len();
    let inspected = pipeline::accept(&s, image_id, upload.file).await?;

    let stored = async {
        let work = s.ctx.begin().await?;
        match store::product_active(&work, id).await? {
            Some(true) => {}
            Some(false) => return Err(archived()),
            None => return Err(ApiError::not_found("product")),
        }
        // Also serialises concurrent uploads to one product on PostgreSQL (row lock).
        store::bump_gallery(&work, id).await?;
        if store::images_of(&work, id).await?.len() >= MAX_IMAGES {
            return Err(ApiError::conflict(
                "too_many_images",
                format!("a product has at most {MAX_IMAGES} images; delete one first"),
            ));
        }
        let new = NewImage {
            id: image_id,
            owner: Owner::Product(id),
            alt,
            format: inspected.format,
            bytes,
            width: inspected.width,
            height: inspected.height,
        };
        let image = store::insert_image(&work, new, work.now()).await?;
        work.emit(&ImageUploaded { image_id }, 1).await?;
        let details = json!({"product_id": id, "format": inspected.format, "bytes": bytes});
        work.audit(&staff, ip, "image.uploaded", "image", image_id, details)
            .await?;
        work.commit().await?;
        Ok(image)
    }
    .await;
    let image = match stored {
        Ok(image) => image,
        Err(e) => {
            pipeline::discard_source(&s, image_id).await;
            return Err(e);
        }
    };
    Ok((StatusCode::CREATED, Json(image_view(image))))
}

/// Deletes an image and its files. Customers stop seeing it at once.
#[utoipa::path(delete, path = "/api/v1/products/{id}/images/{image_id}", tag = "media", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"), ("image_id" = Uuid, Path, description = "Image id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
async fn delete_image(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path((id, image_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let image = store::get_image(&work, image_id)
        .await?
        .filter(|i| Owner::of(i) == Owner::Product(id))
        .ok_or_else(|| ApiError::not_found("image"))?;
    store::delete_image(&work, image.id).await?;
    let version = store::bump_gallery(&work, id).await?;
    let gallery = store::gallery(&work, id, version).await?;
    work.emit(&ImageDeleted { image_id, gallery }, version)
        .await?;
    work.emit(&BlobsOrphaned { image_id }, 1).await?;
    let details = json!({"product_id": id});
    work.audit(&staff, ip, "image.deleted", "image", image_id, details)
        .await?;
    work.commit().await?;
    // The event above retries this until it succeeds.
    if let Err(e) = pipeline::remove_blobs(&s.blobs, image_id).await {
        tracing::warn!(%image_id, error = %e, "blob removal deferred");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageOrder {
    /// Every image of the product, once each, in the order to show them; the first is
    /// the primary image.
    pub image_ids: Vec<Uuid>,
}

/// Puts a product's images in a new order; the first becomes the primary image.
#[utoipa::path(put, path = "/api/v1/products/{id}/images/order", tag = "media", security(("bearer" = [])), request_body = ImageOrder,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = Vec<ImageView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn order_images(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ImageOrder>,
) -> ApiResult<Json<Vec<ImageView>>> {
    let work = s.ctx.begin().await?;
    if store::product_active(&work, id).await?.is_none() {
        return Err(ApiError::not_found("product"));
    }
    let version = store::bump_gallery(&work, id).await?;
    let current: HashSet<Uuid> = store::images_of(&work, id)
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    let wanted: HashSet<Uuid> = input.image_ids.iter().copied().collect();
    if wanted.len() != input.image_ids.len() || wanted != current {
        return Err(ApiError::field(
            "image_ids",
            "list every image of the product exactly once",
        ));
    }
    store::set_positions(&work, &input.image_ids).await?;
    let gallery = store::gallery(&work, id, version).await?;
    work.emit(&GalleryReordered { gallery }, version).await?;
    let details = json!({"image_ids": input.image_ids});
    work.audit(&staff, ip, "images.reordered", "product", id, details)
        .await?;
    let images = store::images_of(&work, id).await?;
    work.commit().await?;
    Ok(Json(images.into_iter().map(image_view).collect()))
}
