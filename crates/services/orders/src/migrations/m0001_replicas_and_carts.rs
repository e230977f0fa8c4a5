//! What orders keeps of other services (products, customers, addresses) and the carts
//! and wishlists customers fill.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_replicas_and_carts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // From catalog's product events; a late event never overwrites a newer one.
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("id").primary_key())
                .col(string("slug"))
                .col(string("name"))
                .col(big_integer("price"))
                .col(string("currency"))
                .col(big_integer("weight_grams"))
                .col(big_integer("length_mm"))
                .col(big_integer("width_mm"))
                .col(big_integer("height_mm"))
                .col(boolean("active"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // From catalog's stock events, apart from the product: the two streams of
        // versions are independent, and either may arrive first.
        m.create_table(
            Table::create()
                .table("stock")
                .col(uuid("product_id").primary_key())
                .col(big_integer("available"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // From identity's events: whether the customer may check out.
        m.create_table(
            Table::create()
                .table("customers")
                .col(uuid("id").primary_key())
                .col(string("email"))
                .col(string("name"))
                .col(boolean("verified"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // Shipping addresses; a deleted one stays as a tombstone so a late "saved"
        // event cannot bring it back.
        m.create_table(
            Table::create()
                .table("addresses")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(json("address"))
                .col(boolean("deleted"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cart_lines")
                .col(uuid("customer_id"))
                .col(uuid("product_id"))
                .col(integer("quantity"))
                .col(boolean("selected"))
                // The price the customer last saw for this line: a change since is
                // pointed out before they pay it.
                .col(big_integer("seen_price"))
                .col(string("seen_currency"))
                .col(timestamp_with_time_zone("added_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("customer_id").col("product_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("wishlist_items")
                .col(uuid("customer_id"))
                .col(uuid("product_id"))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().col("customer_id").col("product_id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
