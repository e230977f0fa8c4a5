//! What catalog keeps of media: each product's processed images and the home banners,
//! as the latest versions media published.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_media_projection"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("product_images")
                .col(uuid("product_id").primary_key())
                .col(big_integer("version"))
                .col(json("images"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("home_banners")
                .col(integer("id").primary_key())
                .col(big_integer("version"))
                .col(json("banners"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO home_banners (id, version, banners) VALUES (1, 0, '[]')",
            )
            .await?;
        Ok(())
    }
}
