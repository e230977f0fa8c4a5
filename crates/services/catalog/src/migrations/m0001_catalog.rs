//! Categories, products with their stock, and the full-text index.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_catalog"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("categories")
                .col(uuid("id").primary_key())
                .col(uuid_null("parent_id"))
                .col(string("name"))
                .col(string("slug"))
                .col(text("description"))
                .col(boolean("show_on_home"))
                .col(integer("position"))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // A deleted category keeps its row (history) but frees its slug: the slug is
        // unique among live categories only. Partial indexes read the same on both.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX categories_live_slug ON categories (slug) WHERE deleted_at IS NULL")
            .await?;
        // Stock lives on the product row so a reservation is one conditional update,
        // but has its own version: a price edit and a stock count never conflict.
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("id").primary_key())
                .col(string("slug").unique_key())
                .col(string("name"))
                .col(text("description"))
                .col(big_integer("price"))
                .col(string("currency"))
                .col(big_integer("weight_grams"))
                .col(big_integer("length_mm"))
                .col(big_integer("width_mm"))
                .col(big_integer("height_mm"))
                .col(boolean("active"))
                .col(big_integer("on_hand"))
                .col(big_integer("reserved"))
                .col(big_integer("stock_version"))
                .col(big_integer("units_sold"))
                .col(big_integer("rating_count"))
                .col(big_integer("rating_sum"))
                // Average rating × 1000, kept so listings can sort by it with an index.
                .col(big_integer("rating_avg_milli"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("products_price", "price"),
            ("products_rating", "rating_avg_milli"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("products")
                    .col(col)
                    .col("id")
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("product_categories")
                .col(uuid("product_id"))
                .col(uuid("category_id"))
                .primary_key(Index::create().col("product_id").col("category_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("product_categories_category")
                .table("product_categories")
                .col("category_id")
                .to_owned(),
        )
        .await?;

        // Full-text search is the one sanctioned per-backend branch: PostgreSQL keeps a
        // generated tsvector with a GIN index; SQLite an FTS5 table the store maintains.
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
                        setweight(to_tsvector('english', coalesce(description, '')), 'B')) STORED",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX products_search ON products USING GIN (search)",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE product_search USING fts5(
                        product_id UNINDEXED, name, description, tokenize = 'porter unicode61 remove_diacritics 2')",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Sqlite {
            m.get_connection()
                .execute_unprepared("DROP TABLE product_search")
                .await?;
        }
        for t in ["product_categories", "products", "categories"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
