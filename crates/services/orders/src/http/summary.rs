//! `GET /admin/orders/summary`: the staff dashboard's figures.

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use platform::auth::StaffAuth;
use platform::error::ApiResult;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::store::summary::{self, Sales};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(order_summary))
}

/// Orders placed in a window, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencySales {
    pub currency: String,
    /// Every order placed, whatever became of it.
    pub orders: i64,
    /// Of those, the ones paid for (paid, processing, shipped or delivered).
    pub paid_orders: i64,
    /// Minor units: the paid orders' totals less what was refunded of them.
    pub revenue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: String,
    pub orders: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    /// Since midnight UTC.
    pub today: Vec<CurrencySales>,
    /// Since midnight UTC six days ago (today and the six days before).
    pub last_7_days: Vec<CurrencySales>,
    /// Every order by its status now; `paid` ones wait to be fulfilled.
    pub by_status: Vec<StatusCount>,
    /// Orders whose payment failed since midnight UTC.
    pub payments_failed_today: i64,
}

fn sales(rows: Vec<Sales>) -> Vec<CurrencySales> {
    rows.into_iter()
        .map(|s| CurrencySales {
            currency: s.currency,
            orders: s.orders,
            paid_orders: s.paid_orders,
            revenue: s.revenue,
        })
        .collect()
}

/// Orders and revenue per currency for today and the last 7 days, orders by status,
/// and payments failed today. Staff only.
#[utoipa::path(get, path = "/api/v1/admin/orders/summary", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderSummary), (status = 401, body = platform::error::Problem),
              (status = 403, body = platform::error::Problem)))]
async fn order_summary(
    State(s): State<AppState>,
    _staff: StaffAuth,
) -> ApiResult<Json<OrderSummary>> {
    let now = s.ctx.clock.now();
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc());
    let db = &s.ctx.db;
    Ok(Json(OrderSummary {
        today: sales(summary::sales_since(db, midnight).await?),
        last_7_days: sales(summary::sales_since(db, midnight - Duration::days(6)).await?),
        by_status: summary::by_status(db)
            .await?
            .into_iter()
            .map(|c| StatusCount {
                status: c.status,
                orders: c.orders,
            })
            .collect(),
        payments_failed_today: summary::payments_failed_since(db, midnight).await?,
    }))
}
