//! Orders' steps of the checkout saga. Catalog answers a placed order with reserved or
//! rejected; payments answers an order awaiting payment with a payment and, later, its
//! outcome and refunds. Each answer moves the order only from the status it expects and
//! publishes the next step in the same transaction, so redelivered or late events change
//! nothing.

use async_trait::async_trait;
use contracts::Envelope;
use contracts::catalog::{StockRejected, StockReserved};
use contracts::orders::{
    OrderAwaitingPayment, OrderPaid, OrderPaymentFailed, OrderRefunded, PlacedLine,
};
use contracts::payments::{PaymentFailed, PaymentRefunded, PaymentSucceeded};
use platform::changes::Changes;
use platform::events::Handler;
use platform::service::ServiceContext;
use platform::unit::UnitOfWork;

use crate::domain::order::{
    AWAITING_PAYMENT, CANCELLED, DELIVERED, PAID, PAYMENT_FAILED, PENDING, PROCESSING, REFUNDED,
    REJECTED, SHIPPED,
};
use crate::events::FromPayments;
use crate::store::{discounts, orders, replicas};

const PAYMENTS_CONSUMER: &str = "orders-payments";

/// Catalog reserved every line: the order awaits payment, and payments is asked for one.
pub(crate) async fn stock_reserved(
    ctx: &ServiceContext,
    changes: &Changes,
    e: StockReserved,
) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let work = ctx.begin().await?;
    // What the reservation left of each product's stock comes with it.
    for level in &e.levels {
        replicas::record_stock(&work, level).await?;
    }
    let Some(order) = orders::get(&work, e.order_id).await? else {
        work.commit().await?;
        return Ok(());
    };
    if orders::advance(&work, e.order_id, PENDING, AWAITING_PAYMENT, None, now).await? {
        let event = OrderAwaitingPayment {
            order_id: order.id,
            customer_id: order.customer_id,
            amount: order.total,
            currency: order.currency.clone(),
        };
        work.emit(&event, order.version + 1).await?;
    }
    work.commit().await?;
    changes.committed(e.order_id).await;
    Ok(())
}

/// Catalog could not reserve every line: the order is rejected.
pub(crate) async fn stock_rejected(
    ctx: &ServiceContext,
    changes: &Changes,
    e: StockRejected,
) -> anyhow::Result<()> {
    let work = ctx.begin().await?;
    let note = "not enough stock for every line";
    let now = ctx.clock.now();
    if orders::advance(&work, e.order_id, PENDING, REJECTED, Some(note), now).await? {
        discounts::give_back(&work, e.order_id).await?;
    }
    work.commit().await?;
    changes.committed(e.order_id).await;
    Ok(())
}

pub(crate) struct FollowPayments {
    pub ctx: ServiceContext,
    pub changes: Changes,
}

#[async_trait]
impl Handler for FollowPayments {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let Some(event) = FromPayments::decode(envelope)? else {
            return Ok(());
        };
        let work = self.ctx.begin().await?;
        if !work.claim(PAYMENTS_CONSUMER, envelope.id).await? {
            return Ok(());
        }
        let order_id = event.order_id();
        match event {
            FromPayments::Requested(e) => {
                let url = Some(e.checkout_url.as_str());
                orders::record_payment(&work, e.order_id, e.payment_id, &e.status, url, e.version)
                    .await?;
            }
            FromPayments::Succeeded(e) => self.paid(&work, e).await?,
            FromPayments::Failed(e) => self.failed(&work, e).await?,
            FromPayments::Refunded(e) => self.refunded(&work, e).await?,
        }
        work.commit().await?;
        self.changes.committed(order_id).await;
        Ok(())
    }
}

impl FollowPayments {
    async fn paid(&self, work: &UnitOfWork, e: PaymentSucceeded) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        orders::record_payment(work, e.order_id, e.payment_id, "succeeded", None, e.version)
            .await?;
        let Some(order) = orders::get(work, e.order_id).await? else {
            return Ok(());
        };
        // An order that ended before the money arrived stays ended; payments refunds it.
        if !orders::advance(work, order.id, AWAITING_PAYMENT, PAID, None, now).await? {
            return Ok(());
        }
        let lines = orders::lines(work, order.id)
            .await?
            .into_iter()
            .map(|l| PlacedLine {
                product_id: l.product_id,
                name: l.name,
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect();
        let event = OrderPaid {
            order_id: order.id,
            customer_id: order.customer_id,
            lines,
            total: order.total,
            currency: order.currency.clone(),
            recipient: replicas::recipient(work, order.customer_id).await?,
        };
        work.emit(&event, order.version + 1).await?;
        Ok(())
    }

    async fn failed(&self, work: &UnitOfWork, e: PaymentFailed) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        orders::record_payment(work, e.order_id, e.payment_id, "failed", None, e.version).await?;
        let Some(order) = orders::get(work, e.order_id).await? else {
            return Ok(());
        };
        let note = format!("payment failed: {}", e.reason.replace('_', " "));
        if !orders::advance(
            work,
            order.id,
            AWAITING_PAYMENT,
            PAYMENT_FAILED,
            Some(&note),
            now,
        )
        .await?
        {
            return Ok(());
        }
        discounts::give_back(work, order.id).await?;
        let event = OrderPaymentFailed {
            order_id: order.id,
            customer_id: order.customer_id,
            reason: e.reason,
        };
        work.emit(&event, order.version + 1).await?;
        Ok(())
    }

    async fn refunded(&self, work: &UnitOfWork, e: PaymentRefunded) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let Some(before) = orders::get(work, e.order_id).await? else {
            return Ok(());
        };
        // Only a succeeded payment is refunded: if this order has not heard of the success
        // yet (it is being handled by another replica, or waits for a retry), the refund
        // waits too, or the success would then mark a refunded order paid.
        anyhow::ensure!(
            ![PENDING, AWAITING_PAYMENT].contains(&before.status.as_str()),
            "a refund of order {} arrived before its payment's success; retrying",
            e.order_id
        );
        // A later refund's event handled first already counted this one.
        let stale = before.refunded >= e.refunded_total;
        orders::record_payment(work, e.order_id, e.payment_id, &e.status, None, e.version).await?;
        orders::record_refunded(work, e.order_id, e.refunded_total).await?;
        let Some(order) = orders::get(work, e.order_id).await? else {
            return Ok(());
        };
        let full = e.status == "refunded";
        let note = format!("{} {} refunded", e.currency, e.amount);
        if stale {
            orders::add_step(work, order.id, &order.status, Some(&note), now).await?;
            return Ok(());
        }
        let mut version = order.version;
        if full && refund_ends(&order.status) {
            if orders::advance(work, order.id, &order.status, REFUNDED, Some(&note), now).await? {
                version += 1;
            }
        } else {
            orders::add_step(work, order.id, &order.status, Some(&note), now).await?;
        }
        let event = OrderRefunded {
            order_id: order.id,
            customer_id: order.customer_id,
            amount: e.amount,
            refunded_total: e.refunded_total,
            currency: e.currency,
            full,
            recipient: replicas::recipient(work, order.customer_id).await?,
        };
        work.emit(&event, version).await?;
        Ok(())
    }
}

/// Whether a full refund ends an order in `status` as `refunded`.
fn refund_ends(status: &str) -> bool {
    [PAID, PROCESSING, SHIPPED, DELIVERED, CANCELLED].contains(&status)
}

#[cfg(test)]
mod tests {
    //! A payment's events in the orders two replicas sharing the consumer can produce.

    use chrono::Utc;
    use contracts::Event as _;
    use testkit::Backend;
    use testkit::service::ServiceDb;
    use uuid::Uuid;

    use super::*;

    const TOTAL: i64 = 2_500;

    /// An order awaiting its payment.
    async fn awaiting_payment(shop: &ServiceDb) -> (Uuid, Uuid) {
        let now = Utc::now();
        let order = orders::Order {
            id: Uuid::now_v7(),
            customer_id: Uuid::now_v7(),
            status: AWAITING_PAYMENT.into(),
            currency: "USD".into(),
            subtotal: TOTAL,
            discount: 0,
            discount_code: None,
            shipping: 0,
            total: TOTAL,
            shipping_service: "standard".into(),
            shipping_carrier: "Post".into(),
            shipping_address: serde_json::json!({}),
            tracking_number: None,
            placed_at: now,
            updated_at: now,
            version: 2,
            payment_id: None,
            payment_status: None,
            payment_checkout_url: None,
            refunded: 0,
        };
        let line = orders::Line {
            product_id: Uuid::now_v7(),
            name: "Mug".into(),
            unit_price: TOTAL,
            quantity: 1,
            weight_grams: 300,
            discount: 0,
        };
        orders::insert(&shop.ctx.db, &order, &[line]).await.unwrap();
        (order.id, Uuid::now_v7())
    }

    fn succeeded(order_id: Uuid, payment_id: Uuid) -> Envelope {
        let event = PaymentSucceeded {
            payment_id,
            order_id,
            amount: TOTAL,
            currency: "USD".into(),
            version: 2,
        };
        Envelope::wrap(&event, 2, Utc::now(), None).unwrap()
    }

    fn refunded(order_id: Uuid, payment_id: Uuid, amount: i64, total: i64) -> Envelope {
        let event = PaymentRefunded {
            payment_id,
            order_id,
            refund_id: Uuid::now_v7(),
            amount,
            refunded_total: total,
            currency: "USD".into(),
            status: if total == TOTAL {
                "refunded"
            } else {
                "partially_refunded"
            }
            .into(),
            version: 3 + total / 1_000,
        };
        Envelope::wrap(&event, 3 + total / 1_000, Utc::now(), None).unwrap()
    }

    #[tokio::test]
    async fn a_refund_heard_before_the_payment_waits_for_it() {
        let shop = ServiceDb::new::<crate::Migrator>("orders", Backend::Embedded).await;
        let handler = FollowPayments {
            changes: Changes::new(&shop.ctx.db, "order", &shop.ctx.tasks),
            ctx: shop.ctx.clone(),
        };
        let (order, payment) = awaiting_payment(&shop).await;
        let refund = refunded(order, payment, TOTAL, TOTAL);

        // Too early: refused, so the bus brings it again later.
        assert!(handler.handle(&refund).await.is_err());
        handler.handle(&succeeded(order, payment)).await.unwrap();
        handler.handle(&refund).await.unwrap();

        let after = orders::get(&shop.ctx.db, order).await.unwrap().unwrap();
        assert_eq!(after.status, REFUNDED, "{after:?}");
        assert_eq!(after.refunded, TOTAL);
    }

    #[tokio::test]
    async fn a_partial_refund_heard_after_a_later_one_announces_nothing() {
        let shop = ServiceDb::new::<crate::Migrator>("orders", Backend::Embedded).await;
        let handler = FollowPayments {
            changes: Changes::new(&shop.ctx.db, "order", &shop.ctx.tasks),
            ctx: shop.ctx.clone(),
        };
        let (order, payment) = awaiting_payment(&shop).await;
        handler.handle(&succeeded(order, payment)).await.unwrap();
        // 1,000 then 500 more were refunded; their events arrive the other way round.
        handler
            .handle(&refunded(order, payment, 500, 1_500))
            .await
            .unwrap();
        handler
            .handle(&refunded(order, payment, 1_000, 1_000))
            .await
            .unwrap();

        let after = orders::get(&shop.ctx.db, order).await.unwrap().unwrap();
        assert_eq!(after.refunded, 1_500);
        let refunds = shop
            .published()
            .await
            .into_iter()
            .filter(|t| t == OrderRefunded::TYPE)
            .count();
        assert_eq!(refunds, 1, "the stale refund was announced again");
    }
}
