//! Customers for staff, read-only: a search by email or name, newest first and paged,
//! and one customer's profile with their addresses and their orders. Any staff role may
//! look; the API records every look in the audit trail.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::orders::label;
use super::{AdminLayout, failure, sign_in_first};
use crate::WebState;
use crate::pages::orders::{ApiOrder, number};
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

/// Customers per page of the list, and orders per page of a customer.
const PAGE: u32 = 25;

/// A customer as the API's search lists them.
#[derive(Deserialize)]
struct ApiCustomer {
    id: String,
    email: String,
    name: String,
    email_verified: bool,
    created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ApiCustomers {
    items: Vec<ApiCustomer>,
    next_cursor: Option<String>,
}

/// A customer's profile as the API answers it to staff.
#[derive(Deserialize)]
struct ApiProfile {
    id: String,
    email: String,
    name: String,
    email_verified: bool,
    created_at: DateTime<Utc>,
    #[serde(default)]
    addresses: Vec<ApiAddress>,
}

#[derive(Deserialize)]
struct ApiAddress {
    label: String,
    recipient_name: String,
    #[serde(default)]
    phone: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: String,
    note: Option<String>,
}

impl ApiAddress {
    /// The lines as an envelope shows them.
    fn lines(&self) -> Vec<String> {
        [
            Some(self.recipient_name.clone()),
            Some(self.line1.clone()),
            self.line2.clone(),
            Some(format!("{} {}", self.postal_code, self.city)),
            self.region.clone(),
            Some(self.country.clone()),
        ]
        .into_iter()
        .flatten()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
    }
}

#[derive(Deserialize)]
struct ApiOrders {
    items: Vec<ApiOrder>,
    next_cursor: Option<String>,
}

pub struct Row {
    pub url: String,
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin/customers.html")]
struct ListPage {
    layout: AdminLayout,
    form: Form,
    q: String,
    rows: Vec<Row>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let here = "/admin/customers";
    if !staff.signed_in() {
        return sign_in_first(here);
    }
    let q = query.map(|Query(q)| q).unwrap_or(ListQuery {
        q: String::new(),
        cursor: String::new(),
    });
    let words = q.q.trim().to_owned();
    let mut path = format!("/api/v1/admin/customers?limit={PAGE}");
    if !words.is_empty() {
        path.push_str(&format!("&q={}", form_urlencoded(&words)));
    }
    if !q.cursor.is_empty() {
        path.push_str(&format!("&cursor={}", form_urlencoded(&q.cursor)));
    }
    let (page, form, status) = match web.api.get::<ApiCustomers>(&staff.caller, &path).await {
        Ok(page) => (page, Form::default(), StatusCode::OK),
        // Words the API refuses (too long, invisible characters) are said beside the box.
        Err(p) if p.is(422) => {
            let empty = ApiCustomers {
                items: Vec::new(),
                next_cursor: None,
            };
            (empty, Form::refused(&p), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(p) => return failure(&web, &staff, here, &p),
    };
    let rows = page
        .items
        .into_iter()
        .map(|c| Row {
            url: format!("/admin/customers/{}", c.id),
            name: c.name,
            email: c.email,
            verified: c.email_verified,
            since: c.created_at.format("%-d %b %Y").to_string(),
        })
        .collect();
    let next = page.next_cursor.map(|c| {
        let mut url = format!("/admin/customers?cursor={}", form_urlencoded(&c));
        if !words.is_empty() {
            url.push_str(&format!("&q={}", form_urlencoded(&words)));
        }
        url
    });
    render_status(
        status,
        &ListPage {
            layout: AdminLayout::new(&web, &staff, "customers"),
            form,
            q: words,
            rows,
            next,
        },
    )
}

pub struct Address {
    pub label: String,
    pub lines: Vec<String>,
    pub phone: String,
    pub note: Option<String>,
}

pub struct OrderRow {
    pub url: String,
    pub number: String,
    pub placed: String,
    pub status: &'static str,
    pub total: String,
}

#[derive(Template)]
#[template(path = "admin/customer.html")]
struct ProfilePage {
    layout: AdminLayout,
    id: String,
    name: String,
    email: String,
    verified: bool,
    since: String,
    addresses: Vec<Address>,
    /// `None` when the orders could not be read; the profile still shows.
    orders: Option<Vec<OrderRow>>,
    older_orders: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ProfileQuery {
    /// Where the customer's order list continues.
    #[serde(default)]
    orders: String,
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<ProfileQuery>, QueryRejection>,
) -> Response {
    let here = format!("/admin/customers/{id}");
    let profile: ApiProfile = match super::load_by_id(&web, &staff, &here, &id, |id| {
        format!("/api/v1/admin/customers/{id}")
    })
    .await
    {
        Ok(profile) => profile,
        Err(res) => return res,
    };
    let id = profile.id.clone();
    let mut orders_path = format!("/api/v1/admin/orders?customer_id={id}&limit={PAGE}");
    let cursor = query.map(|Query(q)| q.orders).unwrap_or_default();
    if !cursor.is_empty() {
        orders_path.push_str(&format!("&cursor={}", form_urlencoded(&cursor)));
    }
    let (orders, older_orders) = match web.api.get::<ApiOrders>(&staff.caller, &orders_path).await {
        Ok(page) => (
            Some(page.items.iter().map(order_row).collect()),
            page.next_cursor
                .map(|c| format!("{here}?orders={}", form_urlencoded(&c))),
        ),
        Err(p) if p.is(401) => return sign_in_first(&here),
        Err(p) => {
            tracing::warn!(customer.id = %id, status = p.status, "a customer's orders could not be read for the dashboard");
            (None, None)
        }
    };
    render_status(
        StatusCode::OK,
        &ProfilePage {
            layout: AdminLayout::new(&web, &staff, "customers"),
            id: profile.id,
            name: profile.name,
            email: profile.email,
            verified: profile.email_verified,
            since: profile
                .created_at
                .format("%-d %B %Y, %H:%M UTC")
                .to_string(),
            addresses: profile
                .addresses
                .iter()
                .map(|a| Address {
                    label: a.label.clone(),
                    lines: a.lines(),
                    phone: a.phone.clone(),
                    note: a.note.clone().filter(|n| !n.trim().is_empty()),
                })
                .collect(),
            orders,
            older_orders,
        },
    )
}

fn order_row(o: &ApiOrder) -> OrderRow {
    OrderRow {
        url: format!("/admin/orders/{}", o.id),
        number: number(&o.id),
        placed: o.placed_at.format("%-d %b %Y, %H:%M").to_string(),
        status: label(&o.status),
        total: contracts::money::display(o.totals.total, &o.totals.currency),
    }
}
