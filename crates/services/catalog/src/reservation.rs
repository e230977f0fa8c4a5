//! The catalog's steps of the checkout saga: an order placed reserves every line or
//! none; paid, its reservation becomes a sale; failed or cancelled, the units go back on
//! sale. Each change, its stock events and the inbox claim commit together, so a
//! redelivered event changes nothing.

use async_trait::async_trait;
use contracts::catalog::{StockRejected, StockReserved};
use contracts::orders::{OrderCancelled, OrderPaid, OrderPaymentFailed, OrderPlaced};
use contracts::{Envelope, Event};
use platform::cache::Cache;
use platform::events::{Handler, inbox, outbox};
use platform::service::ServiceContext;

use crate::events::stock_changed;
use crate::store::{products, reservations};

const CONSUMER: &str = "catalog-orders";

pub(crate) struct ReserveStock {
    pub ctx: ServiceContext,
}

pub(crate) fn consumer(ctx: ServiceContext) -> platform::events::Consumer {
    platform::events::Consumer {
        name: CONSUMER.into(),
        filter: "orders.>".into(),
        handler: std::sync::Arc::new(ReserveStock { ctx }),
    }
}

#[async_trait]
impl Handler for ReserveStock {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let t = envelope.event_type.as_str();
        if t == OrderPaid::TYPE {
            let paid: OrderPaid = envelope.decode()?;
            return self.settle(envelope, paid.order_id, Settle::Sell).await;
        }
        if t == OrderPaymentFailed::TYPE {
            let failed: OrderPaymentFailed = envelope.decode()?;
            return self
                .settle(envelope, failed.order_id, Settle::Release)
                .await;
        }
        if t == OrderCancelled::TYPE {
            let cancelled: OrderCancelled = envelope.decode()?;
            return self
                .settle(envelope, cancelled.order_id, Settle::Release)
                .await;
        }
        if envelope.event_type != OrderPlaced::TYPE {
            return Ok(());
        }
        let order: OrderPlaced = envelope.decode()?;
        let wanted =
            reservations::per_product(order.lines.iter().map(|l| (l.product_id, l.quantity)));
        let now = self.ctx.clock.now();
        let db = &self.ctx.db;

        let txn = platform::db::begin_write(db).await?;
        if !inbox::claim(&txn, CONSUMER, envelope.id, now).await? {
            return Ok(());
        }
        let mut short = Vec::new();
        for (product_id, quantity) in &wanted {
            if !reservations::reserve(&txn, *product_id, *quantity, now).await? {
                short.push(*product_id);
            }
        }
        if !short.is_empty() {
            // All or nothing: undo the lines that did fit, and say which did not.
            txn.rollback().await?;
            let txn = platform::db::begin_write(db).await?;
            if !inbox::claim(&txn, CONSUMER, envelope.id, now).await? {
                return Ok(());
            }
            let rejected = StockRejected {
                order_id: order.order_id,
                product_ids: short,
            };
            outbox::enqueue(&txn, &rejected, 1, now).await?;
            txn.commit().await?;
            self.ctx.relay.wake();
            return Ok(());
        }
        let mut touched = Vec::with_capacity(wanted.len());
        for (product_id, quantity) in &wanted {
            reservations::record(&txn, order.order_id, *product_id, *quantity, now).await?;
            let product = products::get(&txn, *product_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("reserved product {product_id} vanished"))?;
            outbox::enqueue(&txn, &stock_changed(&product), product.stock_version, now).await?;
            touched.push(product);
        }
        outbox::enqueue(
            &txn,
            &StockReserved {
                order_id: order.order_id,
            },
            1,
            now,
        )
        .await?;
        txn.commit().await?;
        self.ctx.relay.wake();
        forget(&self.ctx.cache, &touched).await;
        Ok(())
    }
}

/// What becomes of an order's reservation.
enum Settle {
    /// Paid: held units are sold.
    Sell,
    /// Failed or cancelled: held units are freed, sold ones restocked.
    Release,
}

impl ReserveStock {
    async fn settle(
        &self,
        envelope: &Envelope,
        order_id: uuid::Uuid,
        how: Settle,
    ) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let txn = platform::db::begin_write(&self.ctx.db).await?;
        if !inbox::claim(&txn, CONSUMER, envelope.id, now).await? {
            return Ok(());
        }
        let mut ids = match how {
            Settle::Sell => reservations::commit(&txn, order_id, now).await?,
            Settle::Release => reservations::release(&txn, order_id, now).await?,
        };
        if let Settle::Release = how {
            ids.extend(reservations::restock(&txn, order_id, now).await?);
        }
        let mut touched = Vec::new();
        for product_id in ids {
            if let Some(product) = products::get(&txn, product_id).await? {
                outbox::enqueue(&txn, &stock_changed(&product), product.stock_version, now).await?;
                touched.push(product);
            }
        }
        txn.commit().await?;
        self.ctx.relay.wake();
        forget(&self.ctx.cache, &touched).await;
        Ok(())
    }
}

async fn forget(cache: &Cache, touched: &[products::Product]) {
    for p in touched {
        crate::cache::forget_product(cache, p.id, &[&p.slug]).await;
    }
}
