//! Media: product and banner images.
//!
//! Owns image metadata and the blobs (the upload as sent, and its WebP variants) in
//! object storage, plus the home-page banners. An upload is checked by content and
//! stored before it is answered; the variants are rendered afterwards from the service's
//! own `media.image.uploaded.v1` event, so a slow encode never holds a request and a
//! crash mid-render is simply redone.
//!
//! Publishes `media.image.processed/deleted.v1` and `media.gallery.reordered.v1` (each
//! carrying the product's whole gallery with a version) and `media.banners.changed.v1`.
//! Consumes catalog's product events to know which products exist and take images.

mod http;
pub mod imaging;
mod migrations;
mod pipeline;
pub mod seed;
mod store;

use std::sync::Arc;

use platform::events::Consumer;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};
use platform::storage::BlobStore;
use platform::work::MemoryBudget;
use tokio::sync::{Notify, Semaphore};

pub use migrations::Migrator;

pub const NAME: &str = "media";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
    pub blobs: BlobStore,
    /// The memory decodes may take at once: each reserves its image's estimated cost
    /// (bitmap and encoder buffers) before it starts.
    pub decoding: MemoryBudget,
    /// Uploads being read and checked; one that finds none free is refused before its
    /// body is read.
    pub uploads: Arc<Semaphore>,
    /// Woken whenever a catalog product event is recorded.
    pub products_seen: Arc<Notify>,
}

platform::service_state!(AppState);

/// The blob store the settings name: `media.storage_url`, or `<data_dir>/media`.
pub fn blob_store(settings: &platform::config::Settings) -> anyhow::Result<BlobStore> {
    match &settings.media.storage_url {
        Some(url) => BlobStore::open(url),
        None => BlobStore::local(&settings.data_dir.join("media")),
    }
}

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi(settings: &platform::config::Settings) -> utoipa::openapi::OpenApi {
    http::routes(&settings.media).into_openapi()
}

pub async fn start(ctx: ServiceContext) -> anyhow::Result<ServiceParts> {
    let blobs = blob_store(&ctx.settings)?;
    let media = &ctx.settings.media;
    let state = AppState {
        blobs: blobs.clone(),
        decoding: MemoryBudget::new(media.decode_memory_bytes),
        uploads: Arc::new(Semaphore::new(media.max_concurrent_uploads.max(1))),
        products_seen: Arc::new(Notify::new()),
        ctx: ctx.clone(),
    };
    ctx.start_relay();
    let consumers = [
        Consumer {
            name: "media-catalog".into(),
            filter: "catalog.product.>".into(),
            handler: Arc::new(pipeline::FollowProducts {
                db: ctx.db.clone(),
                known: state.products_seen.clone(),
            }),
        },
        Consumer {
            name: "media-process".into(),
            filter: <contracts::media::ImageUploaded as contracts::Event>::TYPE.into(),
            handler: Arc::new(pipeline::ProcessUploads {
                state: state.clone(),
            }),
        },
        Consumer {
            name: "media-cleanup".into(),
            filter: <contracts::media::BlobsOrphaned as contracts::Event>::TYPE.into(),
            handler: Arc::new(pipeline::CleanUpBlobs {
                blobs: blobs.clone(),
            }),
        },
    ];
    for consumer in consumers {
        ctx.bus.subscribe(consumer, &ctx.tasks).await?;
    }
    let db = ctx.db.clone();
    let probe_blobs = blobs.clone();
    Ok(ServiceParts {
        router: http::router(state),
        probes: vec![
            Probe::new("media.database", move || {
                let db = db.clone();
                async move { platform::db::ping(&db).await }
            }),
            Probe::new("media.storage", move || {
                let blobs = probe_blobs.clone();
                async move { blobs.ping().await }
            }),
        ],
    })
}
