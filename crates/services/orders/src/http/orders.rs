//! Reading orders: a customer's own, newest first, and one order by id for its owner or
//! staff. Another customer's order is a 404, never a 403: its existence is not told.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use platform::auth::{CustomerAuth, MaybeStaff, StaffAuth};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiQuery, with_etag};
use platform::page::{Page, PageParams, encode_cursor};
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::live::{self, WaitQuery};
use crate::AppState;
use crate::domain::order;
use crate::store::orders::{self, Order};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_orders))
        .routes(routes!(get_order))
        .routes(routes!(live::order_events))
        .routes(routes!(cancel_order))
        .routes(routes!(list_all_orders))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLine {
    pub product_id: Uuid,
    /// As it was called when bought.
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub line_total: i64,
    /// The line's share of the discount: a refund of the whole line gives back
    /// `line_total - discount`.
    pub discount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    pub subtotal: i64,
    /// Taken off by the discount code (the lines' shares, and the shipping when the
    /// code waives it): `total = subtotal - discount + shipping`.
    pub discount: i64,
    pub shipping: i64,
    pub total: i64,
    /// Given back so far.
    pub refunded: i64,
    pub currency: String,
}

/// The order's payment, as payments last told.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSummary {
    pub id: Uuid,
    pub status: String,
    /// Where the customer pays.
    pub checkout_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Shipment {
    pub service_code: String,
    pub carrier: String,
    pub tracking_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineStep {
    pub status: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: String,
    pub lines: Vec<OrderLine>,
    /// The discount code used, as it was typed when set up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    pub totals: Totals,
    /// The address as it was at checkout.
    pub shipping_address: serde_json::Value,
    pub shipping: Shipment,
    pub timeline: Vec<TimelineStep>,
    /// Present once payment is requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentSummary>,
    pub placed_at: DateTime<Utc>,
    pub version: i64,
}

/// An order with its lines and timeline, read from `db`.
pub(crate) async fn view<C: sea_orm::ConnectionTrait>(db: &C, o: Order) -> ApiResult<OrderView> {
    let lines = orders::lines(db, o.id).await?;
    let timeline = orders::timeline(db, o.id).await?;
    Ok(OrderView {
        id: o.id,
        customer_id: o.customer_id,
        status: o.status,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                line_total: l.unit_price.saturating_mul(l.quantity),
                product_id: l.product_id,
                name: l.name,
                unit_price: l.unit_price,
                quantity: l.quantity,
                discount: l.discount,
            })
            .collect(),
        discount_code: o.discount_code,
        totals: Totals {
            subtotal: o.subtotal,
            discount: o.discount,
            shipping: o.shipping,
            total: o.total,
            refunded: o.refunded,
            currency: o.currency,
        },
        shipping_address: o.shipping_address,
        shipping: Shipment {
            service_code: o.shipping_service,
            carrier: o.shipping_carrier,
            tracking_number: o.tracking_number,
        },
        timeline: timeline
            .into_iter()
            .map(|t| TimelineStep {
                status: t.status,
                at: t.at,
                note: t.note,
            })
            .collect(),
        payment: o.payment_id.map(|id| PaymentSummary {
            id,
            status: o.payment_status.unwrap_or_default(),
            checkout_url: o.payment_checkout_url,
        }),
        placed_at: o.placed_at,
        version: o.version,
    })
}

/// The signed-in customer's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<OrderView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_my_orders(
    State(s): State<AppState>,
    me: CustomerAuth,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<OrderView>>> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.position()?;
    let rows = orders::of_customer(&s.ctx.db, me.customer_id, after, limit + 1).await?;
    Ok(Json(page_of(&s.ctx.db, rows, limit).await?))
}

/// A page of orders from `limit + 1` fetched rows (the extra one only says there is
/// more), the cursor carrying the last one's (placed_at, id).
async fn page_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    mut rows: Vec<Order>,
    limit: u64,
) -> ApiResult<Page<OrderView>> {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|o| encode_cursor(&(o.placed_at, o.id)));
    let mut items = Vec::with_capacity(rows.len());
    for o in rows {
        items.push(view(db, o).await?);
    }
    Ok(Page { items, next_cursor })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaffOrderQuery {
    /// Only orders in this status.
    #[param(schema_with = order_status_or_null)]
    pub status: Option<String>,
    /// Only this customer's orders.
    pub customer_id: Option<Uuid>,
    /// Placed at or after this instant (RFC 3339 date-time with an offset, e.g.
    /// `2026-12-01T00:00:00Z`); must be before `to`.
    pub from: Option<DateTime<Utc>>,
    /// Placed before this instant (RFC 3339, exclusive): a whole day D is `from` D at
    /// midnight UTC, `to` the next midnight.
    pub to: Option<DateTime<Utc>>,
    /// Only the order with this number: its id, or the id's last 8 hexadecimal digits,
    /// the short number the shop shows customers (orders carry no other number).
    #[param(schema_with = order_number_or_null)]
    pub number: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

fn order_status_or_null() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated_or_null(&crate::domain::order::ALL)
}

/// An order id (hyphenated) or its last 8 hexadecimal digits, in either case.
fn order_number_or_null() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let hex = |n: usize| format!("[0-9A-Fa-f]{{{n}}}");
    let id = [8, 4, 4, 4, 12].map(hex).join("-");
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(format!("^(?:{}|{id})$", hex(8))))
        .min_length(Some(8))
        .max_length(Some(36))
        .build()
}

/// The order a staff member names by number: the whole id, or the short number the
/// shop shows (the id's last 8 hexadecimal digits).
fn parse_number(text: &str) -> Result<orders::OrderNumber, String> {
    let refused = || "must be an order id or the order's 8-character number".to_owned();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(orders::OrderNumber::Short(text.to_ascii_lowercase()));
    }
    // 36 characters are only the hyphenated form among those `Uuid` reads.
    match Uuid::try_parse(text) {
        Ok(id) if text.len() == 36 => Ok(orders::OrderNumber::Id(id)),
        _ => Err(refused()),
    }
}

/// Every order, newest first, filtered by status, customer, date range and number. The
/// cursor holds only the position: pass the same filters with it for the next page.
#[utoipa::path(get, path = "/api/v1/admin/orders", tag = "orders", security(("bearer" = [])), params(StaffOrderQuery),
    responses((status = 200, body = Page<OrderView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_all_orders(
    State(s): State<AppState>,
    _staff: StaffAuth,
    ApiQuery(q): ApiQuery<StaffOrderQuery>,
) -> ApiResult<Json<Page<OrderView>>> {
    let mut f = Fields::new();
    if let Some(status) = &q.status {
        f.check(
            order::ALL.contains(&status.as_str()),
            "status",
            "must be one of pending, awaiting_payment, paid, processing, shipped, delivered, rejected, cancelled, payment_failed, refunded",
        );
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        f.check(from < to, "from", "must be before to");
    }
    let number = match q.number.as_deref() {
        Some(text) => f.parse("number", parse_number(text)),
        None => None,
    };
    f.finish()?;
    let page = PageParams {
        cursor: q.cursor.clone(),
        limit: q.limit,
    };
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.position()?;
    let filter = orders::StaffFilter {
        status: q.status,
        customer_id: q.customer_id,
        placed_from: q.from,
        placed_to: q.to,
        number,
    };
    let rows = orders::search(&s.ctx.db, &filter, after, limit + 1).await?;
    Ok(Json(page_of(&s.ctx.db, rows, limit).await?))
}

/// One order, for its owner or staff. With `wait_for_change_from` it is a long poll:
/// the answer comes when the order's version moves past the one given (woken by the
/// commit that moves it) or when `timeout_ms` ends, whichever is first.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), WaitQuery),
    responses((status = 200, body = OrderView), (status = 401, body = platform::error::Problem), (status = 404, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn get_order(
    State(s): State<AppState>,
    staff: MaybeStaff,
    customer: Result<CustomerAuth, ApiError>,
    Path(id): Path<Uuid>,
    ApiQuery(wait): ApiQuery<WaitQuery>,
) -> ApiResult<axum::response::Response> {
    let owner = live::reader(staff, customer)?;
    let order = match wait.wait()? {
        Some((from, timeout)) => live::after_change(&s, id, owner, from, timeout).await?,
        None => live::readable(&s, id, owner).await?,
    };
    let version = order.version;
    Ok(with_etag(view(&s.ctx.db, order).await?, version))
}

/// Cancels one of your orders before it ships; its stock goes back on sale and a paid
/// order is refunded in full.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn cancel_order(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::response::Response> {
    let order = orders::get(&s.ctx.db, id)
        .await?
        .filter(|o| o.customer_id == me.customer_id)
        .ok_or_else(|| ApiError::not_found("order"))?;
    let cancelled = crate::lifecycle::cancel(&s.ctx, &s.changes, id, "cancelled by the customer")
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "not_cancellable",
                format!("an order that is {} cannot be cancelled", order.status),
            )
        })?;
    let version = cancelled.version;
    Ok(with_etag(view(&s.ctx.db, cancelled).await?, version))
}
