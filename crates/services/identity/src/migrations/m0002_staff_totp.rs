//! Staff second factors: a TOTP secret per member (pending until its first code is
//! typed) and their single-use recovery codes, stored as hashes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_staff_totp"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staff_totp")
                .col(uuid("staff_id").primary_key())
                .col(string("secret"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                // The last time step a code was taken for: no code of it or before it
                // is taken again, so a code seen over a shoulder is spent.
                .col(big_integer("last_step"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("staff_recovery_codes")
                .col(string("code_hash").primary_key())
                .col(uuid("staff_id"))
                .col(timestamp_with_time_zone_null("used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("staff_recovery_codes_staff")
                .table("staff_recovery_codes")
                .col("staff_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("staff_recovery_codes").to_owned())
            .await?;
        m.drop_table(Table::drop().table("staff_totp").to_owned())
            .await
    }
}
