//! Zones, their rate tables, and what shipping knows of catalog's products.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_shipping"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("zones")
                .col(uuid("id").primary_key())
                .col(string("name"))
                .col(string("country"))
                // Upper-case postal-code prefixes; empty covers the whole country.
                .col(json("postal_prefixes"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("rates")
                .col(uuid("id").primary_key())
                .col(uuid("zone_id"))
                .col(string("carrier"))
                .col(string("service_code"))
                .col(string("name"))
                .col(string("currency"))
                .col(json("brackets"))
                .col(big_integer_null("free_over"))
                .col(integer("min_days"))
                .col(integer("max_days"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rates_zone_service")
                .table("rates")
                .col("zone_id")
                .col("service_code")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("id").primary_key())
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
        Ok(())
    }
}
