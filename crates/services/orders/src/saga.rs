//! Orders' steps of the checkout saga. Catalog answers a placed order with reserved or
//! rejected; payments answers an order awaiting payment with a payment and, later, its
//! outcome and refunds. Each answer moves the order only from the status it expects and
//! publishes the next step in the same transaction, so redelivered or late events change
//! nothing.

use async_trait::async_trait;
use contracts::catalog::{StockRejected, StockReserved};
use contracts::orders::{
    OrderAwaitingPayment, OrderPaid, OrderPaymentFailed, OrderRefunded, PlacedLine,
};
use contracts::payments::{PaymentFailed, PaymentRefunded, PaymentRequested, PaymentSucceeded};
use contracts::{Envelope, Event};
use platform::events::{Handler, inbox, outbox};
use platform::service::ServiceContext;
use sea_orm::DatabaseTransaction;

use crate::domain::order::{
    AWAITING_PAYMENT, CANCELLED, DELIVERED, PAID, PAYMENT_FAILED, PENDING, PROCESSING, REFUNDED,
    REJECTED, SHIPPED,
};
use crate::store::{orders, replicas};

const PAYMENTS_CONSUMER: &str = "orders-payments";

/// Catalog reserved every line: the order awaits payment, and payments is asked for one.
pub(crate) async fn stock_reserved(ctx: &ServiceContext, e: StockReserved) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let txn = platform::db::begin_write(&ctx.db).await?;
    let Some(order) = orders::get(&txn, e.order_id).await? else {
        return Ok(());
    };
    if orders::advance(&txn, e.order_id, PENDING, AWAITING_PAYMENT, None, now).await? {
        let event = OrderAwaitingPayment {
            order_id: order.id,
            customer_id: order.customer_id,
            amount: order.total,
            currency: order.currency.clone(),
        };
        outbox::enqueue(&txn, &event, order.version + 1, now).await?;
    }
    txn.commit().await?;
    ctx.relay.wake();
    Ok(())
}

/// Catalog could not reserve every line: the order is rejected.
pub(crate) async fn stock_rejected(ctx: &ServiceContext, e: StockRejected) -> anyhow::Result<()> {
    let txn = platform::db::begin_write(&ctx.db).await?;
    let note = "not enough stock for every line";
    orders::advance(
        &txn,
        e.order_id,
        PENDING,
        REJECTED,
        Some(note),
        ctx.clock.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub(crate) struct FollowPayments {
    pub ctx: ServiceContext,
}

#[async_trait]
impl Handler for FollowPayments {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let t = envelope.event_type.as_str();
        let known = [
            PaymentRequested::TYPE,
            PaymentSucceeded::TYPE,
            PaymentFailed::TYPE,
            PaymentRefunded::TYPE,
        ];
        if !known.contains(&t) {
            return Ok(());
        }
        let txn = platform::db::begin_write(&self.ctx.db).await?;
        if !inbox::claim(&txn, PAYMENTS_CONSUMER, envelope.id, self.ctx.clock.now()).await? {
            return Ok(());
        }
        if t == PaymentRequested::TYPE {
            let e: PaymentRequested = envelope.decode()?;
            orders::record_payment(
                &txn,
                e.order_id,
                e.payment_id,
                &e.status,
                Some(&e.checkout_url),
                e.version,
            )
            .await?;
        } else if t == PaymentSucceeded::TYPE {
            self.paid(&txn, envelope.decode()?).await?;
        } else if t == PaymentFailed::TYPE {
            self.failed(&txn, envelope.decode()?).await?;
        } else {
            self.refunded(&txn, envelope.decode()?).await?;
        }
        txn.commit().await?;
        self.ctx.relay.wake();
        Ok(())
    }
}

impl FollowPayments {
    async fn paid(&self, txn: &DatabaseTransaction, e: PaymentSucceeded) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        orders::record_payment(txn, e.order_id, e.payment_id, "succeeded", None, e.version).await?;
        let Some(order) = orders::get(txn, e.order_id).await? else {
            return Ok(());
        };
        // An order that ended before the money arrived stays ended; payments refunds it.
        if !orders::advance(txn, order.id, AWAITING_PAYMENT, PAID, None, now).await? {
            return Ok(());
        }
        let lines = orders::lines(txn, order.id)
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
            recipient: replicas::recipient(txn, order.customer_id).await?,
        };
        outbox::enqueue(txn, &event, order.version + 1, now).await?;
        Ok(())
    }

    async fn failed(&self, txn: &DatabaseTransaction, e: PaymentFailed) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        orders::record_payment(txn, e.order_id, e.payment_id, "failed", None, e.version).await?;
        let Some(order) = orders::get(txn, e.order_id).await? else {
            return Ok(());
        };
        let note = format!("payment failed: {}", e.reason.replace('_', " "));
        if !orders::advance(
            txn,
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
        let event = OrderPaymentFailed {
            order_id: order.id,
            customer_id: order.customer_id,
            reason: e.reason,
        };
        outbox::enqueue(txn, &event, order.version + 1, now).await?;
        Ok(())
    }

    async fn refunded(&self, txn: &DatabaseTransaction, e: PaymentRefunded) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        orders::record_payment(txn, e.order_id, e.payment_id, &e.status, None, e.version).await?;
        orders::record_refunded(txn, e.order_id, e.refunded_total).await?;
        let Some(order) = orders::get(txn, e.order_id).await? else {
            return Ok(());
        };
        let full = e.status == "refunded";
        let note = format!("{} {} refunded", e.currency, e.amount);
        let mut version = order.version;
        if full && refund_ends(&order.status) {
            if orders::advance(txn, order.id, &order.status, REFUNDED, Some(&note), now).await? {
                version += 1;
            }
        } else {
            orders::add_step(txn, order.id, &order.status, Some(&note), now).await?;
        }
        let event = OrderRefunded {
            order_id: order.id,
            customer_id: order.customer_id,
            amount: e.amount,
            refunded_total: e.refunded_total,
            currency: e.currency,
            full,
            recipient: replicas::recipient(txn, order.customer_id).await?,
        };
        outbox::enqueue(txn, &event, version, now).await?;
        Ok(())
    }
}

/// Whether a full refund ends an order in `status` as `refunded`.
fn refund_ends(status: &str) -> bool {
    [PAID, PROCESSING, SHIPPED, DELIVERED, CANCELLED].contains(&status)
}
