//! Ending an order early: the customer or staff cancel it, or it expires unpaid. Either
//! way the change and the event that releases its stock (and refunds a paid order)
//! commit together.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::orders::OrderCancelled;
use platform::changes::Changes;
use platform::service::ServiceContext;
use platform::unit::UnitOfWork;
use uuid::Uuid;

use crate::domain::order::{AWAITING_PAYMENT, CANCELLABLE, CANCELLED, is_paid};
use crate::store::orders::{self, Order};
use crate::store::{discounts, replicas};

/// Cancels `order_id` if its status still allows it; `None` when it does not.
pub(crate) async fn cancel(
    ctx: &ServiceContext,
    changes: &Changes,
    order_id: Uuid,
    reason: &str,
) -> anyhow::Result<Option<Order>> {
    let now = ctx.clock.now();
    let work = ctx.begin().await?;
    let Some(order) = orders::get(&work, order_id).await? else {
        return Ok(None);
    };
    if !cancel_in(&work, &order, reason, now).await? {
        return Ok(None);
    }
    let updated = orders::get(&work, order_id).await?;
    work.commit().await?;
    changes.committed(order_id).await;
    Ok(updated)
}

/// Cancels `order` inside `work`, publishing the cancellation; `false` when its status
/// (as the database holds it now) does not allow it.
pub(crate) async fn cancel_in(
    work: &UnitOfWork,
    order: &Order,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    if !CANCELLABLE.contains(&order.status.as_str())
        || !orders::advance(work, order.id, &order.status, CANCELLED, Some(reason), now).await?
    {
        return Ok(false);
    }
    discounts::give_back(work, order.id).await?;
    let event = OrderCancelled {
        order_id: order.id,
        customer_id: order.customer_id,
        reason: reason.to_owned(),
        was_paid: is_paid(&order.status),
        recipient: Some(replicas::recipient(work, order.customer_id).await?),
    };
    work.emit(&event, order.version + 1).await?;
    Ok(true)
}

/// Cancels orders left unpaid past `orders.payment_timeout_mins`, every
/// `orders.expiry_sweep_secs`.
pub(crate) async fn expire_unpaid(ctx: ServiceContext, changes: Changes) -> anyhow::Result<()> {
    let settings = ctx.settings.orders.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(settings.expiry_sweep_secs.max(1)));
    let timeout = chrono::Duration::minutes(
        i64::try_from(settings.payment_timeout_mins).unwrap_or(i64::MAX / 60_000),
    );
    loop {
        tick.tick().await;
        let before = ctx.clock.now() - timeout;
        let due = match orders::unpaid_since(&ctx.db, AWAITING_PAYMENT, before).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "looking for unpaid orders failed");
                continue;
            }
        };
        for order in due {
            match cancel(&ctx, &changes, order.id, "payment not received in time").await {
                Ok(Some(_)) => tracing::info!(order_id = %order.id, "unpaid order expired"),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(order_id = %order.id, error = %e, "expiring an order failed")
                }
            }
        }
    }
}
