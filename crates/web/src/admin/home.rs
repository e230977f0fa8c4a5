//! The dashboard's home: today's and this week's orders and revenue per currency,
//! what waits to be fulfilled, payments that failed today, products sold out or
//! running low, and (for admins) events waiting in dead letters.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{AdminLayout, failure, sign_in_first};
use crate::WebState;
use crate::pages::render_status;
use crate::session::StaffMember;

#[derive(Deserialize)]
struct ApiSales {
    currency: String,
    orders: i64,
    paid_orders: i64,
    revenue: i64,
}

#[derive(Deserialize)]
struct ApiStatusCount {
    status: String,
    orders: i64,
}

#[derive(Deserialize)]
struct ApiSummary {
    today: Vec<ApiSales>,
    last_7_days: Vec<ApiSales>,
    by_status: Vec<ApiStatusCount>,
    payments_failed_today: i64,
}

#[derive(Deserialize)]
struct ApiLowProduct {
    id: String,
    name: String,
    available: i64,
}

#[derive(Deserialize)]
struct ApiStock {
    out_of_stock: u64,
    low_stock: u64,
    lowest: Vec<ApiLowProduct>,
}

/// A product with few left, as the home page lists it.
pub struct LowProduct {
    pub url: String,
    pub name: String,
    pub left: String,
}

pub struct Sales {
    pub currency: String,
    pub orders: i64,
    pub paid_orders: i64,
    pub revenue: String,
}

/// A window of time's sales table.
pub struct Window {
    pub heading: &'static str,
    pub id: &'static str,
    pub rows: Vec<Sales>,
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    layout: AdminLayout,
    windows: Vec<Window>,
    to_fulfil: i64,
    being_packed: i64,
    payments_failed_today: i64,
    /// Sold out and running low; `None` when the catalog could not be read (the
    /// figures are shown without it rather than no page).
    stock: Option<(u64, u64)>,
    lowest: Vec<LowProduct>,
    /// Events given up on, and the word for them: shown to admins only, who can act.
    dead_letters: Option<(u64, &'static str)>,
}

fn sales(rows: &[ApiSales]) -> Vec<Sales> {
    rows.iter()
        .map(|s| Sales {
            currency: s.currency.clone(),
            orders: s.orders,
            paid_orders: s.paid_orders,
            revenue: contracts::money::display(s.revenue, &s.currency),
        })
        .collect()
}

pub(super) async fn page(State(web): State<WebState>, staff: StaffMember) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin");
    }
    let (summary, stock, dead_letters) = tokio::join!(
        web.api
            .get::<ApiSummary>(&staff.caller, "/api/v1/admin/orders/summary"),
        web.api
            .get::<ApiStock>(&staff.caller, "/api/v1/catalog/stock-summary"),
        super::events::waiting(&web, &staff)
    );
    let stock = stock.ok();
    let summary = match summary {
        Ok(summary) => summary,
        Err(p) => return failure(&web, &staff, "/admin", &p),
    };
    let count = |status: &str| {
        summary
            .by_status
            .iter()
            .find(|c| c.status == status)
            .map_or(0, |c| c.orders)
    };
    render_status(
        StatusCode::OK,
        &HomePage {
            layout: AdminLayout::new(&web, &staff, "home"),
            windows: vec![
                Window {
                    heading: "Today (since midnight UTC)",
                    id: "sales-today",
                    rows: sales(&summary.today),
                },
                Window {
                    heading: "The last 7 days",
                    id: "sales-week",
                    rows: sales(&summary.last_7_days),
                },
            ],
            to_fulfil: count("paid"),
            being_packed: count("processing"),
            payments_failed_today: summary.payments_failed_today,
            lowest: stock
                .as_ref()
                .map(|s| s.lowest.iter().map(low_product).collect())
                .unwrap_or_default(),
            stock: stock.map(|s| (s.out_of_stock, s.low_stock)),
            dead_letters: dead_letters.map(|n| (n, if n == 1 { "event" } else { "events" })),
        },
    )
}

fn low_product(p: &ApiLowProduct) -> LowProduct {
    LowProduct {
        url: format!("/admin/products/{}", p.id),
        name: p.name.clone(),
        left: match p.available {
            0 => "sold out".into(),
            1 => "1 left".into(),
            n => format!("{n} left"),
        },
    }
}
