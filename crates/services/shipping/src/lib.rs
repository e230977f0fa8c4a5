//! Shipping: where the shop ships and what it costs.
//!
//! Owns zones (a country, or the part of it whose postal codes start with given
//! prefixes), service levels with weight-bracket rate tables and free-shipping
//! thresholds, and a replica of what it needs of catalog's products (price, weight,
//! dimensions) fed by catalog's events. Quotes are priced on the chargeable weight: the
//! larger of the actual and the volumetric weight.
//!
//! Publishes nothing; quotes are asked synchronously (the public endpoint, and orders'
//! typed client at checkout).

mod domain;
mod http;
mod migrations;
pub mod quote;
pub mod seed;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use contracts::Envelope;
use platform::events::{Consumer, Handler};
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};
use sea_orm::DatabaseConnection;

pub use migrations::Migrator;

pub const NAME: &str = "shipping";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
}

platform::service_state!(AppState);

/// Keeps the product replica: the newest snapshot of each product wins.
struct FollowProducts {
    db: DatabaseConnection,
}

#[async_trait]
impl Handler for FollowProducts {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if let Some(product) = contracts::catalog::product_snapshot(envelope)? {
            store::record_product(&self.db, &product).await?;
        }
        Ok(())
    }
}

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    http::routes().into_openapi()
}

pub async fn start(ctx: ServiceContext) -> anyhow::Result<ServiceParts> {
    let replica = Consumer {
        name: "shipping-catalog".into(),
        filter: "catalog.product.>".into(),
        handler: Arc::new(FollowProducts { db: ctx.db.clone() }),
    };
    ctx.bus.subscribe(replica, &ctx.tasks).await?;
    let db = ctx.db.clone();
    Ok(ServiceParts {
        router: http::router(AppState { ctx }),
        probes: vec![Probe::new("shipping.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
