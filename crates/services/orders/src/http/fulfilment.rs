//! `PATCH /admin/orders/{id}/status`: staff move a paid order through fulfilment
//! (processing, shipped with a tracking number, delivered) or cancel it before it
//! ships — only along legal transitions, and only from the version they looked at.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use contracts::orders::{OrderDelivered, OrderShipped};
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use platform::validate::Fields;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::orders::{OrderView, view};
use crate::AppState;
use crate::domain::order::{CANCELLED, DELIVERED, SHIPPED, STAFF_TARGETS, staff_may};
use crate::lifecycle;
use crate::store::{orders, replicas};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_status))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `processing`, `shipped`, `delivered` or `cancelled`.
    #[schema(schema_with = staff_target)]
    pub status: String,
    /// Required when shipping, refused otherwise.
    #[schema(schema_with = platform::schema::line_or_null::<3, 64>)]
    pub tracking_number: Option<String>,
    /// Or `If-Match: "<version>"`.
    pub version: Option<i64>,
    /// Why, for a cancellation (shown to the customer).
    #[schema(schema_with = platform::schema::line_or_null::<1, 200>)]
    pub reason: Option<String>,
}

fn staff_target() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated(&STAFF_TARGETS)
}

/// Checks the change field by field; the tracking number and reason, cleaned.
fn read_change(c: &StatusChange) -> ApiResult<(Option<String>, Option<String>)> {
    let mut f = Fields::new();
    f.check(
        STAFF_TARGETS.contains(&c.status.as_str()),
        "status",
        "must be one of processing, shipped, delivered, cancelled",
    );
    let tracking = match (&c.tracking_number, c.status == SHIPPED) {
        (Some(t), true) => {
            let t = f.text("tracking_number", t, 3, 64);
            if let Some(t) = &t {
                f.check(
                    t.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == ' '),
                    "tracking_number",
                    "may hold letters, digits, spaces and hyphens only",
                );
            }
            t
        }
        (None, true) => {
            f.add("tracking_number", "is required when shipping");
            None
        }
        (Some(_), false) => {
            f.add("tracking_number", "is only given when shipping");
            None
        }
        (None, false) => None,
    };
    let reason = match (&c.reason, c.status == CANCELLED) {
        (Some(r), true) => f.text("reason", r, 1, 200),
        (Some(_), false) => {
            f.add("reason", "is only given when cancelling");
            None
        }
        (None, _) => None,
    };
    f.finish()?;
    Ok((tracking, reason))
}

/// Moves an order to its next fulfilment status, or cancels it before it ships (a paid
/// order is then refunded in full).
#[utoipa::path(patch, path = "/api/v1/admin/orders/{id}/status", tag = "orders", security(("bearer" = [])),
    request_body = StatusChange, params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn set_status(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, change.version)?;
    let (tracking, reason) = read_change(&change)?;
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    let order = orders::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if order.version != expected {
        return Err(ApiError::stale_version(order.version));
    }
    let to = change.status.as_str();
    if !staff_may(&order.status, to) {
        return Err(ApiError::conflict(
            "illegal_transition",
            format!("an order that is {} cannot become {to}", order.status),
        ));
    }
    let moved = if to == CANCELLED {
        let reason = reason.as_deref().unwrap_or("cancelled by the shop");
        lifecycle::cancel_in(&work, &order, reason, now).await?
    } else {
        orders::advance(&work, id, &order.status, to, None, now).await?
    };
    if !moved {
        return Err(ApiError::stale_version(order.version + 1));
    }
    let version = order.version + 1;
    if to == SHIPPED {
        let tracking = tracking.clone().unwrap_or_default();
        orders::set_tracking(&work, id, &tracking).await?;
        let event = OrderShipped {
            order_id: id,
            customer_id: order.customer_id,
            carrier: order.shipping_carrier.clone(),
            tracking_number: tracking,
            recipient: replicas::recipient(&work, order.customer_id).await?,
        };
        work.emit(&event, version).await?;
    } else if to == DELIVERED {
        let event = OrderDelivered {
            order_id: id,
            customer_id: order.customer_id,
            recipient: replicas::recipient(&work, order.customer_id).await?,
        };
        work.emit(&event, version).await?;
    }
    work.audit(
        &staff,
        ip,
        "order.status_changed",
        "order",
        id,
        json!({"from": order.status, "to": to, "tracking_number": tracking, "reason": reason}),
    )
    .await?;
    let updated = orders::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let answer = view(&work, updated).await?;
    work.commit().await?;
    s.changes.committed(id).await;
    Ok(with_etag(answer, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(status: &str, tracking: Option<&str>, reason: Option<&str>) -> StatusChange {
        StatusChange {
            status: status.into(),
            tracking_number: tracking.map(Into::into),
            version: Some(1),
            reason: reason.map(Into::into),
        }
    }

    fn fields(c: StatusChange) -> Vec<String> {
        match read_change(&c) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn shipping_needs_a_tracking_number_and_nothing_else_takes_one() {
        assert_eq!(fields(change("shipped", None, None)), ["tracking_number"]);
        assert_eq!(
            fields(change("processing", Some("AB123"), None)),
            ["tracking_number"]
        );
        assert_eq!(
            fields(change("shipped", Some("<script>"), None)),
            ["tracking_number"]
        );
        assert!(fields(change("shipped", Some("JNE-0042 77"), None)).is_empty());
        assert_eq!(fields(change("paid", None, None)), ["status"]);
        assert_eq!(fields(change("delivered", None, Some("x"))), ["reason"]);
        assert!(fields(change("cancelled", None, Some("out of stock"))).is_empty());
    }
}
