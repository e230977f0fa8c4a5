//! Opening recorded payments at their provider. A sweep asks for every payment still
//! waiting whenever one is recorded, and every `payments.provider_retry_ms` for as long
//! as the provider fails: a provider that is down delays payments, it never strands
//! an order. Only once the provider has answered is the payment announced
//! (`payments.payment.requested.v1`), in the transaction that records where to pay.
//! A provider that opens without calling out (the sandbox) skips the sweep: its payment
//! is opened, then recorded and announced in one transaction ([`record_opened`]).

use std::time::Duration;

use contracts::payments::PaymentRequested;
use platform::tasks::Left;
use platform::unit::UnitOfWork;

use crate::AppState;
use crate::provider::{Opened, Opening};
use crate::store::{self, Payment};

pub(crate) async fn open_waiting(s: AppState) -> anyhow::Result<()> {
    let every = Duration::from_millis(s.ctx.settings.payments.provider_retry_ms);
    platform::tasks::sweep("payment opening", &s.ctx.db, &s.opening_due, every, || {
        open_due(&s)
    })
    .await
}

/// Asks the provider to open every waiting payment; answers whether one is left waiting.
async fn open_due(s: &AppState) -> anyhow::Result<Left> {
    let mut left = Left::Nothing;
    for payment in store::unopened(&s.ctx.db).await? {
        // A payment not opened anywhere yet follows the shop's current provider: one
        // taken out of the configuration must not strand it.
        let provider = match s.providers.get(&payment.provider) {
            Some(provider) => provider.clone(),
            None => {
                let current = s.providers.default_provider().clone();
                tracing::warn!(payment_id = %payment.id, was = %payment.provider, now = current.name(),
                    "the payment's provider is no longer configured; opening it with the shop's");
                current
            }
        };
        match provider.open(&opening_of(&payment)).await {
            Ok(opened) => announce(s, payment, provider.name(), opened).await?,
            Err(err) => {
                tracing::warn!(payment_id = %payment.id, error = format!("{err:#}"),
                    "the provider did not open a payment; asking again later");
                left = Left::Retry;
            }
        }
    }
    Ok(left)
}

async fn announce(
    s: &AppState,
    payment: Payment,
    provider: &str,
    opened: Opened,
) -> anyhow::Result<()> {
    let work = s.ctx.begin().await?;
    // Not waiting any more: opened by a sweep in another process, or its order ended.
    if !store::mark_opened(&work, payment.id, provider, &opened, work.now()).await? {
        return Ok(());
    }
    let event = requested(&payment, provider, opened.checkout_url);
    work.emit(&event, payment.version).await?;
    work.commit().await?;
    tracing::info!(payment_id = %payment.id, order_id = %payment.order_id, "payment requested");
    Ok(())
}

/// Records `payment`, already `opened` at the provider called `provider` (one that
/// opens without calling out), and announces it, in `work`; `false` when its order
/// already had a payment.
pub(crate) async fn record_opened(
    work: &UnitOfWork,
    mut payment: Payment,
    provider: &str,
    opened: Opened,
) -> anyhow::Result<bool> {
    payment.checkout_url = Some(opened.checkout_url.clone());
    payment.provider_ref = opened.provider_ref;
    // One payment per order: a redelivered event finds the first one and stops.
    if !store::insert(work, &payment).await? {
        return Ok(false);
    }
    let event = requested(&payment, provider, opened.checkout_url);
    work.emit(&event, payment.version).await?;
    Ok(true)
}

pub(crate) fn opening_of(payment: &Payment) -> Opening {
    Opening {
        payment_id: payment.id,
        order_id: payment.order_id,
        amount: payment.amount,
        currency: payment.currency.clone(),
    }
}

fn requested(payment: &Payment, provider: &str, checkout_url: String) -> PaymentRequested {
    PaymentRequested {
        payment_id: payment.id,
        order_id: payment.order_id,
        provider: provider.to_owned(),
        status: payment.status.clone(),
        checkout_url,
        amount: payment.amount,
        currency: payment.currency.clone(),
        version: payment.version,
    }
}
