//! Discount codes: the codes staff set up, the code a cart holds, each order's use of a
//! code (so a cancelled order gives it back), what an order and each of its lines were
//! discounted, and the categories of replicated products (codes may be limited to them).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_discounts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("discounts")
                .col(uuid("id").primary_key())
                // As staff typed it, and folded to lower case for finding and
                // uniqueness; the folded key is cleared when the code is deleted, so the
                // code can be set up again.
                .col(string("code"))
                .col(string_null("code_key").unique_key())
                .col(string("kind"))
                .col(integer_null("percent"))
                .col(big_integer_null("amount"))
                .col(string_null("currency"))
                .col(big_integer_null("min_subtotal"))
                .col(timestamp_with_time_zone_null("starts_at"))
                .col(timestamp_with_time_zone_null("ends_at"))
                .col(big_integer_null("usage_limit"))
                .col(big_integer_null("per_customer_limit"))
                .col(json("product_ids"))
                .col(json("category_ids"))
                .col(boolean("active"))
                .col(big_integer("times_used").default(0))
                .col(big_integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("discount_uses")
                .col(uuid("order_id").primary_key())
                .col(uuid("discount_id"))
                .col(uuid("customer_id"))
                .col(timestamp_with_time_zone("used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("discount_uses_by_customer")
                .table("discount_uses")
                .col("discount_id")
                .col("customer_id")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cart_discounts")
                .col(uuid("customer_id").primary_key())
                .col(uuid("discount_id"))
                .col(timestamp_with_time_zone("applied_at"))
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite alters a table one change at a time.
        let changes = [
            ("orders", big_integer("discount").default(0).to_owned()),
            ("orders", string_null("discount_code")),
            ("order_lines", big_integer("discount").default(0).to_owned()),
            ("products", json("category_ids").default("[]").to_owned()),
        ];
        for (table, mut column) in changes {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
