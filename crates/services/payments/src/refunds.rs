//! Refunds: set the amount aside on the payment and record the refund in one
//! transaction, then ask the provider from a sweep — so a crash between the two only
//! delays the request, and the refund id keeps a repeated request from paying twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::tasks::Left;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::AppState;
use crate::store::{self, Payment, Refund};

/// Opens a refund of `amount` if that much is still refundable; `None` otherwise.
pub(crate) async fn open<C: ConnectionTrait>(
    txn: &C,
    payment: &Payment,
    amount: i64,
    reason: &str,
    requested_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Refund>, DbErr> {
    if !store::reserve_refund(txn, payment.id, amount, now).await? {
        return Ok(None);
    }
    let refund = Refund {
        id: Uuid::now_v7(),
        payment_id: payment.id,
        amount,
        status: "pending".into(),
        reason: reason.to_owned(),
        requested_by: requested_by.to_owned(),
        sent: false,
        created_at: now,
        updated_at: now,
    };
    store::insert_refund(txn, &refund).await?;
    Ok(Some(refund))
}

/// Asks providers for the refunds not yet sent whenever one is opened, and every
/// `payments.provider_retry_ms` while a provider fails to take one.
pub(crate) async fn send_unsent(s: AppState) -> anyhow::Result<()> {
    let every = Duration::from_millis(s.ctx.settings.payments.provider_retry_ms);
    platform::tasks::sweep("refunds", &s.ctx.db, &s.refunds_due, every, || send_due(&s)).await
}

/// Sends every unsent refund; answers whether one is left unsent.
async fn send_due(s: &AppState) -> anyhow::Result<Left> {
    let mut left = Left::Nothing;
    for refund in store::unsent_refunds(&s.ctx.db).await? {
        let Some(payment) = store::get(&s.ctx.db, refund.payment_id).await? else {
            continue;
        };
        let Some(provider) = s.providers.get(&payment.provider) else {
            tracing::error!(provider = %payment.provider, "a refund for a provider this shop no longer has");
            continue;
        };
        // One refund the provider refuses must not hold back the others.
        if let Err(err) = provider.refund(&payment, &refund).await {
            tracing::warn!(refund_id = %refund.id, error = format!("{err:#}"), "the provider did not take a refund; asking again later");
            left = Left::Retry;
            continue;
        }
        store::mark_sent(&s.ctx.db, refund.id, s.ctx.clock.now()).await?;
        tracing::info!(refund_id = %refund.id, amount = refund.amount, "refund requested");
    }
    Ok(left)
}
