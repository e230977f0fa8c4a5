//! A read cache for public answers: in this process's memory (moka) in the single
//! process, Redis when several processes must share it. Both behave the same: entries
//! expire after a time-to-live, and writers invalidate what they change.
//!
//! A cache failure is a miss, never an error: the database is the truth, the cache only
//! saves work.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

#[async_trait]
pub trait CacheStore: Send + Sync + 'static {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>>;
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> anyhow::Result<()>;
    async fn delete(&self, keys: &[String]) -> anyhow::Result<()>;
    /// Increments a counter (created at 1) and returns it. Used as a generation number
    /// that is part of the keys of a family of entries, so one increment retires them all.
    async fn bump(&self, key: &str) -> anyhow::Result<u64>;
    /// The counter's value, 0 when it was never bumped.
    async fn counter(&self, key: &str) -> anyhow::Result<u64>;
}

/// Entries in this process's memory, bounded in count.
pub struct MemoryCache {
    entries: moka::future::Cache<String, Bytes>,
    counters: moka::future::Cache<String, u64>,
    ttl: Duration,
}

impl MemoryCache {
    pub fn new(max_entries: u64, ttl: Duration) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
            counters: moka::future::Cache::builder().max_capacity(10_000).build(),
            ttl,
        }
    }
}

#[async_trait]
impl CacheStore for MemoryCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        Ok(self.entries.get(key).await)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> anyhow::Result<()> {
        // moka expires every entry after the cache-wide TTL; shorter ones are not needed.
        let _ = ttl.min(self.ttl);
        self.entries.insert(key.to_owned(), value).await;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        for k in keys {
            self.entries.invalidate(k).await;
        }
        Ok(())
    }

    async fn bump(&self, key: &str) -> anyhow::Result<u64> {
        let entry = self
            .counters
            .entry(key.to_owned())
            .and_upsert_with(|old| async move { old.map_or(1, |e| e.into_value() + 1) })
            .await;
        Ok(entry.into_value())
    }

    async fn counter(&self, key: &str) -> anyhow::Result<u64> {
        Ok(self.counters.get(key).await.unwrap_or(0))
    }
}

/// Entries in Redis, shared by every process of the shop.
pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
}

impl RedisCache {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        Ok(Self {
            conn: redis::aio::ConnectionManager::new(client).await?,
        })
    }
}

#[async_trait]
impl CacheStore for RedisCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        let mut c = self.conn.clone();
        let v: Option<Vec<u8>> = redis::cmd("GET").arg(key).query_async(&mut c).await?;
        Ok(v.map(Bytes::from))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> anyhow::Result<()> {
        let mut c = self.conn.clone();
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg(value.as_ref())
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut c = self.conn.clone();
        let _: i64 = redis::cmd("DEL").arg(keys).query_async(&mut c).await?;
        Ok(())
    }

    async fn bump(&self, key: &str) -> anyhow::Result<u64> {
        let mut c = self.conn.clone();
        Ok(redis::cmd("INCR").arg(key).query_async(&mut c).await?)
    }

    async fn counter(&self, key: &str) -> anyhow::Result<u64> {
        let mut c = self.conn.clone();
        let v: Option<u64> = redis::cmd("GET").arg(key).query_async(&mut c).await?;
        Ok(v.unwrap_or(0))
    }
}

/// What services use: namespaced keys, and failures turned into misses.
#[derive(Clone)]
pub struct Cache {
    store: Arc<dyn CacheStore>,
    prefix: String,
    pub ttl: Duration,
}

impl Cache {
    pub fn new(store: Arc<dyn CacheStore>, prefix: impl Into<String>, ttl: Duration) -> Self {
        Self {
            store,
            prefix: prefix.into(),
            ttl,
        }
    }

    /// A view of the same store with keys under `scope` (one per service).
    pub fn scoped(&self, scope: &str) -> Self {
        Self {
            store: self.store.clone(),
            prefix: format!("{}:{scope}", self.prefix),
            ttl: self.ttl,
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        self.store.get(&self.key(key)).await.unwrap_or_else(|e| {
            tracing::warn!(
                error = format!("{e:#}"),
                "cache read failed; treating as a miss"
            );
            None
        })
    }

    pub async fn set(&self, key: &str, value: Bytes) {
        if let Err(e) = self.store.set(&self.key(key), value, self.ttl).await {
            tracing::warn!(error = format!("{e:#}"), "cache write failed");
        }
    }

    pub async fn delete(&self, keys: &[String]) {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        if let Err(e) = self.store.delete(&keys).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "cache invalidation failed; entries expire by TTL"
            );
        }
    }

    pub async fn bump(&self, key: &str) {
        if let Err(e) = self.store.bump(&self.key(key)).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "cache invalidation failed; entries expire by TTL"
            );
        }
    }

    /// The generation, or `None` when the store cannot say (then do not cache at all:
    /// an entry under a guessed generation could outlive an invalidation).
    pub async fn generation(&self, key: &str) -> Option<u64> {
        self.store.counter(&self.key(key)).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_are_kept_invalidated_and_generations_count_up() {
        let cache = Cache::new(
            Arc::new(MemoryCache::new(100, Duration::from_secs(60))),
            "t",
            Duration::from_secs(60),
        );
        assert!(cache.get("a").await.is_none());
        cache.set("a", Bytes::from_static(b"1")).await;
        assert_eq!(cache.get("a").await.as_deref(), Some(&b"1"[..]));
        cache.delete(&["a".into()]).await;
        assert!(cache.get("a").await.is_none());
        assert_eq!(cache.generation("g").await, Some(0));
        cache.bump("g").await;
        cache.bump("g").await;
        assert_eq!(cache.generation("g").await, Some(2));
        assert!(cache.scoped("x").get("a").await.is_none());
    }
}
