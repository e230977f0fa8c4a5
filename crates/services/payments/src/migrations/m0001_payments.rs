//! Payments, their refunds, the webhooks received, and the sandbox provider's own books.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_payments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One payment per order: the unique order id makes a redelivered "awaiting
        // payment" event find the payment it already opened.
        m.create_table(
            Table::create()
                .table("payments")
                .col(uuid("id").primary_key())
                .col(uuid("order_id").unique_key())
                .col(uuid("customer_id"))
                .col(string("provider"))
                .col(string_null("provider_ref"))
                .col(string("status"))
                .col(big_integer("amount"))
                .col(string("currency"))
                // What the provider confirmed taking, what went back, and what is on its
                // way back: a refund may never exceed captured - refunded - refund_pending.
                .col(big_integer("captured"))
                .col(big_integer("refunded"))
                .col(big_integer("refund_pending"))
                // Where the customer pays: NULL until the provider has opened the
                // payment, which is asked again until it has.
                .col(string_null("checkout_url"))
                .col(string_null("failure_reason"))
                .col(boolean("order_cancelled"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("refunds")
                .col(uuid("id").primary_key())
                .col(uuid("payment_id"))
                .col(big_integer("amount"))
                .col(string("status"))
                .col(string("reason"))
                .col(string("requested_by"))
                // Whether the provider has been asked; a sweep asks again until it has.
                .col(boolean("sent"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // The sweeps' questions: payments the provider has not opened yet, and refunds
        // it has not been asked for. Both sets stay small however large the tables grow.
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX payments_unopened ON payments (created_at) WHERE checkout_url IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX refunds_unsent ON refunds (created_at) WHERE NOT sent")
            .await?;
        m.create_index(
            Index::create()
                .name("refunds_payment")
                .table("refunds")
                .col("payment_id")
                .to_owned(),
        )
        .await?;
        // Each provider event is applied once: a duplicate or replay finds its id here.
        m.create_table(
            Table::create()
                .table("webhook_events")
                .col(string("provider"))
                .col(string("event_id"))
                .col(uuid_null("payment_id"))
                .col(string("kind"))
                .col(string("outcome"))
                .col(timestamp_with_time_zone("received_at"))
                .primary_key(Index::create().col("provider").col("event_id"))
                .to_owned(),
        )
        .await?;
        // The sandbox provider's side: one charge per payment, and the webhooks it owes us.
        m.create_table(
            Table::create()
                .table("sandbox_charges")
                .col(uuid("payment_id").primary_key())
                .col(string("idempotency_key"))
                .col(string("request_hash"))
                .col(string("card_last4"))
                .col(string("outcome"))
                .col(text("response"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sandbox_deliveries")
                .col(string("event_id").primary_key())
                .col(text("body"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sandbox_deliveries_due")
                .table("sandbox_deliveries")
                .col("delivered_at")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
