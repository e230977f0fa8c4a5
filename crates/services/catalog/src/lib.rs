//! Catalog: what the shop sells.
//!
//! Owns categories (a tree), products with their prices, dimensions and stock, the
//! full-text index, and product reviews with each product's rating. Every write is
//! checked against the version the writer read, so no edit is ever lost silently.
//!
//! Publishes `catalog.product.created/updated/archived.v1` (with everything other
//! services keep of a product) and `catalog.stock.changed.v1`. Consumes media's events
//! to show each product's processed images and the home banners (`/storefront/home`),
//! and orders' `orders.order.placed.v1` to reserve stock for every line or none
//! (`catalog.stock.reserved/rejected.v1`; a reservation carries the stock levels it
//! left, in place of a `catalog.stock.changed.v1` per line); payment events join with
//! the payments service.
//! Orders' `orders.order.paid.v1` and `orders.order.cancelled.v1` also feed the
//! purchase projection: only a customer who bought a product, in an order not cancelled
//! before shipping, may review it, once, and every review change keeps the product's
//! rating aggregate current in the same transaction.

mod cache;
mod domain;
mod events;
mod http;
mod media_events;
mod migrations;
mod purchases;
mod reservation;
mod store;

pub mod seed;

use std::sync::Arc;

use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};

pub use migrations::Migrator;

pub const NAME: &str = "catalog";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
}

platform::service_state!(AppState);

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    http::routes().into_openapi()
}

pub async fn start(ctx: ServiceContext) -> anyhow::Result<ServiceParts> {
    ctx.start_relay();
    let invalidate = platform::events::Consumer {
        name: "catalog-cache".into(),
        filter: "catalog.>".into(),
        handler: cache::handler(ctx.cache.clone()),
    };
    ctx.bus.subscribe(invalidate, &ctx.tasks).await?;
    let follow_media = platform::events::Consumer {
        name: "catalog-media".into(),
        filter: "media.>".into(),
        handler: Arc::new(media_events::FollowMedia {
            db: ctx.db.clone(),
            cache: ctx.cache.clone(),
        }),
    };
    ctx.bus.subscribe(follow_media, &ctx.tasks).await?;
    ctx.bus
        .subscribe(reservation::consumer(ctx.clone()), &ctx.tasks)
        .await?;
    ctx.bus
        .subscribe(
            purchases::consumer(ctx.db.clone(), ctx.clock.clone()),
            &ctx.tasks,
        )
        .await?;
    let db = ctx.db.clone();
    Ok(ServiceParts {
        router: http::router(AppState { ctx }),
        probes: vec![Probe::new("catalog.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
