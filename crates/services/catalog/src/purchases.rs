//! Following orders' payments: every product of a paid order is recorded as bought by
//! its customer, so catalog can tell on its own who may review what. A paid order
//! cancelled before shipping is recorded as withdrawn: its customer never received the
//! products.
//!
//! The records and the inbox claim commit together, and a record that already exists is
//! left alone, so neither a redelivered event nor the same order announced twice changes
//! anything; a withdrawal counts whether it arrives before or after the payment.

use std::sync::Arc;

use async_trait::async_trait;
use contracts::Envelope;
use contracts::orders::{OrderCancelled, OrderPaid};
use platform::clock::Clock;
use platform::events::Handler;
use platform::unit::UnitOfWork;
use sea_orm::DatabaseConnection;

use crate::store::purchases;

const CONSUMER: &str = "catalog-purchases";

pub(crate) struct RecordPurchases {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
}

pub(crate) fn consumer(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
) -> platform::events::Consumer {
    platform::events::Consumer {
        name: CONSUMER.into(),
        filter: "orders.>".into(),
        handler: Arc::new(RecordPurchases { db, clock }),
    }
}

#[async_trait]
impl Handler for RecordPurchases {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let paid = envelope.is::<OrderPaid>();
        if !paid && !envelope.is::<OrderCancelled>() {
            return Ok(());
        }
        let work = UnitOfWork::begin(&self.db, self.clock.now(), None).await?;
        if !work.claim(CONSUMER, envelope.id).await? {
            return Ok(());
        }
        if paid {
            let paid: OrderPaid = envelope.decode()?;
            for line in &paid.lines {
                purchases::record(
                    &work,
                    paid.customer_id,
                    line.product_id,
                    paid.order_id,
                    envelope.occurred_at,
                )
                .await?;
            }
        } else {
            let cancelled: OrderCancelled = envelope.decode()?;
            // An unpaid order never recorded a purchase; nothing to withdraw.
            if cancelled.was_paid {
                purchases::withdraw(&work, cancelled.order_id, envelope.occurred_at).await?;
            }
        }
        work.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use contracts::orders::{PlacedLine, Recipient};
    use platform::clock::SystemClock;
    use sea_orm::{ConnectionTrait, Statement};
    use uuid::Uuid;

    fn line(product_id: Uuid) -> PlacedLine {
        PlacedLine {
            product_id,
            name: "Mug".into(),
            quantity: 1,
            unit_price: 1000,
        }
    }

    async fn purchase_count(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM purchases",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    /// The handler over a fresh in-memory catalog database.
    async fn recorder() -> (DatabaseConnection, RecordPurchases) {
        let db = platform::db::connect::<crate::Migrator>("sqlite::memory:", 1)
            .await
            .unwrap();
        let handler = RecordPurchases {
            db: db.clone(),
            clock: Arc::new(SystemClock),
        };
        (db, handler)
    }

    /// `orders.order.paid.v1` for one of each product, under a new event id.
    fn paid(customer_id: Uuid, order_id: Uuid, products: &[Uuid]) -> Envelope {
        let paid = OrderPaid {
            order_id,
            customer_id,
            lines: products.iter().map(|p| line(*p)).collect(),
            total: 1000 * products.len() as i64,
            currency: "USD".into(),
            recipient: Recipient::default(),
        };
        Envelope::wrap(&paid, 1, Utc::now(), None).unwrap()
    }

    #[tokio::test]
    async fn a_paid_order_is_recorded_once_however_often_it_arrives() {
        let (db, handler) = recorder().await;
        let (customer, mug, cup) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let order = Uuid::now_v7();
        let envelope = paid(customer, order, &[mug, cup]);
        handler.handle(&envelope).await.unwrap();
        handler.handle(&envelope).await.unwrap();
        // The same order announced again under a new event id.
        handler
            .handle(&paid(customer, order, &[mug, cup]))
            .await
            .unwrap();

        assert_eq!(purchase_count(&db).await, 2);
        assert!(purchases::bought(&db, customer, mug).await.unwrap());
        assert!(purchases::bought(&db, customer, cup).await.unwrap());
        assert!(!purchases::bought(&db, Uuid::now_v7(), mug).await.unwrap());
    }

    fn cancelled(customer_id: Uuid, order_id: Uuid, was_paid: bool) -> Envelope {
        let cancelled = OrderCancelled {
            order_id,
            customer_id,
            reason: "customer".into(),
            was_paid,
            recipient: None,
        };
        Envelope::wrap(&cancelled, 2, Utc::now(), None).unwrap()
    }

    #[tokio::test]
    async fn a_cancelled_paid_order_no_longer_entitles_a_review_in_either_order() {
        let (db, handler) = recorder().await;
        let (customer, mug, cup) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

        // Paid, then cancelled.
        let first = Uuid::now_v7();
        handler
            .handle(&paid(customer, first, &[mug]))
            .await
            .unwrap();
        assert!(purchases::bought(&db, customer, mug).await.unwrap());
        handler
            .handle(&cancelled(customer, first, true))
            .await
            .unwrap();
        assert!(!purchases::bought(&db, customer, mug).await.unwrap());

        // The cancellation arrives first (a redelivery overtook the payment).
        let second = Uuid::now_v7();
        handler
            .handle(&cancelled(customer, second, true))
            .await
            .unwrap();
        handler
            .handle(&paid(customer, second, &[cup]))
            .await
            .unwrap();
        assert!(!purchases::bought(&db, customer, cup).await.unwrap());

        // Another order that was kept still counts; an unpaid cancellation withdraws
        // nothing.
        let kept = Uuid::now_v7();
        handler.handle(&paid(customer, kept, &[mug])).await.unwrap();
        handler
            .handle(&cancelled(customer, kept, false))
            .await
            .unwrap();
        assert!(purchases::bought(&db, customer, mug).await.unwrap());
    }
}
