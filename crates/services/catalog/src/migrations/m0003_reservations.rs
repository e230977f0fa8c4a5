//! Stock reservations: what each order holds of each product until it is paid (the
//! units leave `on_hand`) or released.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_reservations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("reservations")
                .col(uuid("order_id"))
                .col(uuid("product_id"))
                .col(big_integer("quantity"))
                // `held`, then `committed` (paid) or `released`.
                .col(string("state"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("order_id").col("product_id"))
                .to_owned(),
        )
        .await
    }
}
