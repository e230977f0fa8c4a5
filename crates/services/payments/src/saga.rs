//! Payments' steps of the checkout saga: an order awaiting payment gets a payment,
//! recorded here and opened at the configured provider by [`crate::opening`]; a
//! cancelled order's unpaid payment is canceled and a paid one refunded in full.

use async_trait::async_trait;
use contracts::Envelope;
use contracts::orders::{OrderAwaitingPayment, OrderCancelled};
use platform::events::Handler;
use uuid::Uuid;

use crate::AppState;
use crate::domain::{REQUIRES_PAYMENT, refundable};
use crate::events::FromOrders;
use crate::store::{self, Payment};
use crate::{opening, refunds};

pub(crate) struct FollowOrders {
    pub state: AppState,
}

#[async_trait]
impl Handler for FollowOrders {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        match FromOrders::decode(envelope)? {
            Some(FromOrders::AwaitingPayment(e)) => self.open(e).await,
            Some(FromOrders::Cancelled(e)) => self.order_ended(e).await,
            None => Ok(()),
        }
    }
}

impl FollowOrders {
    /// Records the order's payment, to be opened at the provider. A provider that calls
    /// out is not called here: one that is down would hold up every order event behind
    /// this one, and would be given up after the bus's last redelivery.
    async fn open(&self, order: OrderAwaitingPayment) -> anyhow::Result<()> {
        let s = &self.state;
        let now = s.ctx.clock.now();
        let provider = s.providers.default_provider().clone();
        let payment = Payment {
            id: Uuid::now_v7(),
            order_id: order.order_id,
            customer_id: order.customer_id,
            provider: provider.name().to_owned(),
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
        // A provider that opens without calling out is asked first, so the payment is
        // recorded already open.
        let opened = if provider.opens_locally() {
            Some(provider.open(&opening::opening_of(&payment)).await?)
        } else {
            None
        };
        let work = s.ctx.begin().await?;
        // After the order's cancellation if another replica is handling it now; and no
        // payment at all if it was handled first (the events of one order can arrive in
        // either order when replicas share the consumer).
        if platform::turn::of_aggregate(&work, "order", order.order_id, false, now).await? {
            work.commit().await?;
            return Ok(());
        }
        // One payment per order: a redelivered event finds the first one and stops.
        let recorded = match opened {
            Some(opened) => opening::record_opened(&work, payment, provider.name(), opened).await?,
            None => store::insert(&work, &payment).await?,
        };
        work.commit().await?;
        if recorded {
            s.opening_due.notify_one();
        }
        Ok(())
    }

    async fn order_ended(&self, cancelled: OrderCancelled) -> anyhow::Result<()> {
        let s = &self.state;
        let now = s.ctx.clock.now();
        let txn = platform::db::begin_write(&s.ctx.db).await?;
        platform::turn::of_aggregate(&txn, "order", cancelled.order_id, true, now).await?;
        store::order_ended(&txn, cancelled.order_id, now).await?;
        let Some(payment) = store::of_order(&txn, cancelled.order_id).await? else {
            // No payment yet: the order stays closed, so none is opened for it.
            txn.commit().await?;
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

#[cfg(test)]
mod tests {
    //! An order's events in the orders two replicas sharing the consumer can produce.

    use chrono::Utc;
    use contracts::Event as _;
    use contracts::payments::PaymentRequested;
    use testkit::Backend;
    use testkit::service::ServiceDb;

    use super::*;

    fn follower(ctx: platform::service::ServiceContext) -> FollowOrders {
        let secret = "whsec-test".to_owned().into();
        FollowOrders {
            state: crate::state(ctx, secret, "http://127.0.0.1:9").expect("the state"),
        }
    }

    fn awaiting(order_id: Uuid) -> Envelope {
        let event = OrderAwaitingPayment {
            order_id,
            customer_id: Uuid::now_v7(),
            amount: 2_500,
            currency: "USD".into(),
        };
        Envelope::wrap(&event, 2, Utc::now(), None).expect("an envelope")
    }

    fn cancelled(order_id: Uuid) -> Envelope {
        let event = OrderCancelled {
            order_id,
            customer_id: Uuid::now_v7(),
            reason: "changed my mind".into(),
            was_paid: false,
            recipient: None,
        };
        Envelope::wrap(&event, 3, Utc::now(), None).expect("an envelope")
    }

    #[tokio::test]
    async fn a_cancellation_handled_first_leaves_the_order_without_a_payment() {
        let shop = ServiceDb::new::<crate::Migrator>("payments", Backend::Embedded).await;
        let handler = follower(shop.ctx.clone());
        let order = Uuid::now_v7();
        handler.handle(&cancelled(order)).await.unwrap();
        handler.handle(&awaiting(order)).await.unwrap();

        let payment = store::of_order(&shop.ctx.db, order).await.unwrap();
        assert!(
            payment.is_none(),
            "a payment for a cancelled order: {payment:?}"
        );
        let published = shop.published().await;
        assert!(
            !published.iter().any(|t| t == PaymentRequested::TYPE),
            "no payment asked for: {published:?}"
        );
    }

    /// Two replicas at once: one opens the order's payment, the other hears the order
    /// was cancelled. Either there is no payment, or the payment knows its order ended
    /// (so money that still arrives is refunded).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn opening_and_cancelling_at_once_never_leave_a_live_payment() {
        if !testkit::distributed_backends_available() {
            return;
        }
        let shop = ServiceDb::new::<crate::Migrator>("payments", Backend::Distributed).await;
        let (one, other) = (follower(shop.ctx.clone()), follower(shop.replica().await));
        for _ in 0..20 {
            let order = Uuid::now_v7();
            let (a, b) = (awaiting(order), cancelled(order));
            let (opened, ended) = tokio::join!(one.handle(&a), other.handle(&b));
            opened.unwrap();
            ended.unwrap();
            if let Some(payment) = store::of_order(&shop.ctx.db, order).await.unwrap() {
                assert!(payment.order_cancelled, "a live payment: {payment:?}");
                assert_eq!(payment.status, crate::domain::CANCELED, "{payment:?}");
            }
        }
    }
}
