//! Orders: what customers are about to buy and what they bought.
//!
//! Owns carts, wishlists and (with checkout) orders, and keeps replicas of what it
//! needs from other services: products (name, price, weight, dimensions, whether sold,
//! units available) from catalog's events, and customers (verified or not) with their
//! addresses from identity's. A replica keeps the newest version it has seen, so
//! redelivered or late events change nothing.
//!
//! Serves the cart, the wishlist, checkout (idempotent, quoting shipping through a typed
//! client), order history, cancellation and staff fulfilment. Drives the order through
//! the checkout saga: publishes placed, awaiting payment, paid, payment failed,
//! cancelled (by the customer or staff, or when unpaid past
//! `orders.payment_timeout_mins`), shipped, delivered and refunded; follows catalog's
//! reservation answers and payments' outcomes.

mod discounts;
mod domain;
mod events;
mod http;
mod lifecycle;
mod migrations;
mod replication;
mod saga;
pub mod shipping_client;
mod store;

use std::sync::Arc;

use platform::changes::Changes;
use platform::events::Consumer;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};
use tokio::sync::Notify;

use crate::shipping_client::ShippingQuotes;

pub use migrations::Migrator;

pub const NAME: &str = "orders";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
    /// Change hints for orders: what long polls and event streams wait on.
    pub changes: Changes,
    /// Woken whenever a catalog product event is recorded.
    pub products_seen: Arc<Notify>,
    /// Quotes shipping at checkout.
    pub shipping: Arc<dyn ShippingQuotes>,
}

platform::service_state!(AppState);

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    http::routes().into_openapi()
}

/// Starts orders; `shipping` quotes at checkout (in-process or over HTTP, as composed).
pub async fn start(
    ctx: ServiceContext,
    shipping: Arc<dyn ShippingQuotes>,
) -> anyhow::Result<ServiceParts> {
    ctx.start_relay();
    // Hints to the long polls and event streams of orders, from whichever replica
    // commits the change.
    let changes = Changes::new(&ctx.db, "orders", &ctx.tasks);
    ctx.tasks.spawn(
        "orders-expiry",
        lifecycle::expire_unpaid(ctx.clone(), changes.clone()),
    );
    let products_seen = Arc::new(Notify::new());
    let consumers = [
        Consumer {
            name: "orders-catalog".into(),
            filter: "catalog.>".into(),
            handler: Arc::new(replication::FollowCatalog {
                ctx: ctx.clone(),
                changes: changes.clone(),
                products_seen: products_seen.clone(),
            }),
        },
        Consumer {
            name: "orders-payments".into(),
            filter: "payments.>".into(),
            handler: Arc::new(saga::FollowPayments {
                ctx: ctx.clone(),
                changes: changes.clone(),
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
        router: http::router(AppState {
            ctx,
            changes,
            products_seen,
            shipping,
        }),
        probes: vec![Probe::new("orders.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
