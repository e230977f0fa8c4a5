//! The payments database.

use sea_orm_migration::prelude::*;

mod m0001_payments;
mod m0002_refund_requests;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(platform::events::migration::CreateOutboxAndInbox),
            Box::new(platform::audit::CreateAuditLog),
            Box::new(m0001_payments::Migration),
            Box::new(m0002_refund_requests::Migration),
            Box::new(platform::turn::CreateAggregateTurns),
        ]
    }
}
