//! Blob storage through `object_store`: a local directory in the single process, any
//! S3-compatible store when distributed. Services name blobs by path and never see
//! which one they got.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, PutPayload};

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl BlobStore {
    /// Opens the store `url` names: `s3://bucket[/prefix]` (configured by the `AWS_*`
    /// variables), or a directory path, created when missing.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("s3://") {
            let store = AmazonS3Builder::from_env()
                .with_url(url)
                .build()
                .with_context(|| format!("configuring S3 storage {url}"))?;
            let prefix = url
                .trim_start_matches("s3://")
                .split_once('/')
                .map(|(_, p)| p.trim_matches('/').to_owned())
                .unwrap_or_default();
            let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(store)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            };
            return Ok(Self {
                inner,
                description: url.to_owned(),
            });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        Self::local(Path::new(dir))
    }

    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening {}", dir.display()))?;
        Ok(Self {
            inner: Arc::new(store),
            description: format!("directory {}", dir.display()),
        })
    }

    pub async fn put(&self, path: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.inner
            .put(&BlobPath::from(path), PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing {path}"))?;
        Ok(())
    }

    /// The blob, or `None` when there is none.
    pub async fn get(&self, path: &str) -> anyhow::Result<Option<Bytes>> {
        match self.inner.get(&BlobPath::from(path)).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context(format!("reading {path}"))),
        }
    }

    /// Removes a blob; one that is already gone is not an error.
    pub async fn delete(&self, path: &str) -> anyhow::Result<()> {
        match self.inner.delete(&BlobPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("deleting {path}"))),
        }
    }

    /// Whether the store answers, for `/readyz`.
    pub async fn ping(&self) -> anyhow::Result<()> {
        use futures::StreamExt;
        let mut listing = self.inner.list(Some(&BlobPath::from("readyz")));
        if let Some(Err(e)) = listing.next().await {
            return Err(anyhow::Error::new(e).context("listing blobs"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_blobs_round_trip_and_delete_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(dir.path().to_str().expect("utf-8")).expect("open");
        assert!(store.get("a/b.webp").await.expect("get").is_none());
        store
            .put("a/b.webp", Bytes::from_static(b"webp"))
            .await
            .expect("put");
        assert_eq!(
            store.get("a/b.webp").await.expect("get").as_deref(),
            Some(&b"webp"[..])
        );
        store.delete("a/b.webp").await.expect("delete");
        store.delete("a/b.webp").await.expect("delete again");
        assert!(store.get("a/b.webp").await.expect("get").is_none());
        store.ping().await.expect("ping");
    }

    #[test]
    fn s3_urls_are_accepted_without_contacting_the_store() {
        BlobStore::open("s3://bucket/prefix").expect("s3 url");
    }
}
