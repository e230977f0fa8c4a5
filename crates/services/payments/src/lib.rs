//! Payments: taking the money for orders and giving it back.
//!
//! Owns payments (one per order, recorded when orders says the stock is reserved and
//! opened at the provider by a sweep that asks until it answers), their refunds, the
//! provider webhooks received (each provider event applied once), and the sandbox
//! provider's own books. Providers: the sandbox (test cards) and Midtrans. A payment's
//! outcome arrives only through a signed webhook; the state machine in [`domain`]
//! ignores stale and out-of-order events.
//!
//! Publishes `payments.payment.requested/succeeded/failed/refunded.v1`; follows
//! `orders.order.awaiting_payment.v1` and `orders.order.cancelled.v1`.

pub mod domain;
mod events;
mod http;
mod migrations;
mod opening;
pub mod provider;
mod refunds;
mod saga;
mod settle;
mod store;

use std::sync::Arc;

use platform::events::Consumer;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};
use secrecy::SecretString;
use tokio::sync::Notify;

use crate::provider::Providers;
use crate::provider::midtrans::Midtrans;
use crate::provider::sandbox::Sandbox;

pub use migrations::Migrator;

pub const NAME: &str = "payments";

#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
    pub providers: Providers,
    pub sandbox: Arc<Sandbox>,
    /// Woken when a refund is opened, so the provider is asked at once.
    pub refunds_due: Arc<Notify>,
    /// Woken when a payment is recorded, so its provider is asked to open it at once.
    pub opening_due: Arc<Notify>,
}

platform::service_state!(AppState);

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    http::routes().into_openapi()
}

/// Starts payments. `webhook_secret` signs and checks the sandbox's webhooks;
/// `self_url` is where this process listens, the sandbox's default webhook target.
pub async fn start(
    ctx: ServiceContext,
    webhook_secret: SecretString,
    self_url: &str,
) -> anyhow::Result<ServiceParts> {
    let state = state(ctx.clone(), webhook_secret, self_url)?;
    let sandbox = state.sandbox.clone();
    ctx.start_relay();
    ctx.tasks
        .spawn("payments-sandbox-webhooks", sandbox.deliver());
    ctx.tasks
        .spawn("payments-refunds", refunds::send_unsent(state.clone()));
    ctx.tasks
        .spawn("payments-opening", opening::open_waiting(state.clone()));
    let consumer = Consumer {
        name: "payments-orders".into(),
        filter: "orders.>".into(),
        handler: Arc::new(saga::FollowOrders {
            state: state.clone(),
        }),
    };
    ctx.bus.subscribe(consumer, &ctx.tasks).await?;
    let db = ctx.db.clone();
    Ok(ServiceParts {
        router: http::router(state),
        probes: vec![Probe::new("payments.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}

/// The service's state: its providers (the sandbox always, Midtrans when configured),
/// nothing started yet.
fn state(
    ctx: ServiceContext,
    webhook_secret: SecretString,
    self_url: &str,
) -> anyhow::Result<AppState> {
    let settings = ctx.settings.payments.clone();
    let webhook_url = settings.sandbox_webhook_url.clone().unwrap_or_else(|| {
        format!(
            "{}/api/v1/payments/webhooks/{}",
            self_url.trim_end_matches('/'),
            provider::sandbox::NAME
        )
    });
    let sandbox = Arc::new(Sandbox::new(
        ctx.db.clone(),
        ctx.clock.clone(),
        webhook_secret,
        settings.webhook_tolerance_secs,
        &ctx.settings.http.public_url,
        webhook_url,
    )?);
    let mut offered: Vec<Arc<dyn provider::Provider>> = vec![sandbox.clone()];
    if let Some(key) = &settings.midtrans_server_key {
        offered.push(Arc::new(Midtrans::new(
            key.clone(),
            &settings.midtrans_snap_url,
            &settings.midtrans_api_url,
        )?));
    }
    let providers = Providers::new(offered, &settings.provider)?;
    Ok(AppState {
        ctx,
        providers,
        sandbox,
        refunds_due: Arc::new(Notify::new()),
        opening_due: Arc::new(Notify::new()),
    })
}
