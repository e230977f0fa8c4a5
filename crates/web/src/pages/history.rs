//! The customer's orders, newest first, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::orders::{ApiOrder, number, status_text};
use super::purchase::sign_in_first;
use super::{failure_page, render};
use crate::WebState;
use crate::session::Visitor;
use crate::view::Layout;

const PAGE_SIZE: usize = 20;
const HERE: &str = "/account/orders";

#[derive(Deserialize)]
struct ApiOrders {
    items: Vec<ApiOrder>,
    next_cursor: Option<String>,
}

pub struct OrderRow {
    pub url: String,
    pub number: String,
    pub placed: String,
    pub status: &'static str,
    pub total: String,
}

#[derive(Template)]
#[template(path = "order_history.html")]
struct HistoryView {
    layout: Layout,
    orders: Vec<OrderRow>,
    next: Option<String>,
    first_page: bool,
}

#[derive(Default, Deserialize)]
pub(super) struct HistoryQuery {
    #[serde(default)]
    cursor: String,
}

pub(super) async fn page(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<HistoryQuery>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(HERE);
    }
    let mut path = format!("/api/v1/orders?limit={PAGE_SIZE}");
    if !q.cursor.is_empty() {
        path.push_str("&cursor=");
        path.push_str(&super::shop::urlencoding(&q.cursor));
    }
    let list: ApiOrders = match web.api.get(&visitor.caller, &path).await {
        Ok(l) => l,
        Err(p) if p.is(401) => return sign_in_first(HERE),
        // A cursor the API does not know (edited by hand) starts from the top.
        Err(p) if p.is(400) || p.is(422) => {
            return Redirect::to(HERE).into_response();
        }
        Err(p) => return failure_page(&web, &visitor, &p),
    };
    render(&HistoryView {
        layout: Layout::for_visitor(&web, &visitor).await,
        orders: list
            .items
            .iter()
            .map(|o| OrderRow {
                url: format!("/orders/{}", o.id),
                number: number(&o.id),
                placed: o.placed_at.format("%-d %b %Y").to_string(),
                status: status_text(&o.status),
                total: contracts::money::display(o.totals.total, &o.totals.currency),
            })
            .collect(),
        next: list
            .next_cursor
            .map(|c| format!("{HERE}?cursor={}", super::shop::urlencoding(&c))),
        first_page: q.cursor.is_empty(),
    })
}
