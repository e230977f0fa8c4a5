//! Fixed-window rate limits, in memory for one process or in Redis when several
//! processes must share counters. Both count the same way, so limits mean the same in
//! either topology.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;

use crate::config::Limit;
use crate::error::ApiError;

/// What a limiter says about one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub retry_after_secs: u64,
}

#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Adds one hit to `key`'s current window and returns the count after it, with the
    /// seconds left in the window.
    async fn incr(&self, key: &str, window_secs: u64) -> anyhow::Result<(u64, u64)>;
    /// The current count without adding to it.
    async fn get(&self, key: &str, window_secs: u64) -> anyhow::Result<(u64, u64)>;
    async fn clear(&self, key: &str) -> anyhow::Result<()>;
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Counters in this process's memory.
#[derive(Default)]
pub struct MemoryStore {
    windows: Mutex<HashMap<String, (u64, u64)>>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (u64, u64)>, u64) -> T) -> T {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_secs();
        // Expired windows are dropped now and then so the map cannot grow without bound.
        if map.len() > 10_000 {
            map.retain(|_, (ends, _)| *ends > now);
        }
        f(&mut map, now)
    }
}

#[async_trait]
impl RateLimitStore for MemoryStore {
    async fn incr(&self, key: &str, window_secs: u64) -> anyhow::Result<(u64, u64)> {
        Ok(self.with(|map, now| {
            let entry = map.entry(key.to_owned()).or_insert((now + window_secs, 0));
            if entry.0 <= now {
                *entry = (now + window_secs, 0);
            }
            entry.1 += 1;
            (entry.1, entry.0 - now)
        }))
    }

    async fn get(&self, key: &str, _window_secs: u64) -> anyhow::Result<(u64, u64)> {
        Ok(self.with(|map, now| match map.get(key) {
            Some((ends, count)) if *ends > now => (*count, ends - now),
            _ => (0, 0),
        }))
    }

    async fn clear(&self, key: &str) -> anyhow::Result<()> {
        self.with(|map, _| map.remove(key));
        Ok(())
    }
}

/// Counters in Redis: `INCR` and `EXPIRE` in one script so a crash between them cannot
/// leave a counter that never expires.
pub struct RedisStore {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {url}"))?;
        let conn = redis::aio::ConnectionManager::new(client)
            .await
            .with_context(|| format!("connecting to Redis at {url}"))?;
        Ok(Self {
            conn,
            prefix: format!("{prefix}:rl:"),
        })
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .context("Redis did not answer")?;
        Ok(())
    }
}

#[async_trait]
impl RateLimitStore for RedisStore {
    async fn incr(&self, key: &str, window_secs: u64) -> anyhow::Result<(u64, u64)> {
        let mut conn = self.conn.clone();
        let (n, ttl): (u64, i64) = redis::Script::new(INCR_SCRIPT)
            .key(format!("{}{key}", self.prefix))
            .arg(window_secs)
            .invoke_async(&mut conn)
            .await?;
        Ok((n, ttl.max(0) as u64))
    }

    async fn get(&self, key: &str, _window_secs: u64) -> anyhow::Result<(u64, u64)> {
        let mut conn = self.conn.clone();
        let k = format!("{}{key}", self.prefix);
        let (n, ttl): (Option<u64>, i64) =
            redis::pipe().get(&k).ttl(&k).query_async(&mut conn).await?;
        Ok((n.unwrap_or(0), ttl.max(0) as u64))
    }

    async fn clear(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}{key}", self.prefix))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// The limiter services use. A store failure lets the request through with a warning:
/// an unreachable Redis should not lock every customer out of their account.
#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<dyn RateLimitStore>,
    enabled: bool,
}

impl RateLimiter {
    pub fn new(store: Arc<dyn RateLimitStore>, enabled: bool) -> Self {
        Self { store, enabled }
    }

    pub fn in_memory(enabled: bool) -> Self {
        Self::new(Arc::new(MemoryStore::default()), enabled)
    }

    /// Counts a hit; `Err(TooManyRequests)` once the key is over its limit.
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        match self.store.incr(key, limit.window_secs).await {
            Ok((count, left)) if count > u64::from(limit.limit) => Err(ApiError::TooManyRequests {
                retry_after_secs: left,
            }),
            Ok(_) => Ok(()),
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "rate limit store unavailable; allowing"
                );
                Ok(())
            }
        }
    }

    /// Fails when the key is already at its limit, without counting this request. For
    /// limits on failures: check first, count only when the attempt fails.
    pub async fn check(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        match self.store.get(key, limit.window_secs).await {
            Ok((count, left)) if count >= u64::from(limit.limit) => {
                Err(ApiError::TooManyRequests {
                    retry_after_secs: left,
                })
            }
            Ok(_) => Ok(()),
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "rate limit store unavailable; allowing"
                );
                Ok(())
            }
        }
    }

    /// Counts one more event of `key` in a window of `window_secs` and returns the count
    /// so far; 0 when limits are off or the store is unreachable. For policies that
    /// decide from the count themselves (a delay that grows with failures).
    pub async fn count(&self, key: &str, window_secs: u64) -> u64 {
        if !self.enabled {
            return 0;
        }
        match self.store.incr(key, window_secs).await {
            Ok((count, _)) => count,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "rate limit store unavailable");
                0
            }
        }
    }

    /// Whether `key` was counted within its current window.
    pub async fn seen(&self, key: &str) -> bool {
        if !self.enabled {
            return false;
        }
        matches!(self.store.get(key, 0).await, Ok((count, _)) if count > 0)
    }

    /// Refuses everything checked against `key` for `secs` seconds (a delay). A hold
    /// already in place keeps its own end.
    pub async fn hold(&self, key: &str, secs: u64) {
        let _ = self.count(key, secs.max(1)).await;
    }

    /// `Err(TooManyRequests)` while a [`RateLimiter::hold`] on `key` lasts.
    pub async fn check_hold(&self, key: &str) -> Result<(), ApiError> {
        self.check(key, Limit::new(1, 1)).await
    }

    pub async fn reset(&self, key: &str) {
        if let Err(err) = self.store.clear(key).await {
            tracing::warn!(error = format!("{err:#}"), "could not reset a rate limit");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_engages_after_the_allowed_hits_and_resets() {
        let limiter = RateLimiter::in_memory(true);
        let limit = Limit::new(3, 60);
        for _ in 0..3 {
            limiter.hit("k", limit).await.unwrap();
        }
        assert!(matches!(
            limiter.hit("k", limit).await,
            Err(ApiError::TooManyRequests { .. })
        ));
        assert!(limiter.check("k", limit).await.is_err());
        assert!(limiter.check("other", limit).await.is_ok());
        limiter.reset("k").await;
        assert!(limiter.hit("k", limit).await.is_ok());
    }

    #[tokio::test]
    async fn a_hold_refuses_until_it_ends_and_counts_grow() {
        let limiter = RateLimiter::in_memory(true);
        assert!(limiter.check_hold("h").await.is_ok());
        limiter.hold("h", 60).await;
        match limiter.check_hold("h").await {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(limiter.count("c", 60).await, 1);
        assert_eq!(limiter.count("c", 60).await, 2);
        assert!(limiter.seen("c").await);
        assert!(!limiter.seen("never").await);
    }

    #[tokio::test]
    async fn a_disabled_limiter_allows_everything() {
        let limiter = RateLimiter::in_memory(false);
        for _ in 0..10 {
            limiter.hit("k", Limit::new(1, 60)).await.unwrap();
        }
    }
}
