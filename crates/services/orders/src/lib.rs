//! Orders: what customers are about to buy and what they bought.
//!
//! Owns carts, wishlists and (with checkout) orders, and keeps replicas of what it
//! needs from other services: products (name, price, weight, dimensions, whether sold,
//! units available) from catalog's events, and customers (verified or not) with their
//! addresses from identity's. A replica keeps the newest version it has seen, so
//! redelivered or late events change nothing.
//!
//! This increment serves the cart and the wishlist; checkout, the order saga and order
//! history build on it.

mod domain;
mod http;
mod migrations;
mod replication;
mod store;

use std::sync::Arc;

use platform::events::Consumer;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};
use tokio::sync::Notify;

pub use migrations::Migrator;

pub const NAME: &str = "orders";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
    /// Woken whenever a catalog product event is recorded.
    pub products_seen: Arc<Notify>,
}

platform::service_state!(AppState);

pub async fn start(ctx: ServiceContext) -> anyhow::Result<ServiceParts> {
    let products_seen = Arc::new(Notify::new());
    let consumers = [
        Consumer {
            name: "orders-catalog".into(),
            filter: "catalog.>".into(),
            handler: Arc::new(replication::FollowCatalog {
                db: ctx.db.clone(),
                products_seen: products_seen.clone(),
            }),
        },
        Consumer {
            name: "orders-identity".into(),
            filter: "identity.>".into(),
            handler: Arc::new(replication::FollowIdentity { db: ctx.db.clone() }),
        },
    ];
    for consumer in consumers {
        ctx.bus.subscribe(consumer, &ctx.tasks).await?;
    }
    let db = ctx.db.clone();
    Ok(ServiceParts {
        router: http::router(AppState { ctx, products_seen }),
        probes: vec![Probe::new("orders.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
