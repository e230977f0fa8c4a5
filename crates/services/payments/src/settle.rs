//! Applying what a verified webhook says. The event id is recorded first, in the same
//! transaction as everything it changes: a duplicate or replay finds it and changes
//! nothing, and a crash leaves either all of it or none.

use contracts::payments::{PaymentFailed, PaymentRefunded, PaymentSucceeded};
use platform::unit::UnitOfWork;

use crate::AppState;
use crate::domain::{FAILED, Outcome, SUCCEEDED, next_status};
use crate::provider::{Notice, Notification};
use crate::refunds;
use crate::store::{self, Payment};

/// What became of a webhook.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// Its event id was seen before.
    Duplicate,
    Applied,
    /// Recorded, but it changes nothing (stale, out of order, unknown payment).
    Ignored(String),
}

pub(crate) async fn apply(
    s: &AppState,
    provider: &str,
    n: Notification,
) -> anyhow::Result<Delivery> {
    let payment_id = match &n.notice {
        Notice::Payment { payment_id, .. } | Notice::Refund { payment_id, .. } => *payment_id,
    };
    let work = s.ctx.begin().await?;
    let now = work.now();
    if !store::first_delivery(&work, provider, &n.event_id, Some(payment_id), &n.kind, now).await? {
        return Ok(Delivery::Duplicate);
    }
    let result = match store::get_for_update(&work, payment_id).await? {
        None => Delivery::Ignored("no such payment".into()),
        Some(p) if p.provider != provider => {
            Delivery::Ignored("the payment belongs to another provider".into())
        }
        Some(payment) => match n.notice {
            Notice::Payment {
                outcome, amount, ..
            } => on_payment(&work, payment, outcome, amount).await?,
            Notice::Refund {
                refund_id,
                succeeded,
                ..
            } => {
                if succeeded {
                    on_refund(&work, refund_id).await?
                } else if store::fail_refund(&work, refund_id, now).await? {
                    tracing::warn!(%refund_id, "the provider refused a refund");
                    Delivery::Applied
                } else {
                    Delivery::Ignored("the refund was already settled".into())
                }
            }
        },
    };
    let outcome = match &result {
        Delivery::Ignored(why) => format!("ignored: {why}"),
        _ => "applied".into(),
    };
    store::note_outcome(&work, provider, &n.event_id, &outcome).await?;
    work.commit().await?;
    s.refunds_due.notify_one();
    Ok(result)
}

async fn on_payment(
    work: &UnitOfWork,
    payment: Payment,
    mut outcome: Outcome,
    amount: Option<(i64, String)>,
) -> anyhow::Result<Delivery> {
    let now = work.now();
    // Money the provider took that does not pay the order, to be given back.
    let mut mistaken = None;
    if outcome == Outcome::Succeeded
        && let Some((taken, currency)) = &amount
        && (*taken != payment.amount || *currency != payment.currency)
    {
        // Never call an order paid for money other than its total.
        outcome = Outcome::Failed("amount_mismatch".into());
        if *currency == payment.currency && *taken > 0 {
            tracing::warn!(payment_id = %payment.id, taken, expected = payment.amount,
                "the provider took another amount than the order's total; refunding it");
            mistaken = Some(*taken);
        } else {
            // Another currency: what to give back is for finance to settle with the
            // provider.
            tracing::error!(payment_id = %payment.id, taken, %currency, expected = payment.amount,
                "the provider took money in another currency than the order's");
        }
    }
    let Some(to) = next_status(&payment.status, &outcome) else {
        return Ok(Delivery::Ignored(format!(
            "a {outcome:?} event for a payment that is {}",
            payment.status
        )));
    };
    let reason = match &outcome {
        Outcome::Failed(reason) => Some(reason.as_str()),
        _ => None,
    };
    if !store::advance(work, payment.id, &payment.status, to, reason, now).await? {
        return Ok(Delivery::Ignored("the payment changed meanwhile".into()));
    }
    let version = payment.version + 1;
    if to == SUCCEEDED {
        let event = PaymentSucceeded {
            payment_id: payment.id,
            order_id: payment.order_id,
            amount: payment.amount,
            currency: payment.currency.clone(),
            version,
        };
        work.emit(&event, version).await?;
        if payment.order_cancelled {
            // The order ended before the money arrived: give it all back.
            let mut paid = payment.clone();
            paid.status = SUCCEEDED.into();
            paid.captured = payment.amount;
            refunds::open(
                work,
                &paid,
                paid.amount,
                "order ended before payment arrived",
                "system",
                now,
            )
            .await?;
        }
    } else if to == FAILED {
        let event = PaymentFailed {
            payment_id: payment.id,
            order_id: payment.order_id,
            reason: reason.unwrap_or("failed").to_owned(),
            version,
        };
        work.emit(&event, version).await?;
        if let Some(taken) = mistaken {
            store::capture_mistaken(work, payment.id, taken, now).await?;
            let mut failed = payment.clone();
            failed.status = FAILED.into();
            failed.captured = taken;
            refunds::open(
                work,
                &failed,
                taken,
                "the provider took another amount than the order's total",
                "system",
                now,
            )
            .await?;
        }
    }
    Ok(Delivery::Applied)
}

async fn on_refund(work: &UnitOfWork, refund_id: uuid::Uuid) -> anyhow::Result<Delivery> {
    let Some(refund) = store::complete_refund(work, refund_id, work.now()).await? else {
        return Ok(Delivery::Ignored("the refund was already settled".into()));
    };
    let payment = store::get(work, refund.payment_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("refunded payment {} vanished", refund.payment_id))?;
    let event = PaymentRefunded {
        payment_id: payment.id,
        order_id: payment.order_id,
        refund_id,
        amount: refund.amount,
        refunded_total: payment.refunded,
        currency: payment.currency.clone(),
        status: payment.status.clone(),
        version: payment.version,
    };
    work.emit(&event, payment.version).await?;
    Ok(Delivery::Applied)
}
