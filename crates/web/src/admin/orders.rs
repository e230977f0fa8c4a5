//! One order for staff, with its lines, payment, shipment and timeline, and the actions
//! the member's role allows: fulfilment steps and cancelling (inventory), refunds in
//! full or part (finance). The list of orders is in `order_list`.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use contracts::claims::StaffRole;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdminLayout, DoneQuery, failure, parse_amount};
use crate::WebState;
use crate::api::Problem;
use crate::pages::orders::{ApiOrder, OrderLine, Step, address_lines, number};
use crate::pages::{form_key, render_status};
use crate::session::StaffMember;
use crate::view::Form;

/// A status as staff read it.
pub(super) fn label(status: &str) -> &'static str {
    match status {
        "pending" => "Reserving stock",
        "awaiting_payment" => "Awaiting payment",
        "paid" => "Paid: to fulfil",
        "processing" => "Being packed",
        "shipped" => "Shipped",
        "delivered" => "Delivered",
        "rejected" => "Rejected (out of stock)",
        "cancelled" => "Cancelled",
        "payment_failed" => "Payment failed",
        "refunded" => "Refunded",
        _ => "Unknown",
    }
}

/// The fulfilment step that follows `status`, if staff take it.
pub struct NextStep {
    pub status: &'static str,
    pub action: &'static str,
    pub needs_tracking: bool,
}

fn next_step(status: &str) -> Option<NextStep> {
    let (status, action) = match status {
        "paid" => ("processing", "Start packing"),
        "processing" => ("shipped", "Mark shipped"),
        "shipped" => ("delivered", "Mark delivered"),
        _ => return None,
    };
    Some(NextStep {
        status,
        action,
        needs_tracking: status == "shipped",
    })
}

/// What the staff member typed, kept when the API refused it.
#[derive(Default)]
pub struct Typed {
    pub tracking_number: String,
    pub reason: String,
    pub amount: String,
    pub refund_reason: String,
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct OrderPage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    typed: Typed,
    id: String,
    number: String,
    placed: String,
    status: &'static str,
    customer_id: String,
    lines: Vec<OrderLine>,
    subtotal: String,
    shipping: String,
    total: String,
    discount: Option<String>,
    refunded: Option<String>,
    address: Vec<String>,
    shipment: String,
    tracking: Option<String>,
    payment: Option<String>,
    timeline: Vec<Step>,
    version: i64,
    next_step: Option<NextStep>,
    can_cancel: bool,
    /// What may still be refunded, when the member may refund and something is left.
    refundable: Option<String>,
    currency: String,
    /// The refund form's idempotency key: a double click refunds once.
    key: String,
}

fn done_text(done: &str) -> Option<String> {
    let text = match done {
        "processing" => "The order is being packed.",
        "shipped" => "The order is marked shipped; the customer is told.",
        "delivered" => "The order is marked delivered.",
        "cancelled" => "The order is cancelled; a paid order is refunded in full.",
        "refund" => "The refund is on its way; the payment shows it once the provider confirms.",
        _ => return None,
    };
    Some(text.to_owned())
}

async fn load(web: &WebState, staff: &StaffMember, id: &str) -> Result<ApiOrder, Response> {
    let here = format!("/admin/orders/{id}");
    super::load_by_id(web, staff, &here, id, |id| format!("/api/v1/orders/{id}")).await
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    match load(&web, &staff, &id).await {
        Ok(o) => {
            let notice = query.ok().and_then(|Query(q)| done_text(&q.done));
            show(
                &web,
                &staff,
                &o,
                notice,
                Form::default(),
                Typed::default(),
                StatusCode::OK,
            )
        }
        Err(res) => res,
    }
}

fn show(
    web: &WebState,
    staff: &StaffMember,
    o: &ApiOrder,
    notice: Option<String>,
    form: Form,
    typed: Typed,
    status: StatusCode,
) -> Response {
    let currency = o.totals.currency.clone();
    let money = |v: i64| contracts::money::display(v, &currency);
    let may_fulfil = staff.may(StaffRole::Inventory);
    let left = o.totals.total - o.totals.refunded;
    let paid = o
        .payment
        .as_ref()
        .is_some_and(|p| matches!(p.status.as_str(), "succeeded" | "partially_refunded"));
    let shipment = o.shipping.as_ref().map_or_else(String::new, |s| {
        format!("{} ({})", s.carrier, s.service_code)
    });
    render_status(
        status,
        &OrderPage {
            layout: AdminLayout::new(web, staff, "orders"),
            notice,
            form,
            typed,
            id: o.id.clone(),
            number: number(&o.id),
            placed: o.placed_at.format("%-d %B %Y, %H:%M UTC").to_string(),
            status: label(&o.status),
            customer_id: o.customer_id.clone(),
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
            shipping: money(o.totals.shipping),
            total: money(o.totals.total),
            discount: o.discount_text(),
            refunded: (o.totals.refunded > 0).then(|| money(o.totals.refunded)),
            address: address_lines(&o.shipping_address),
            shipment,
            tracking: o.shipping.as_ref().and_then(|s| s.tracking_number.clone()),
            payment: o.payment.as_ref().map(|p| p.status.replace('_', " ")),
            timeline: o
                .timeline
                .iter()
                .map(|s| Step {
                    status: label(&s.status),
                    at: s.at.format("%-d %b %Y, %H:%M").to_string(),
                    note: s.note.clone().unwrap_or_default(),
                })
                .collect(),
            version: o.version,
            next_step: next_step(&o.status).filter(|_| may_fulfil),
            can_cancel: may_fulfil
                && matches!(
                    o.status.as_str(),
                    "pending" | "awaiting_payment" | "paid" | "processing"
                ),
            refundable: (staff.may(StaffRole::Finance) && paid && left > 0).then(|| money(left)),
            currency: o.totals.currency.clone(),
            key: uuid::Uuid::new_v4().to_string(),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    tracking_number: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: i64,
}

pub(super) async fn set_status(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<StatusForm>,
) -> Response {
    let o = match load(&web, &staff, &id).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    // Only what this change takes: a tracking number to ship, a reason to cancel.
    let mut body = Map::new();
    body.insert("status".into(), json!(f.status));
    body.insert("version".into(), json!(f.version));
    if f.status == "shipped" && !f.tracking_number.trim().is_empty() {
        body.insert("tracking_number".into(), json!(f.tracking_number.trim()));
    }
    if f.status == "cancelled" && !f.reason.trim().is_empty() {
        body.insert("reason".into(), json!(f.reason.trim()));
    }
    let path = format!("/api/v1/admin/orders/{}/status", o.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PATCH, &path, Some(&body), &[])
        .await;
    let typed = Typed {
        tracking_number: f.tracking_number,
        reason: f.reason,
        ..Typed::default()
    };
    after(&web, &staff, &o, answer.map(|_| ()), &f.status, typed).await
}

#[derive(Deserialize)]
pub(super) struct RefundForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    key: String,
}

pub(super) async fn refund(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<RefundForm>,
) -> Response {
    let o = match load(&web, &staff, &id).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    let typed = Typed {
        amount: f.amount.clone(),
        refund_reason: f.reason.clone(),
        ..Typed::default()
    };
    let Some(payment) = &o.payment else {
        let notice = Some("This order has no payment to refund.".to_owned());
        return show(
            &web,
            &staff,
            &o,
            notice,
            Form::default(),
            typed,
            StatusCode::CONFLICT,
        );
    };
    let amount = match parse_amount(&f.amount, &o.totals.currency) {
        Ok(amount) => amount,
        Err(message) => {
            let form = Form {
                problem: Some("The refund needs another look.".into()),
                errors: vec![crate::api::FieldError {
                    field: "amount".into(),
                    message,
                }],
            };
            return show(
                &web,
                &staff,
                &o,
                None,
                form,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let mut body = Map::new();
    if let Some(amount) = amount {
        body.insert("amount".into(), json!(amount));
    }
    if !f.reason.trim().is_empty() {
        body.insert("reason".into(), json!(f.reason.trim()));
    }
    let path = format!("/api/v1/admin/payments/{}/refund", payment.id);
    let key = form_key(&f.key);
    let answer = web
        .api
        .request::<_, Value>(
            &staff.caller,
            Method::POST,
            &path,
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await;
    after(&web, &staff, &o, answer.map(|_| ()), "refund", typed).await
}

/// The page after an action: back to the order with a notice when it was done; the
/// order as it is now when someone changed it first; the form again with the API's
/// words beside the fields it refused.
async fn after(
    web: &WebState,
    staff: &StaffMember,
    o: &ApiOrder,
    answer: Result<(), Problem>,
    done: &str,
    typed: Typed,
) -> Response {
    let here = format!("/admin/orders/{}", o.id);
    match answer {
        Ok(()) => Redirect::to(&format!("{here}?done={done}")).into_response(),
        Err(p) if matches!(p.status, 409 | 412 | 422) => {
            // Read again, so the page shows what is true now.
            let fresh = match load(web, staff, &o.id).await {
                Ok(fresh) => fresh,
                Err(res) => return res,
            };
            let (notice, form) = match p.status {
                422 => (None, Form::refused(&p)),
                409 if !p.detail.is_empty() => {
                    (Some(Form::refused(&p).problem.unwrap_or_default()), Form::default())
                }
                _ => (
                    Some("Someone else changed this order while you were looking. This is how it stands now; check it and try again.".to_owned()),
                    Form::default(),
                ),
            };
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::CONFLICT);
            show(web, staff, &fresh, notice, form, typed, status)
        }
        Err(p) => failure(web, staff, &here, &p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_take_the_fulfilment_steps_in_order() {
        let steps: Vec<_> = ["paid", "processing", "shipped"]
            .iter()
            .map(|s| next_step(s).map(|n| n.status))
            .collect();
        assert_eq!(
            steps,
            [Some("processing"), Some("shipped"), Some("delivered")]
        );
        assert!(next_step("awaiting_payment").is_none());
        assert!(next_step("delivered").is_none());
    }
}
