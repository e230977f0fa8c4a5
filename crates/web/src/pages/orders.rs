//! An order's page, its status that follows the saga by itself, and paying with the
//! sandbox provider's card form.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{failure_page, render, render_status};
use crate::WebState;
use crate::session::Visitor;
use crate::view::{Form, Layout};

/// An order as the API answers it (to its customer and to staff alike).
#[derive(Clone, Deserialize)]
pub(crate) struct ApiOrder {
    pub id: String,
    #[serde(default)]
    pub customer_id: String,
    pub status: String,
    #[serde(default)]
    pub lines: Vec<ApiOrderLine>,
    pub totals: ApiTotals,
    #[serde(default)]
    pub shipping_address: Value,
    #[serde(default)]
    pub shipping: Option<ApiShipment>,
    #[serde(default)]
    pub timeline: Vec<ApiStep>,
    pub payment: Option<ApiPayment>,
    #[serde(default)]
    pub discount_code: Option<String>,
    pub placed_at: DateTime<Utc>,
    #[serde(default)]
    pub version: i64,
}

#[derive(Clone, Deserialize)]
pub(crate) struct ApiOrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

#[derive(Clone, Deserialize)]
pub(crate) struct ApiTotals {
    pub subtotal: i64,
    #[serde(default)]
    pub discount: i64,
    pub shipping: i64,
    pub total: i64,
    #[serde(default)]
    pub refunded: i64,
    pub currency: String,
}

impl ApiOrder {
    /// What the discount code took off, as the totals show it: `-USD 3.50 (SPRING10)`.
    pub fn discount_text(&self) -> Option<String> {
        (self.totals.discount > 0).then(|| {
            let off = contracts::money::display(self.totals.discount, &self.totals.currency);
            match &self.discount_code {
                Some(code) => format!("-{off} ({code})"),
                None => format!("-{off}"),
            }
        })
    }
}

#[derive(Clone, Deserialize)]
pub(crate) struct ApiShipment {
    #[serde(default)]
    pub carrier: String,
    #[serde(default)]
    pub service_code: String,
    pub tracking_number: Option<String>,
}

#[derive(Clone, Deserialize)]
pub(crate) struct ApiStep {
    pub status: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Clone, Deserialize)]
pub(crate) struct ApiPayment {
    pub id: String,
    #[serde(default)]
    pub status: String,
    pub checkout_url: Option<String>,
}

/// The lines of a shipping address, as an envelope shows them.
pub(crate) fn address_lines(a: &Value) -> Vec<String> {
    let field = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
    [
        field("recipient_name"),
        field("line1"),
        field("line2"),
        format!("{} {}", field("postal_code"), field("city"))
            .trim()
            .to_owned(),
        field("region"),
        field("country"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

/// What an order's status means to its customer.
pub(super) fn status_text(status: &str) -> &'static str {
    match status {
        "pending" => "Placed: reserving your items…",
        "awaiting_payment" => "Waiting for your payment",
        "paid" => "Paid: we are preparing it",
        "processing" => "Being packed",
        "shipped" => "On its way",
        "delivered" => "Delivered",
        "rejected" => "Not placed: an item ran out before we could reserve it",
        "cancelled" => "Cancelled",
        "payment_failed" => "The payment failed",
        "refunded" => "Refunded",
        _ => "Updating…",
    }
}

/// The short number a customer quotes: the last 8 characters of the order's id.
pub(crate) fn number(id: &str) -> String {
    let skip = id.chars().count().saturating_sub(8);
    id.chars().skip(skip).collect()
}

/// Statuses that change by themselves (the saga or the provider moves them), so the
/// page keeps asking.
fn moving(status: &str) -> bool {
    matches!(status, "pending" | "awaiting_payment")
}

pub struct OrderLine {
    pub name: String,
    pub quantity: i64,
    pub unit_price: String,
    pub line_total: String,
}

pub struct Step {
    pub status: &'static str,
    pub at: String,
    pub note: String,
}

pub struct OrderStatus {
    pub id: String,
    /// The version shown, which the next long poll waits to change.
    pub version: i64,
    pub status: String,
    pub text: &'static str,
    pub moving: bool,
    /// The page where the customer pays, while payment is awaited.
    pub pay_url: Option<String>,
    pub failure: bool,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    number: String,
    placed: String,
    state: OrderStatus,
    lines: Vec<OrderLine>,
    subtotal: String,
    discount: Option<String>,
    shipping: String,
    total: String,
    refunded: Option<String>,
    address: Vec<String>,
    timeline: Vec<Step>,
    can_cancel: bool,
    /// A link to review each line, once the order is delivered.
    review_prompts: Vec<ReviewPrompt>,
}

pub struct ReviewPrompt {
    pub name: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "order_status.html")]
struct StatusFragment {
    state: OrderStatus,
}

fn state_of(o: &ApiOrder) -> OrderStatus {
    let pay_url = match (&o.payment, o.status.as_str()) {
        (Some(p), "awaiting_payment") if p.checkout_url.is_some() => {
            let url = p.checkout_url.clone().unwrap_or_default();
            // The sandbox pays on the shop's own page; a real provider at its own site.
            if url.contains("/sandbox/pay") {
                Some(format!("/pay/{}", p.id))
            } else {
                Some(url)
            }
        }
        _ => None,
    };
    OrderStatus {
        id: o.id.clone(),
        version: o.version,
        text: status_text(&o.status),
        moving: moving(&o.status),
        failure: matches!(o.status.as_str(), "payment_failed" | "rejected"),
        status: o.status.clone(),
        pay_url,
    }
}

async fn load(web: &WebState, visitor: &Visitor, id: &str) -> Result<ApiOrder, Response> {
    // Another customer's order is no page at all.
    super::own(web, visitor, &format!("/orders/{id}"), id, |id| {
        format!("/api/v1/orders/{id}")
    })
    .await
}

pub(super) async fn order(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let o = match load(&web, &visitor, &id).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    let money = |v: i64| contracts::money::display(v, &o.totals.currency);
    let address = address_lines(&o.shipping_address);
    render(&OrderPage {
        layout: Layout::for_visitor(&web, &visitor).await,
        number: number(&o.id),
        placed: o.placed_at.format("%-d %B %Y, %H:%M UTC").to_string(),
        state: state_of(&o),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLine {
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_price),
                line_total: money(l.line_total),
            })
            .collect(),
        subtotal: money(o.totals.subtotal),
        discount: o.discount_text(),
        shipping: money(o.totals.shipping),
        total: money(o.totals.total),
        refunded: (o.totals.refunded > 0).then(|| money(o.totals.refunded)),
        address,
        timeline: o
            .timeline
            .iter()
            .map(|s| Step {
                status: status_text(&s.status),
                at: s.at.format("%-d %b %Y, %H:%M").to_string(),
                note: s.note.clone().unwrap_or_default(),
            })
            .collect(),
        review_prompts: if o.status == "delivered" {
            o.lines
                .iter()
                .map(|l| ReviewPrompt {
                    name: l.name.clone(),
                    url: format!("/reviews/new?product={}", l.product_id),
                })
                .collect()
        } else {
            Vec::new()
        },
        can_cancel: matches!(
            o.status.as_str(),
            "pending" | "awaiting_payment" | "paid" | "processing"
        ),
    })
}

/// How long the status block's long poll waits for the order to move before it answers
/// the status unchanged (and htmx asks again); within the API client's own timeout.
const STATUS_WAIT_MS: u32 = 10_000;

#[derive(Deserialize)]
pub(super) struct StatusQuery {
    /// The version the page shows: answer once the order has moved past it.
    after: Option<i64>,
}

/// The status block alone. While the order is moving, the block asks for itself again
/// as soon as it is shown, with the version it shows; the API answers that long poll
/// when the saga moves the order (or after [`STATUS_WAIT_MS`]), so the page follows
/// the order without a timer and stops asking once the status settles.
pub(super) async fn status(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
    query: Result<Query<StatusQuery>, QueryRejection>,
) -> Response {
    let after = query.ok().and_then(|Query(q)| q.after).filter(|v| *v >= 0);
    let order = super::own(
        &web,
        &visitor,
        &format!("/orders/{id}"),
        &id,
        |id| match after {
            Some(v) => {
                format!("/api/v1/orders/{id}?wait_for_change_from={v}&timeout_ms={STATUS_WAIT_MS}")
            }
            None => format!("/api/v1/orders/{id}"),
        },
    )
    .await;
    match order {
        Ok(o) => render(&StatusFragment {
            state: state_of(&o),
        }),
        Err(res) => res,
    }
}

pub(super) async fn cancel(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let o = match load(&web, &visitor, &id).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    match web
        .api
        .call(
            &visitor.caller,
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", o.id),
            &json!({}),
        )
        .await
    {
        Ok(()) | Err(_) => Redirect::to(&format!("/orders/{}", o.id)).into_response(),
    }
}

#[derive(Deserialize)]
struct ApiPaymentView {
    id: String,
    order_id: String,
    status: String,
    amount: i64,
    currency: String,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    layout: Layout,
    payment_id: String,
    order_id: String,
    amount: String,
    key: String,
    form: Form,
}

async fn payment(web: &WebState, visitor: &Visitor, id: &str) -> Result<ApiPaymentView, Response> {
    super::own(web, visitor, &format!("/pay/{id}"), id, |id| {
        format!("/api/v1/payments/{id}")
    })
    .await
}

async fn pay_page(
    web: &WebState,
    visitor: &Visitor,
    p: &ApiPaymentView,
    form: Form,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &PayPage {
            layout: Layout::for_visitor(web, visitor).await,
            payment_id: p.id.clone(),
            order_id: p.order_id.clone(),
            amount: contracts::money::display(p.amount, &p.currency),
            key: uuid::Uuid::new_v4().to_string(),
            form,
        },
    )
}

/// The sandbox provider's card form.
pub(super) async fn pay_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    match payment(&web, &visitor, &id).await {
        Ok(p) if p.status == "requires_payment" => {
            pay_page(&web, &visitor, &p, Form::default(), StatusCode::OK).await
        }
        Ok(p) => Redirect::to(&format!("/orders/{}", p.order_id)).into_response(),
        Err(res) => res,
    }
}

#[derive(Deserialize)]
pub(super) struct CardForm {
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    key: String,
}

/// `MM/YY` or `MM/YYYY` as (month, year); 0s when it does not read, for the API to name.
fn expiry(raw: &str) -> (i64, i64) {
    let (m, y) = raw.trim().split_once('/').unwrap_or((raw, ""));
    let month = m.trim().parse().unwrap_or(0);
    let year: i64 = y.trim().parse().unwrap_or(0);
    (
        month,
        if (0..100).contains(&year) && !y.trim().is_empty() {
            2000 + year
        } else {
            year
        },
    )
}

pub(super) async fn pay(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Posted(f): Posted<CardForm>,
) -> Response {
    let p = match payment(&web, &visitor, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let (month, year) = expiry(&f.expiry);
    let body = json!({"card_number": f.card_number.replace([' ', '-'], ""), "exp_month": month, "exp_year": year, "cvc": f.cvc.trim()});
    let key = super::form_key(&f.key);
    match web
        .api
        .request::<_, Value>(
            &visitor.caller,
            Method::POST,
            &format!("/api/v1/payments/{}/sandbox/pay", p.id),
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/orders/{}", p.order_id)).into_response(),
        Err(problem) if problem.is(422) => {
            let mut form = Form::refused(&problem);
            // The page asks for the expiry as one field.
            for e in &mut form.errors {
                if e.field == "exp_month" || e.field == "exp_year" {
                    e.field = "expiry".into();
                }
            }
            pay_page(&web, &visitor, &p, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(problem) if problem.is(409) => {
            Redirect::to(&format!("/orders/{}", p.order_id)).into_response()
        }
        Err(problem) => failure_page(&web, &visitor, &problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_reads_two_or_four_digit_years() {
        assert_eq!(expiry("12/30"), (12, 2030));
        assert_eq!(expiry(" 1 / 2031 "), (1, 2031));
        assert_eq!(expiry("soon"), (0, 0));
    }
}
