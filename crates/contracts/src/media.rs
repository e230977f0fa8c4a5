//! Events published by the media service.
//!
//! Every gallery event carries the whole gallery as it is after the change, with a
//! version: a consumer replaces what it holds when the version is newer, so it needs no
//! ordering and no history.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// The variants every processed image has, each a lossy WebP at most this many pixels
/// on its longer side (`original` keeps the full size).
pub const VARIANTS: [(&str, Option<u32>); 4] = [
    ("thumb", Some(160)),
    ("medium", Some(640)),
    ("large", Some(1600)),
    ("original", None),
];

/// Where a variant of an image is served (by media, through the gateway).
pub fn variant_url(image_id: Uuid, variant: &str) -> String {
    format!("/media/{image_id}/{variant}.webp")
}

/// A processed image as other services show it; URLs follow from the id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub image_id: Uuid,
    pub alt: String,
    /// Of the oriented original.
    pub width: u32,
    pub height: u32,
}

/// A product's processed images in display order; the first is the primary one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    pub product_id: Uuid,
    pub version: i64,
    pub images: Vec<ImageSummary>,
}

/// Stored, still unprocessed: media's own work item for making the WebP variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageUploaded {
    pub image_id: Uuid,
}

impl Event for ImageUploaded {
    const TYPE: &'static str = "media.image.uploaded.v1";
    fn aggregate_id(&self) -> String {
        self.image_id.to_string()
    }
}

macro_rules! gallery_event {
    ($ty:ident, $name:literal) => {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            pub image_id: Uuid,
            pub gallery: Gallery,
        }
        impl Event for $ty {
            const TYPE: &'static str = $name;
            fn aggregate_id(&self) -> String {
                self.gallery.product_id.to_string()
            }
        }
    };
}

gallery_event!(ImageProcessed, "media.image.processed.v1");
gallery_event!(ImageDeleted, "media.image.deleted.v1");

/// A product's images were put in a new order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GalleryReordered {
    pub gallery: Gallery,
}

impl Event for GalleryReordered {
    const TYPE: &'static str = "media.gallery.reordered.v1";
    fn aggregate_id(&self) -> String {
        self.gallery.product_id.to_string()
    }
}

/// A home-page banner whose image is processed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BannerSummary {
    pub banner_id: Uuid,
    pub title: String,
    pub link: String,
    pub position: i32,
    pub image: ImageSummary,
}

/// The banners customers see now, in order, whenever any of them changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BannersChanged {
    pub version: i64,
    pub banners: Vec<BannerSummary>,
}

impl Event for BannersChanged {
    const TYPE: &'static str = "media.banners.changed.v1";
    fn aggregate_id(&self) -> String {
        "banners".into()
    }
}

/// A blob that no longer belongs to anything: media removes it, retrying until it is
/// gone (the request that deleted the image already tried once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlobsOrphaned {
    pub image_id: Uuid,
}

impl Event for BlobsOrphaned {
    const TYPE: &'static str = "media.blobs.orphaned.v1";
    fn aggregate_id(&self) -> String {
        self.image_id.to_string()
    }
}
