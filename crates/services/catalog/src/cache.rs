//! Cached public reads. A product's answer is cached under its id and its slug; every
//! listing answer is cached under a generation number that any product, stock or
//! category change bumps, so one increment retires all listings at once.
//!
//! Writers invalidate right after their commit, and again when their event comes back
//! from the bus: the second pass clears an entry that a slow reader put back with data
//! it read just before the commit.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use contracts::Envelope;
use platform::cache::Cache;
use platform::events::Handler;
use uuid::Uuid;

use crate::events::Own;

const LISTINGS: &str = "listing-generation";

pub(crate) fn product_key(id_or_slug: &str) -> String {
    format!("product:{id_or_slug}")
}

/// A cached product answer: its version (for the ETag) and its JSON.
pub(crate) fn encode(version: i64, body: &[u8]) -> Bytes {
    let mut out = format!("{version}\n").into_bytes();
    out.extend_from_slice(body);
    Bytes::from(out)
}

pub(crate) fn decode(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let split = bytes.iter().position(|b| *b == b'\n')?;
    let version = std::str::from_utf8(&bytes[..split]).ok()?.parse().ok()?;
    Some((version, &bytes[split + 1..]))
}

/// Forgets a product (under each of its names) and every listing.
pub(crate) async fn forget_product(cache: &Cache, id: Uuid, slugs: &[&str]) {
    let mut keys = vec![product_key(&id.to_string())];
    keys.extend(slugs.iter().map(|s| product_key(s)));
    cache.delete(&keys).await;
    forget_listings(cache).await;
}

pub(crate) async fn forget_listings(cache: &Cache) {
    cache.bump(LISTINGS).await;
}

/// The key of a listing answer, or `None` when the generation is unknown (then the
/// answer is not cached).
pub(crate) async fn listing_key(cache: &Cache, query: &str) -> Option<String> {
    let generation = cache.generation(LISTINGS).await?;
    Some(format!("listing:{generation}:{query}"))
}

/// Invalidates on catalog's own events: the delayed second pass described above.
pub(crate) struct InvalidateOnEvents {
    pub cache: Cache,
}

#[async_trait]
impl Handler for InvalidateOnEvents {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let product = match Own::decode(envelope)? {
            Some(Own::ProductCreated(e)) => e.product,
            Some(Own::ProductUpdated(e)) => e.product,
            Some(Own::ProductArchived(e)) => e.product,
            Some(Own::StockChanged(s)) => {
                self.cache
                    .delete(&[product_key(&s.product_id.to_string())])
                    .await;
                forget_listings(&self.cache).await;
                return Ok(());
            }
            Some(Own::StockReserved(r)) => {
                let keys: Vec<String> = r
                    .levels
                    .iter()
                    .map(|s| product_key(&s.product_id.to_string()))
                    .collect();
                if !keys.is_empty() {
                    self.cache.delete(&keys).await;
                    forget_listings(&self.cache).await;
                }
                return Ok(());
            }
            None => return Ok(()),
        };
        forget_product(&self.cache, product.product_id, &[&product.slug]).await;
        Ok(())
    }
}

pub(crate) fn handler(cache: Cache) -> Arc<dyn Handler> {
    Arc::new(InvalidateOnEvents { cache })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_answer_round_trips() {
        let bytes = encode(7, br#"{"a":1}"#);
        assert_eq!(decode(&bytes), Some((7, &br#"{"a":1}"#[..])));
        assert_eq!(decode(b"garbage"), None);
    }
}
