//! The catalog database.

use sea_orm_migration::prelude::*;

mod m0001_catalog;
mod m0002_media_projection;
mod m0003_reservations;
mod m0004_reviews;
mod m0005_search_markup;
mod m0006_reviews_by_customer;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(platform::events::migration::CreateOutboxAndInbox),
            Box::new(platform::audit::CreateAuditLog),
            Box::new(m0001_catalog::Migration),
            Box::new(m0002_media_projection::Migration),
            Box::new(m0003_reservations::Migration),
            Box::new(m0004_reviews::Migration),
            Box::new(m0005_search_markup::Migration),
            Box::new(m0006_reviews_by_customer::Migration),
            Box::new(platform::turn::CreateAggregateTurns),
        ]
    }
}
