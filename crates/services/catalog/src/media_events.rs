//! Following media: each product's processed images and the home banners, recorded in
//! catalog's projection and dropped from the caches so customers see them at once.

use async_trait::async_trait;
use contracts::Envelope;
use contracts::media::Gallery;
use platform::cache::Cache;
use platform::events::Handler;
use sea_orm::DatabaseConnection;

use crate::events::FromMedia;
use crate::store::{media, products};

pub(crate) struct FollowMedia {
    pub db: DatabaseConnection,
    pub cache: Cache,
}

#[async_trait]
impl Handler for FollowMedia {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let gallery: Gallery = match FromMedia::decode(envelope)? {
            Some(FromMedia::ImageProcessed(e)) => e.gallery,
            Some(FromMedia::ImageDeleted(e)) => e.gallery,
            Some(FromMedia::GalleryReordered(e)) => e.gallery,
            Some(FromMedia::BannersChanged(b)) => {
                if media::record_banners(&self.db, b.version, &b.banners).await? {
                    crate::cache::forget_listings(&self.cache).await;
                }
                return Ok(());
            }
            None => return Ok(()),
        };
        if media::record_gallery(&self.db, &gallery).await? {
            let slug = products::get(&self.db, gallery.product_id)
                .await?
                .map(|p| p.slug);
            let slugs: Vec<&str> = slug.as_deref().into_iter().collect();
            crate::cache::forget_product(&self.cache, gallery.product_id, &slugs).await;
        }
        Ok(())
    }
}
