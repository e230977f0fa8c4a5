//! The orders database.

use sea_orm_migration::prelude::*;

mod m0001_replicas_and_carts;
mod m0002_orders;
mod m0003_payments;
mod m0004_discounts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(platform::events::migration::CreateOutboxAndInbox),
            Box::new(m0001_replicas_and_carts::Migration),
            Box::new(m0002_orders::Migration),
            Box::new(platform::audit::CreateAuditLog),
            Box::new(m0003_payments::Migration),
            Box::new(m0004_discounts::Migration),
        ]
    }
}
