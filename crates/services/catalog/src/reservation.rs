//! The catalog's step of the checkout saga: an order placed reserves every line or
//! none. The reservation, its events and the inbox claim commit together, so a
//! redelivered order changes nothing.

use async_trait::async_trait;
use contracts::catalog::{StockRejected, StockReserved};
use contracts::orders::{OrderCancelled, OrderPlaced};
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
        if envelope.event_type == OrderCancelled::TYPE {
            return self.release(envelope).await;
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

impl ReserveStock {
    /// A cancelled order's held stock goes back on sale.
    async fn release(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let cancelled: OrderCancelled = envelope.decode()?;
        let now = self.ctx.clock.now();
        let txn = platform::db::begin_write(&self.ctx.db).await?;
        if !inbox::claim(&txn, CONSUMER, envelope.id, now).await? {
            return Ok(());
        }
        let mut touched = Vec::new();
        for product_id in reservations::release(&txn, cancelled.order_id, now).await? {
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
