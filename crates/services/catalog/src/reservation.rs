//! The catalog's steps of the checkout saga: an order placed reserves every line or
//! none; paid, its reservation becomes a sale; failed or cancelled, the units go back on
//! sale. Each change, its stock events and the inbox claim commit together, so a
//! redelivered event changes nothing.
//!
//! An order's events may arrive out of order or at once in two replicas (they share a
//! JetStream consumer): each takes the order's turn first (`platform::turn::of_aggregate`), so they are
//! handled one after the other, and a cancellation handled before the placement leaves
//! the order closed, so the placement then reserves nothing.

use async_trait::async_trait;
use contracts::Envelope;
use contracts::catalog::{StockRejected, StockReserved};
use contracts::orders::OrderPlaced;
use platform::cache::Cache;
use platform::events::Handler;
use platform::service::ServiceContext;

use crate::events::{FromOrders, stock_changed};
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
        match FromOrders::decode(envelope)? {
            Some(FromOrders::Placed(order)) => self.reserve(envelope, order).await,
            Some(FromOrders::Paid(e)) => self.settle(envelope, e.order_id, Settle::Sell).await,
            Some(FromOrders::PaymentFailed(e)) => {
                self.settle(envelope, e.order_id, Settle::Release).await
            }
            Some(FromOrders::Cancelled(e)) => {
                self.settle(envelope, e.order_id, Settle::Release).await
            }
            None => Ok(()),
        }
    }
}

impl ReserveStock {
    /// Every line of a placed order, or none.
    async fn reserve(&self, envelope: &Envelope, order: OrderPlaced) -> anyhow::Result<()> {
        let wanted =
            reservations::per_product(order.lines.iter().map(|l| (l.product_id, l.quantity)));
        let work = self.ctx.begin().await?;
        let now = work.now();
        if !work.claim(CONSUMER, envelope.id).await? {
            return Ok(());
        }
        if platform::turn::of_aggregate(&work, "order", order.order_id, false, now).await? {
            // Cancelled before its placement reached catalog (another replica took the
            // cancellation first): nothing to hold for it.
            work.commit().await?;
            return Ok(());
        }
        let mut short = Vec::new();
        for (product_id, quantity) in &wanted {
            if !reservations::reserve(&work, *product_id, *quantity, now).await? {
                short.push(*product_id);
            }
        }
        if !short.is_empty() {
            // All or nothing: undo the lines that did fit, and say which did not.
            work.rollback().await?;
            let work = self.ctx.begin().await?;
            if !work.claim(CONSUMER, envelope.id).await? {
                return Ok(());
            }
            let rejected = StockRejected {
                order_id: order.order_id,
                product_ids: short,
            };
            work.emit(&rejected, 1).await?;
            work.commit().await?;
            return Ok(());
        }
        let mut touched = Vec::with_capacity(wanted.len());
        for (product_id, quantity) in &wanted {
            reservations::record(&work, order.order_id, *product_id, *quantity, now).await?;
            let product = products::get(&work, *product_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("reserved product {product_id} vanished"))?;
            touched.push(product);
        }
        // The levels travel in the answer itself: followers of stock read them there.
        let reserved = StockReserved {
            order_id: order.order_id,
            levels: touched.iter().map(stock_changed).collect(),
        };
        work.emit(&reserved, 1).await?;
        work.commit().await?;
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
        let work = self.ctx.begin().await?;
        let now = work.now();
        if !work.claim(CONSUMER, envelope.id).await? {
            return Ok(());
        }
        // After the placement's transaction, if one is running: what it holds is then
        // committed and released here.
        let closing = matches!(how, Settle::Release);
        platform::turn::of_aggregate(&work, "order", order_id, closing, now).await?;
        let mut ids = match how {
            Settle::Sell => reservations::commit(&work, order_id, now).await?,
            Settle::Release => reservations::release(&work, order_id, now).await?,
        };
        if let Settle::Release = how {
            ids.extend(reservations::restock(&work, order_id, now).await?);
        }
        let mut touched = Vec::new();
        for product_id in ids {
            if let Some(product) = products::get(&work, product_id).await? {
                work.emit(&stock_changed(&product), product.stock_version)
                    .await?;
                touched.push(product);
            }
        }
        work.commit().await?;
        forget(&self.ctx.cache, &touched).await;
        Ok(())
    }
}

async fn forget(cache: &Cache, touched: &[products::Product]) {
    for p in touched {
        crate::cache::forget_product(cache, p.id, &[&p.slug]).await;
    }
}

#[cfg(test)]
mod tests {
    //! The events of one order fed to the handler in the orders two replicas sharing
    //! the consumer can produce: reversed, and at once.

    use chrono::Utc;
    use contracts::Event;
    use contracts::orders::{OrderCancelled, OrderPaid, PlacedLine};
    use testkit::Backend;
    use testkit::service::ServiceDb;
    use uuid::Uuid;

    use super::*;
    use crate::store::products::ProductFields;

    const ON_HAND: i64 = 10;

    async fn shop(backend: Backend) -> (ServiceDb, Uuid) {
        let shop = ServiceDb::new::<crate::Migrator>("catalog", backend).await;
        let fields = ProductFields {
            slug: testkit::unique("mug"),
            name: "Mug".into(),
            description: "For tea.".into(),
            price: 1_000,
            currency: "USD".into(),
            weight_grams: 300,
            length_mm: 100,
            width_mm: 100,
            height_mm: 100,
            category_ids: Vec::new(),
        };
        let product = products::insert(&shop.ctx.db, &fields, ON_HAND, Utc::now())
            .await
            .expect("a product");
        (shop, product.id)
    }

    fn placed(order_id: Uuid, product_id: Uuid, quantity: i64) -> Envelope {
        let line = PlacedLine {
            product_id,
            name: "Mug".into(),
            quantity,
            unit_price: 1_000,
        };
        let event = OrderPlaced {
            order_id,
            customer_id: Uuid::now_v7(),
            lines: vec![line],
            subtotal: 1_000 * quantity,
            discount: 0,
            discount_code: None,
            shipping: 0,
            total: 1_000 * quantity,
            currency: "USD".into(),
            recipient: None,
        };
        Envelope::wrap(&event, 1, Utc::now(), None).expect("an envelope")
    }

    fn cancelled(order_id: Uuid, was_paid: bool) -> Envelope {
        let event = OrderCancelled {
            order_id,
            customer_id: Uuid::now_v7(),
            reason: "changed my mind".into(),
            was_paid,
            recipient: None,
        };
        Envelope::wrap(&event, 3, Utc::now(), None).expect("an envelope")
    }

    fn paid(order_id: Uuid, product_id: Uuid, quantity: i64) -> Envelope {
        let line = PlacedLine {
            product_id,
            name: "Mug".into(),
            quantity,
            unit_price: 1_000,
        };
        let event = OrderPaid {
            order_id,
            customer_id: Uuid::now_v7(),
            lines: vec![line],
            total: 1_000 * quantity,
            currency: "USD".into(),
            recipient: Default::default(),
        };
        Envelope::wrap(&event, 2, Utc::now(), None).expect("an envelope")
    }

    async fn stock(ctx: &ServiceContext, product: Uuid) -> (i64, i64, i64) {
        let p = products::get(&ctx.db, product).await.unwrap().unwrap();
        (p.stock.on_hand, p.stock.reserved, p.units_sold)
    }

    #[tokio::test]
    async fn a_cancellation_handled_before_the_placement_holds_nothing() {
        let (shop, mug) = shop(Backend::Embedded).await;
        let handler = ReserveStock {
            ctx: shop.ctx.clone(),
        };
        let order = Uuid::now_v7();
        handler.handle(&cancelled(order, false)).await.unwrap();
        handler.handle(&placed(order, mug, 2)).await.unwrap();

        assert_eq!(stock(&shop.ctx, mug).await, (ON_HAND, 0, 0));
        let published = shop.published().await;
        assert!(
            !published.iter().any(|t| t == StockReserved::TYPE),
            "nothing reserved for a cancelled order: {published:?}"
        );
    }

    /// Two replicas settle one order at once: one hears it was paid, the other that it
    /// was cancelled after payment. Whichever wins, the units end up back on the shelf,
    /// counted once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_payment_and_a_cancellation_settled_at_once_count_once() {
        if !testkit::distributed_backends_available() {
            return;
        }
        let (shop, mug) = shop(Backend::Distributed).await;
        let (one, other) = (
            ReserveStock {
                ctx: shop.ctx.clone(),
            },
            ReserveStock {
                ctx: shop.replica().await,
            },
        );
        for _ in 0..20 {
            let order = Uuid::now_v7();
            one.handle(&placed(order, mug, 1)).await.unwrap();
            let (a, b) = (paid(order, mug, 1), cancelled(order, true));
            let (sold, ended) = tokio::join!(one.handle(&a), other.handle(&b));
            sold.unwrap();
            ended.unwrap();
            // Paid first: sold, then restocked. Cancelled first: released, and the
            // payment then finds nothing held.
            assert_eq!(
                stock(&shop.ctx, mug).await,
                (ON_HAND, 0, 0),
                "order {order}"
            );
        }
    }
}
