//! Keeping the replicas current from catalog's and identity's events.

use std::sync::Arc;

use async_trait::async_trait;
use contracts::Envelope;
use contracts::catalog::{ProductArchived, ProductCreated, ProductUpdated};
use platform::changes::Changes;
use platform::events::Handler;
use platform::service::ServiceContext;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::events::{FromCatalog, FromIdentity};
use crate::store::replicas;

pub(crate) struct FollowCatalog {
    pub ctx: ServiceContext,
    pub changes: Changes,
    pub products_seen: Arc<Notify>,
}

#[async_trait]
impl Handler for FollowCatalog {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        match FromCatalog::decode(envelope)? {
            Some(
                FromCatalog::ProductCreated(ProductCreated { product })
                | FromCatalog::ProductUpdated(ProductUpdated { product })
                | FromCatalog::ProductArchived(ProductArchived { product }),
            ) => {
                replicas::record_product(&self.ctx.db, &product).await?;
                self.products_seen.notify_waiters();
            }
            Some(FromCatalog::StockChanged(e)) => replicas::record_stock(&self.ctx.db, &e).await?,
            Some(FromCatalog::StockReserved(e)) => {
                crate::saga::stock_reserved(&self.ctx, &self.changes, e).await?
            }
            Some(FromCatalog::StockRejected(e)) => {
                crate::saga::stock_rejected(&self.ctx, &self.changes, e).await?
            }
            None => {}
        }
        Ok(())
    }
}

pub(crate) struct FollowIdentity {
    pub db: DatabaseConnection,
}

#[async_trait]
impl Handler for FollowIdentity {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let version = envelope.aggregate_version;
        let db = &self.db;
        match FromIdentity::decode(envelope)? {
            Some(FromIdentity::Registered(e)) => {
                replicas::record_customer(
                    db,
                    e.customer_id,
                    &e.email,
                    &e.name,
                    Some(false),
                    version,
                )
                .await?
            }
            // The event carries no name; an empty one keeps what is known.
            Some(FromIdentity::Verified(e)) => {
                replicas::record_customer(db, e.customer_id, &e.email, "", Some(true), version)
                    .await?
            }
            Some(FromIdentity::Updated(e)) => {
                let verified = Some(e.email_verified);
                replicas::record_customer(db, e.customer_id, &e.email, &e.name, verified, version)
                    .await?
            }
            Some(FromIdentity::AddressSaved(e)) => {
                let address = Some(&e.address);
                replicas::record_address(db, e.address_id, e.customer_id, address, version).await?
            }
            Some(FromIdentity::AddressDeleted(e)) => {
                replicas::record_address(db, e.address_id, e.customer_id, None, version).await?
            }
            None => {}
        }
        Ok(())
    }
}
