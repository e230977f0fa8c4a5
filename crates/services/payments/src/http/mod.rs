//! Payments' HTTP surface: reading a payment, the sandbox's card form, provider
//! webhooks and refunds by finance staff.

mod payments;
mod refunds;
mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .merge(payments::router())
        .merge(webhooks::router())
        .merge(refunds::router())
        .with_state(state)
}
