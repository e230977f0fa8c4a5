//! Orders with their lines and status history, and the idempotency keys of checkouts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_orders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("orders")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(string("status"))
                .col(string("currency"))
                .col(big_integer("subtotal"))
                .col(big_integer("shipping"))
                .col(big_integer("total"))
                .col(string("shipping_service"))
                .col(string("shipping_carrier"))
                .col(json("shipping_address"))
                .col(string_null("tracking_number"))
                .col(timestamp_with_time_zone("placed_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("orders_customer_placed")
                .table("orders")
                .col("customer_id")
                .col("placed_at")
                .to_owned(),
        )
        .await?;
        // What was bought, as it was then: later catalog changes do not rewrite history.
        m.create_table(
            Table::create()
                .table("order_lines")
                .col(uuid("order_id"))
                .col(uuid("product_id"))
                .col(string("name"))
                .col(big_integer("unit_price"))
                .col(big_integer("quantity"))
                .col(big_integer("weight_grams"))
                .primary_key(Index::create().col("order_id").col("product_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("order_timeline")
                .col(uuid("order_id"))
                .col(integer("seq"))
                .col(string("status"))
                .col(string_null("note"))
                .col(timestamp_with_time_zone("at"))
                .primary_key(Index::create().col("order_id").col("seq"))
                .to_owned(),
        )
        .await?;
        // A checkout's key, the hash of its body and its answer: the same key with the
        // same body gets the same answer again; with another body, a refusal.
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(uuid("customer_id"))
                .col(string("key"))
                .col(string("request_hash"))
                .col(integer("status"))
                .col(text("response"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("customer_id").col("key"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
