//! What orders knows of an order's payment (from payments' events) and money refunded;
//! and the audit trail of staff actions on orders.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_payments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        let columns = [
            uuid_null("payment_id"),
            string_null("payment_status"),
            string_null("payment_checkout_url"),
            big_integer("payment_version").default(0).to_owned(),
            big_integer("refunded").default(0).to_owned(),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
