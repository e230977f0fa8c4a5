//! Payments' steps of the checkout saga: an order awaiting payment gets a payment,
//! recorded here and opened at the configured provider by [`crate::opening`]; a
//! cancelled order's unpaid payment is canceled and a paid one refunded in full.

use async_trait::async_trait;
use contracts::orders::{OrderAwaitingPayment, OrderCancelled};
use contracts::{Envelope, Event};
use platform::events::Handler;
use uuid::Uuid;

use crate::AppState;
use crate::domain::{REQUIRES_PAYMENT, refundable};
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
    /// Records the order's payment, to be opened at the provider. The provider is not
    /// called here: a provider that is down would hold up every order event behind this
    /// one, and would be given up after the bus's last redelivery.
    async fn open(&self, order: OrderAwaitingPayment) -> anyhow::Result<()> {
        let s = &self.state;
        let now = s.ctx.clock.now();
        let payment = Payment {
            id: Uuid::now_v7(),
            order_id: order.order_id,
            customer_id: order.customer_id,
            provider: s.providers.default_provider().name().to_owned(),
            provider_ref: None,
            status: REQUIRES_PAYMENT.into(),
            amount: order.amount,
            currency: order.currency,
            captured: 0,
            refunded: 0,
            refund_pending: 0,
            checkout_url: None,
            failure_reason: None,
            order_cancelled: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        // One payment per order: a redelivered event finds the first one and stops.
        if store::insert(&s.ctx.db, &payment).await? {
            s.opening_due.notify_one();
        }
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
