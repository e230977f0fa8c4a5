//! Refund requests by `Idempotency-Key`: a finance user's double click or a retried
//! request refunds once and gets the first answer again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_refund_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Keys are scoped to their payment: the same key on another payment is another
        // request.
        m.create_table(
            Table::create()
                .table("refund_requests")
                .col(uuid("payment_id"))
                .col(string("idempotency_key"))
                .col(string("request_hash"))
                .col(uuid("refund_id"))
                .col(text("response"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("payment_id").col("idempotency_key"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("refund_requests").to_owned())
            .await
    }
}
