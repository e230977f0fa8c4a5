//! Keeping the replicas current from catalog's and identity's events.

use std::sync::Arc;

use async_trait::async_trait;
use contracts::catalog::{StockChanged, StockRejected, StockReserved};
use contracts::identity::{
    AddressDeleted, AddressSaved, CustomerRegistered, CustomerUpdated, CustomerVerified,
};
use contracts::{Envelope, Event};
use platform::events::Handler;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::domain::order::{AWAITING_PAYMENT, PENDING, REJECTED};
use crate::store::{orders, replicas};

pub(crate) struct FollowCatalog {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn platform::clock::Clock>,
    pub products_seen: Arc<Notify>,
}

#[async_trait]
impl Handler for FollowCatalog {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if let Some(product) = contracts::catalog::product_snapshot(envelope)? {
            replicas::record_product(&self.db, &product).await?;
            self.products_seen.notify_waiters();
        } else if envelope.is::<StockChanged>() {
            replicas::record_stock(&self.db, &envelope.decode()?).await?;
        } else if envelope.is::<StockReserved>() {
            let e: StockReserved = envelope.decode()?;
            // The state condition makes a redelivery change nothing.
            let txn = platform::db::begin_write(&self.db).await?;
            orders::advance(
                &txn,
                e.order_id,
                PENDING,
                AWAITING_PAYMENT,
                None,
                self.clock.now(),
            )
            .await?;
            txn.commit().await?;
        } else if envelope.is::<StockRejected>() {
            let e: StockRejected = envelope.decode()?;
            let txn = platform::db::begin_write(&self.db).await?;
            let note = "not enough stock for every line";
            orders::advance(
                &txn,
                e.order_id,
                PENDING,
                REJECTED,
                Some(note),
                self.clock.now(),
            )
            .await?;
            txn.commit().await?;
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
