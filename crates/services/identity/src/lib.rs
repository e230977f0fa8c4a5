//! Identity: customers and staff, their credentials and sessions.
//!
//! Owns customers, staff and roles, password hashes, sessions (refresh-token families),
//! verification and reset tokens, shipping addresses and the staff audit trail. Signs
//! access tokens and publishes the verification keys at `/.well-known/jwks.json`.
//! Staff look customers up (read-only, audited) under `/api/v1/admin/customers`, and
//! may sign in with a second factor (TOTP with recovery codes, [`totp`]).
//!
//! Publishes `identity.customer.*` (registered, verification requested, verified,
//! updated, password reset requested, password changed), `identity.address.*` and
//! `identity.staff.created`. Consumes nothing.

mod customers;
mod domain;
mod http;
mod migrations;
mod sessions;
mod store;
mod throttle;
mod two_factor;
mod verification;

pub mod bootstrap;

use std::sync::Arc;

use domain::password::Hasher;
use platform::auth::SigningKey;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts};

pub use domain::totp;
pub use migrations::Migrator;

pub const NAME: &str = "identity";

/// Shared by every identity handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub ctx: ServiceContext,
    pub key: Arc<SigningKey>,
    /// Every password hash and check goes through it: a fixed number at once.
    pub hasher: Hasher,
}

platform::service_state!(AppState);

/// The answer when an account row moved on between our read and our conditional write.
pub(crate) fn changed_meanwhile() -> platform::ApiError {
    platform::ApiError::conflict(
        "concurrent_update",
        "the account changed meanwhile; try again",
    )
}

/// The service's part of the OpenAPI document, for processes that serve the whole
/// document without running the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = http::routes().into_openapi();
    doc.merge(platform::http::dead_letters::routes().into_openapi());
    doc
}

/// Starts identity: its outbox relay and its routes. `key` signs access tokens.
pub async fn start(ctx: ServiceContext, key: Arc<SigningKey>) -> anyhow::Result<ServiceParts> {
    ctx.start_relay();
    let db = ctx.db.clone();
    let auth = &ctx.settings.auth;
    let hasher = Hasher::new(auth.hash_concurrency, auth.hash_queue);
    // The bus's dead letters are served here, beside staff administration and its
    // audit trail, where their replays and discards are recorded.
    let operations = platform::http::dead_letters::routes().with_state(ctx.clone());
    let state = AppState { ctx, key, hasher };
    Ok(ServiceParts {
        router: http::router(state).merge(operations),
        probes: vec![Probe::new("identity.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
