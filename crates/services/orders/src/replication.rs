//! Keeping the replicas current from catalog's and identity's events.

use std::sync::Arc;

use async_trait::async_trait;
use contracts::catalog::{StockChanged, StockRejected, StockReserved};
use contracts::identity::{
    AddressDeleted, AddressSaved, CustomerRegistered, CustomerUpdated, CustomerVerified,
};
use contracts::{Envelope, Event};
use platform::events::Handler;
use platform::service::ServiceContext;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::store::replicas;

pub(crate) struct FollowCatalog {
    pub ctx: ServiceContext,
    pub products_seen: Arc<Notify>,
}

#[async_trait]
impl Handler for FollowCatalog {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if let Some(product) = contracts::catalog::product_snapshot(envelope)? {
            replicas::record_product(&self.ctx.db, &product).await?;
            self.products_seen.notify_waiters();
        } else if envelope.is::<StockChanged>() {
            replicas::record_stock(&self.ctx.db, &envelope.decode()?).await?;
        } else if envelope.is::<StockReserved>() {
            crate::saga::stock_reserved(&self.ctx, envelope.decode()?).await?;
        } else if envelope.is::<StockRejected>() {
            crate::saga::stock_rejected(&self.ctx, envelope.decode()?).await?;
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
        let t = envelope.event_type.as_str();
        if t == CustomerRegistered::TYPE {
            let e: CustomerRegistered = envelope.decode()?;
            replicas::record_customer(
                &self.db,
                e.customer_id,
                &e.email,
                &e.name,
                Some(false),
                version,
            )
            .await?;
        } else if t == CustomerVerified::TYPE {
            let e: CustomerVerified = envelope.decode()?;
            // The event carries no name; an empty one keeps what is known.
            replicas::record_customer(&self.db, e.customer_id, &e.email, "", Some(true), version)
                .await?;
        } else if t == CustomerUpdated::TYPE {
            let e: CustomerUpdated = envelope.decode()?;
            replicas::record_customer(
                &self.db,
                e.customer_id,
                &e.email,
                &e.name,
                Some(e.email_verified),
                version,
            )
            .await?;
        } else if t == AddressSaved::TYPE {
            let e: AddressSaved = envelope.decode()?;
            replicas::record_address(
                &self.db,
                e.address_id,
                e.customer_id,
                Some(&e.address),
                version,
            )
            .await?;
        } else if t == AddressDeleted::TYPE {
            let e: AddressDeleted = envelope.decode()?;
            replicas::record_address(&self.db, e.address_id, e.customer_id, None, version).await?;
        }
        Ok(())
    }
}
