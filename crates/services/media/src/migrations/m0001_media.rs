//! Images, the products they belong to, and home-page banners.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_media"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // What media knows of catalog's products (from its events): whether images may
        // still be added, and the version of the product's gallery.
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("id").primary_key())
                .col(boolean("active"))
                .col(big_integer("catalog_version"))
                .col(big_integer("gallery_version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("images")
                .col(uuid("id").primary_key())
                // `product` or `banner`; the owner is a product id or a banner id.
                .col(string("owner_kind"))
                .col(uuid("owner_id"))
                .col(integer("position"))
                .col(string("alt"))
                // `processing` until the variants exist, then `ready` (or `failed`).
                .col(string("status"))
                .col(string("format"))
                .col(big_integer("bytes"))
                .col(integer("width"))
                .col(integer("height"))
                .col(json_null("variants"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("processed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("images_owner")
                .table("images")
                .col("owner_id")
                .col("position")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("banners")
                .col(uuid("id").primary_key())
                .col(string("title"))
                .col(string("link"))
                .col(integer("position"))
                .col(uuid("image_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // One row: the version of the banner list as a whole, bumped by every change so
        // consumers can drop an older list that arrives late.
        m.create_table(
            Table::create()
                .table("banner_list")
                .col(integer("id").primary_key())
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("INSERT INTO banner_list (id, version) VALUES (1, 0)")
            .await?;
        Ok(())
    }
}
