//! Reviews, and the purchases that entitle a customer to write one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_reviews"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Catalog's projection of orders' `paid` events: one row per product of a paid
        // order. The key makes recording the same order twice a no-op; it leads with
        // the customer and product because that is the question asked ("did they buy it?").
        m.create_table(
            Table::create()
                .table("purchases")
                .col(uuid("customer_id"))
                .col(uuid("product_id"))
                .col(uuid("order_id"))
                .col(timestamp_with_time_zone("paid_at"))
                .primary_key(
                    Index::create()
                        .col("customer_id")
                        .col("product_id")
                        .col("order_id"),
                )
                .to_owned(),
        )
        .await?;
        // Paid orders cancelled before shipping: the customer never received their
        // products, so those purchases no longer entitle a review. A separate record
        // rather than a deletion, so it holds whichever of the two events comes first.
        m.create_table(
            Table::create()
                .table("withdrawn_orders")
                .col(uuid("order_id").primary_key())
                .col(timestamp_with_time_zone("withdrawn_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reviews")
                .col(uuid("id").primary_key())
                .col(uuid("product_id"))
                .col(uuid("customer_id"))
                .col(integer("rating"))
                .col(string_null("title"))
                .col(text("body"))
                // The name shown with the review, as known when it was written.
                .col(string("author_name"))
                // Hidden by staff: kept for the author and staff, out of the aggregate.
                .col(boolean("hidden"))
                // A hidden review its author deleted: the text is erased, the row stays
                // so that the one-per-customer index keeps the author from posting a
                // fresh, visible review in its place. Invisible to every read.
                .col(boolean("withdrawn").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // One review per customer per product, even when two requests race.
        m.create_index(
            Index::create()
                .name("reviews_one_per_customer")
                .table("reviews")
                .col("product_id")
                .col("customer_id")
                .unique()
                .to_owned(),
        )
        .await?;
        // A product's reviews, newest (highest UUIDv7) first, page by page.
        m.create_index(
            Index::create()
                .name("reviews_product")
                .table("reviews")
                .col("product_id")
                .col("id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["reviews", "withdrawn_orders", "purchases"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
