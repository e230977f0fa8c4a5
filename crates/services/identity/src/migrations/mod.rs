//! The identity database, one migration per change.

use sea_orm_migration::prelude::*;

mod m0001_accounts;
mod m0002_staff_totp;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(platform::events::migration::CreateOutboxAndInbox),
            Box::new(platform::audit::CreateAuditLog),
            Box::new(m0001_accounts::Migration),
            Box::new(m0002_staff_totp::Migration),
        ]
    }
}
