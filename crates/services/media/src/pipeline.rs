//! The life of an image: accepted (checked, source stored), processed (variants
//! rendered and stored, asynchronously through the bus), and removed (blobs deleted,
//! retried through the bus until they are gone).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use contracts::Envelope;
use contracts::media::{BannersChanged, BlobsOrphaned, ImageProcessed, ImageUploaded, VARIANTS};
use platform::error::ApiError;
use platform::events::Handler;
use platform::unit::UnitOfWork;
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use crate::imaging::{self, Inspected, Rejection};
use crate::store::{self, FAILED, Owner, READY};

pub fn source_path(image_id: Uuid) -> String {
    format!("images/{image_id}/source")
}

/// Where a variant's blob is stored (the URL it is served at is
/// [`contracts::media::variant_url`]).
pub fn variant_path(image_id: Uuid, variant: &str) -> String {
    format!("images/{image_id}/{variant}.webp")
}

/// Checks an upload and stores its bytes as the image's source. Nothing is stored when
/// the check fails.
pub async fn accept(s: &AppState, image_id: Uuid, file: Bytes) -> Result<Inspected, ApiError> {
    let max_pixels = s.ctx.settings.media.max_pixels;
    let header = imaging::read_header(&file, max_pixels).map_err(refusal)?;
    let memory = reserve_decoding(s, &header).await?;
    let bytes = file.clone();
    let inspected = tokio::task::spawn_blocking(move || {
        // Released on this thread once the decode is done (see `reserve_decoding`).
        let _memory = memory;
        imaging::inspect(&bytes, max_pixels)
    })
    .await
    .map_err(ApiError::internal)?;
    let inspected = inspected.map_err(refusal)?;
    s.blobs.put(&source_path(image_id), file).await?;
    Ok(inspected)
}

fn refusal(rejection: Rejection) -> ApiError {
    match rejection {
        Rejection::UnsupportedFormat => ApiError::UnsupportedMediaType(rejection.to_string()),
        Rejection::TooLarge { .. } => {
            ApiError::unprocessable("image_too_large", rejection.to_string())
        }
        Rejection::Corrupt(_) => ApiError::unprocessable("image_corrupt", rejection.to_string()),
    }
}

/// Reserves the memory decoding `header`'s image takes, waiting while other decodes
/// use the budget; an image that could never fit is refused. Drop the reservation on
/// the thread that decoded, after the decode: what it freed is then given back to the
/// system from that thread's heap before the next decode starts.
async fn reserve_decoding(
    s: &AppState,
    header: &imaging::Header,
) -> Result<platform::work::Reservation, ApiError> {
    let cost = header.decode_cost();
    let too_large = || {
        ApiError::unprocessable(
            "image_too_large",
            format!(
                "the image is {}×{} pixels, which takes about {} MiB to process; this shop \
                 processes images of at most {} MiB (media.decode_memory_bytes)",
                header.width,
                header.height,
                cost.div_ceil(1024 * 1024),
                s.decoding.total_bytes() / (1024 * 1024)
            ),
        )
    };
    if !s.decoding.fits(cost) {
        return Err(too_large());
    }
    s.decoding.reserve(cost).await.ok_or_else(too_large)
}

/// Drops the stored source of an upload whose database write failed, so a refused
/// upload leaves nothing behind.
pub async fn discard_source(s: &AppState, image_id: Uuid) {
    if let Err(e) = s.blobs.delete(&source_path(image_id)).await {
        tracing::warn!(%image_id, error = %e, "could not remove the source of a refused upload");
    }
}

/// Removes every blob of an image now; a failure is retried by [`CleanUpBlobs`], which
/// the caller's `BlobsOrphaned` event reaches.
pub async fn remove_blobs(
    blobs: &platform::storage::BlobStore,
    image_id: Uuid,
) -> anyhow::Result<()> {
    blobs.delete(&source_path(image_id)).await?;
    for (variant, _) in VARIANTS {
        blobs.delete(&variant_path(image_id, variant)).await?;
    }
    Ok(())
}

/// Renders the WebP variants of uploaded images.
pub struct ProcessUploads {
    pub state: AppState,
}

#[async_trait]
impl Handler for ProcessUploads {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if !envelope.is::<ImageUploaded>() {
            return Ok(());
        }
        let ImageUploaded { image_id } = envelope.decode()?;
        process(&self.state, image_id).await
    }

    /// One image at a time: each decode already takes its share of the decode budget,
    /// and processing several at once would only hold more encoder memory.
    fn lanes(&self) -> usize {
        1
    }

    /// A few images ahead: a 24-megapixel image takes a second or two to render, and
    /// one taken but not started within the ack wait would be rendered twice.
    fn prefetch(&self) -> usize {
        4
    }
}

async fn process(s: &AppState, image_id: Uuid) -> anyhow::Result<()> {
    let Some(image) = store::get_image(&s.ctx.db, image_id).await? else {
        return Ok(()); // deleted before it was processed
    };
    if image.status != store::PROCESSING {
        return Ok(()); // a redelivery of work already done
    }
    let Some(source) = s.blobs.get(&source_path(image_id)).await? else {
        anyhow::bail!("the source of image {image_id} is missing");
    };
    let (max_pixels, quality) = (
        s.ctx.settings.media.max_pixels,
        s.ctx.settings.media.webp_quality,
    );
    let rendered = match imaging::read_header(&source, max_pixels) {
        Err(why) => Err(why.to_string()),
        Ok(header) => {
            let memory = reserve_decoding(s, &header).await?;
            tokio::task::spawn_blocking(move || {
                let _memory = memory;
                let (img, _) = imaging::decode(&source, max_pixels).map_err(|r| r.to_string())?;
                imaging::render(img, quality)
            })
            .await?
        }
    };
    let (status, variants) = match rendered {
        Ok(variants) => {
            let mut sizes = serde_json::Map::new();
            for v in variants {
                sizes.insert(
                    v.name.into(),
                    json!({"width": v.width, "height": v.height, "bytes": v.webp.len()}),
                );
                s.blobs
                    .put(&variant_path(image_id, v.name), Bytes::from(v.webp))
                    .await?;
            }
            (READY, serde_json::Value::Object(sizes))
        }
        // The upload was decoded once already, so this is not worth retrying.
        Err(why) => {
            tracing::error!(%image_id, %why, "an accepted image failed to process");
            (FAILED, json!({"error": why}))
        }
    };

    let work = s.ctx.begin().await?;
    if !store::finish_processing(&work, image_id, status, variants, work.now()).await? {
        // Deleted (or finished by a twin delivery) while rendering: drop what we wrote
        // unless the image is still there.
        drop(work);
        if store::get_image(&s.ctx.db, image_id).await?.is_none() {
            remove_blobs(&s.blobs, image_id).await?;
        }
        return Ok(());
    }
    if status == READY {
        publish_change(&work, Owner::of(&image), image_id).await?;
    }
    work.commit().await?;
    Ok(())
}

/// Writes the event saying what customers now see of the image's owner: its gallery, or
/// the banner list.
pub async fn publish_change(
    work: &UnitOfWork,
    owner: Owner,
    image_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    match owner {
        Owner::Product(product_id) => {
            let version = store::bump_gallery(work, product_id).await?;
            let gallery = store::gallery(work, product_id, version).await?;
            work.emit(&ImageProcessed { image_id, gallery }, version)
                .await?;
        }
        Owner::Banner(_) => {
            let (version, banners) = store::banner_list_changed(work).await?;
            work.emit(&BannersChanged { version, banners }, version)
                .await?;
        }
    }
    Ok(())
}

/// Deletes the blobs of removed images until they are gone.
pub struct CleanUpBlobs {
    pub blobs: platform::storage::BlobStore,
}

#[async_trait]
impl Handler for CleanUpBlobs {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if !envelope.is::<BlobsOrphaned>() {
            return Ok(());
        }
        let BlobsOrphaned { image_id } = envelope.decode()?;
        remove_blobs(&self.blobs, image_id).await
    }
}

/// Keeps media's view of catalog's products: which exist, and which still take images.
pub struct FollowProducts {
    pub db: sea_orm::DatabaseConnection,
    pub known: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Handler for FollowProducts {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let Some(product) = contracts::catalog::product_snapshot(envelope)? else {
            return Ok(());
        };
        store::record_product(
            &self.db,
            product.product_id,
            product.active,
            product.version,
        )
        .await?;
        self.known.notify_waiters();
        Ok(())
    }
}
