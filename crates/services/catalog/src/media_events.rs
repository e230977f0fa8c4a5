//! Following media: each product's processed images and the home banners, recorded in
//! catalog's projection and dropped from the caches so customers see them at once.

use async_trait::async_trait;
use contracts::media::{BannersChanged, Gallery, GalleryReordered, ImageDeleted, ImageProcessed};
use contracts::{Envelope, Event};
use platform::cache::Cache;
use platform::events::Handler;
use sea_orm::DatabaseConnection;

use crate::store::{media, products};

pub(crate) struct FollowMedia {
    pub db: DatabaseConnection,
    pub cache: Cache,
}

#[async_trait]
impl Handler for FollowMedia {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let t = envelope.event_type.as_str();
        let gallery: Option<Gallery> = if t == ImageProcessed::TYPE {
            Some(envelope.decode::<ImageProcessed>()?.gallery)
        } else if t == ImageDeleted::TYPE {
            Some(envelope.decode::<ImageDeleted>()?.gallery)
        } else if t == GalleryReordered::TYPE {
            Some(envelope.decode::<GalleryReordered>()?.gallery)
        } else {
            None
        };
        if let Some(gallery) = gallery {
            if media::record_gallery(&self.db, &gallery).await? {
                let slug = products::get(&self.db, gallery.product_id)
                    .await?
                    .map(|p| p.slug);
                let slugs: Vec<&str> = slug.as_deref().into_iter().collect();
                crate::cache::forget_product(&self.cache, gallery.product_id, &slugs).await;
            }
        } else if t == BannersChanged::TYPE {
            let b: BannersChanged = envelope.decode()?;
            if media::record_banners(&self.db, b.version, &b.banners).await? {
                crate::cache::forget_listings(&self.cache).await;
            }
        }
        Ok(())
    }
}
