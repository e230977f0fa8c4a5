//! Payments' steps of the checkout saga: an order awaiting payment gets a payment at the
//! configured provider; a cancelled order's unpaid payment is canceled and a paid one
//! refunded in full.

use async_trait::async_trait;
use contracts::orders::{OrderAwaitingPayment, OrderCancelled};
use contracts::payments::PaymentRequested;
use contracts::{Envelope, Event};
use platform::events::{Handler, outbox};
use uuid::Uuid;

use crate::AppState;
use crate::domain::{REQUIRES_PAYMENT, refundable};
use crate::provider::Opening;
use crate::refunds;
use crate::store::{self, Payment};

pub(crate) struct FollowOrders {
    pub state: AppState,
}

#[async_trait]
impl Handler for FollowOrders {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let t = envelope.event_type.as_str();
        if t == OrderAwaitingPayment::TYPE {
            self.open(envelope.decode()?).await
        } else if t == OrderCancelled::TYPE {
            self.order_ended(envelope.decode()?).await
        } else {
            Ok(())
        }
    }
}

impl FollowOrders {
    async fn open(&self, order: OrderAwaitingPayment) -> anyhow::Result<()> {
        let s = &self.state;
        if store::of_order(&s.ctx.db, order.order_id).await?.is_some() {
            return Ok(());
        }
        let provider = s.providers.default_provider();
        let id = Uuid::now_v7();
        let opened = provider
            .open(&Opening {
                payment_id: id,
                order_id: order.order_id,
                amount: order.amount,
                currency: order.currency.clone(),
            })
            .await?;
        let now = s.ctx.clock.now();
        let payment = Payment {
            id,
            order_id: order.order_id,
            customer_id: order.customer_id,
            provider: provider.name().to_owned(),
            provider_ref: opened.provider_ref,
            status: REQUIRES_PAYMENT.into(),
            amount: order.amount,
            currency: order.currency,
            captured: 0,
            refunded: 0,
            refund_pending: 0,
            checkout_url: opened.checkout_url,
            failure_reason: None,
            order_cancelled: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = platform::db::begin_write(&s.ctx.db).await?;
        // A redelivery racing this one opened it first: its payment stands.
        if !store::insert(&txn, &payment).await? {
            return Ok(());
        }
        let event = PaymentRequested {
            payment_id: payment.id,
            order_id: payment.order_id,
            provider: payment.provider.clone(),
            status: payment.status.clone(),
            checkout_url: payment.checkout_url.clone(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            version: payment.version,
        };
        outbox::enqueue(&txn, &event, payment.version, now).await?;
        txn.commit().await?;
        s.ctx.relay.wake();
        tracing::info!(payment_id = %payment.id, order_id = %payment.order_id, "payment requested");
        Ok(())
    }

    async fn order_ended(&self, cancelled: OrderCancelled) -> anyhow::Result<()> {
        let s = &self.state;
        let now = s.ctx.clock.now();
        let txn = platform::db::begin_write(&s.ctx.db).await?;
        store::order_ended(&txn, cancelled.order_id, now).await?;
        let Some(payment) = store::of_order(&txn, cancelled.order_id).await? else {
            return Ok(());
        };
        let payment = store::get_for_update(&txn, payment.id)
            .await?
            .unwrap_or(payment);
        let remaining = payment.refundable_amount();
        if refundable(&payment.status) && remaining > 0 {
            // A redelivery finds nothing left to refund: the first set it all aside.
            refunds::open(&txn, &payment, remaining, &cancelled.reason, "system", now).await?;
        }
        txn.commit().await?;
        s.refunds_due.notify_one();
        Ok(())
    }
}
