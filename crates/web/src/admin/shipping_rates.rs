//! A shipping zone's rates, for admins: per service level a carrier, a table of weight
//! brackets with their prices, a free-shipping threshold and the estimated days. Money
//! is typed in major units ("12.50") in the rate's currency.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::shipping::{ApiZone, ZoneForms, find_zone, show_zone};
use super::shipping_rate_form::{RateDraft, refused_locally};
use super::{AdminLayout, failure, not_found};
use crate::WebState;
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, weight};

#[derive(Clone, Deserialize)]
pub(super) struct ApiBracket {
    pub(super) up_to_grams: i64,
    pub(super) price: i64,
}

/// A rate as the API gives it.
#[derive(Clone, Deserialize)]
pub(super) struct ApiRate {
    pub(super) id: String,
    pub zone_id: String,
    pub(super) carrier: String,
    pub(super) service_code: String,
    pub(super) name: String,
    pub(super) currency: String,
    pub(super) brackets: Vec<ApiBracket>,
    pub(super) free_over: Option<i64>,
    pub(super) min_days: i32,
    pub(super) max_days: i32,
    pub(super) active: bool,
    pub(super) version: i64,
}

#[derive(Deserialize)]
struct Rates {
    items: Vec<ApiRate>,
}

/// Every rate, or one zone's.
pub(super) async fn rates(
    web: &WebState,
    staff: &StaffMember,
    zone_id: Option<&str>,
    here: &str,
) -> Result<Vec<ApiRate>, Response> {
    let path = match zone_id {
        Some(id) => format!("/api/v1/admin/shipping/rates?zone_id={id}"),
        None => "/api/v1/admin/shipping/rates".to_owned(),
    };
    web.api
        .get::<Rates>(&staff.caller, &path)
        .await
        .map(|r| r.items)
        .map_err(|p| failure(web, staff, here, &p))
}

/// A rate as the lists show it.
pub struct RateRow {
    pub id: String,
    pub service: String,
    pub code: String,
    pub carrier: String,
    /// ("up to 1 kg", "USD 5.00"), lightest first.
    pub brackets: Vec<(String, String)>,
    pub free_over: Option<String>,
    pub days: String,
    pub active: bool,
}

impl RateRow {
    pub(super) fn of(r: &ApiRate) -> Self {
        let money = |n: i64| contracts::money::display(n, &r.currency);
        Self {
            id: r.id.clone(),
            service: r.name.clone(),
            code: r.service_code.clone(),
            carrier: r.carrier.clone(),
            brackets: r
                .brackets
                .iter()
                .map(|b| (format!("up to {}", weight(b.up_to_grams)), money(b.price)))
                .collect(),
            free_over: r.free_over.map(money),
            days: format!("{}–{} days", r.min_days, r.max_days),
            active: r.active,
        }
    }
}

/// One row of the bracket table, as typed.
pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(zone_id): Path<String>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    let zone = match find_zone(&web, &staff, &zone_id).await {
        Ok(z) => z,
        Err(res) => return res,
    };
    let draft = RateDraft::posted(pairs);
    let refused = match draft.body(false) {
        Err(errors) => refused_locally(errors),
        Ok(mut body) => {
            body.insert("zone_id".into(), json!(zone.id));
            match web
                .api
                .post::<_, Value>(&staff.caller, "/api/v1/admin/shipping/rates", &body)
                .await
            {
                Ok(_) => {
                    let to = format!("/admin/shipping/zones/{}?done=rate-created", zone.id);
                    return Redirect::to(&to).into_response();
                }
                Err(p) if matches!(p.status, 409 | 422) => Form::refused(&p),
                Err(p) => {
                    let here = format!("/admin/shipping/zones/{}", zone.id);
                    return failure(&web, &staff, &here, &p);
                }
            }
        }
    };
    let forms = ZoneForms {
        draft,
        rate_form: refused,
        ..ZoneForms::saved(&zone)
    };
    show_zone(&web, &staff, &zone, forms, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Template)]
#[template(path = "admin/shipping_rate.html")]
struct RatePage {
    layout: AdminLayout,
    notice: Option<String>,
    zone_id: String,
    zone_name: String,
    id: String,
    title: String,
    rate_form: Form,
    draft: RateDraft,
}

#[expect(clippy::too_many_arguments, reason = "the page and what it holds")]
fn show_rate(
    web: &WebState,
    staff: &StaffMember,
    zone: &ApiZone,
    rate: &ApiRate,
    draft: RateDraft,
    rate_form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &RatePage {
            layout: AdminLayout::new(web, staff, "shipping"),
            notice,
            zone_id: zone.id.clone(),
            zone_name: zone.name.clone(),
            id: rate.id.clone(),
            title: rate.name.clone(),
            rate_form,
            draft,
        },
    )
}

/// The zone and its rate `rate_id`, or the page saying why not.
async fn find(
    web: &WebState,
    staff: &StaffMember,
    zone_id: &str,
    rate_id: &str,
) -> Result<(ApiZone, ApiRate), Response> {
    let zone = find_zone(web, staff, zone_id).await?;
    let here = format!("/admin/shipping/zones/{zone_id}/rates/{rate_id}");
    rates(web, staff, Some(&zone.id), &here)
        .await?
        .into_iter()
        .find(|r| r.id == rate_id)
        .map(|r| (zone, r))
        .ok_or_else(|| not_found(web, staff))
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path((zone_id, rate_id)): Path<(String, String)>,
) -> Response {
    match find(&web, &staff, &zone_id, &rate_id).await {
        Ok((zone, rate)) => {
            let draft = RateDraft::of(&rate);
            show_rate(
                &web,
                &staff,
                &zone,
                &rate,
                draft,
                Form::default(),
                None,
                StatusCode::OK,
            )
        }
        Err(res) => res,
    }
}

pub(super) async fn save(
    State(web): State<WebState>,
    staff: StaffMember,
    Path((zone_id, rate_id)): Path<(String, String)>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    let (zone, rate) = match find(&web, &staff, &zone_id, &rate_id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let draft = RateDraft::posted(pairs);
    let body = match draft.body(true) {
        Ok(body) => body,
        Err(errors) => {
            let form = refused_locally(errors);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show_rate(&web, &staff, &zone, &rate, draft, form, None, status);
        }
    };
    let path = format!("/api/v1/admin/shipping/rates/{}", rate.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PATCH, &path, Some(&body), &[])
        .await;
    match answer {
        Ok(_) => {
            let to = format!("/admin/shipping/zones/{}?done=rate-saved", zone.id);
            Redirect::to(&to).into_response()
        }
        Err(p) if matches!(p.status, 412 | 428) => {
            // Saved meanwhile: the edit stays, against the version now saved, and the
            // page says what the saved rate charges.
            let saved = RateRow::of(&rate);
            let table: Vec<String> = saved
                .brackets
                .iter()
                .map(|(up_to, price)| format!("{price} {up_to}"))
                .collect();
            let notice = format!(
                "Someone else saved this rate while you were editing (it is now \u{201c}{}\u{201d} by {}: {}). Your edit is still in the form; save again to keep it.",
                saved.service,
                saved.carrier,
                table.join(", ")
            );
            let draft = RateDraft {
                version: rate.version,
                ..draft
            };
            let status = StatusCode::PRECONDITION_FAILED;
            show_rate(
                &web,
                &staff,
                &zone,
                &rate,
                draft,
                Form::default(),
                Some(notice),
                status,
            )
        }
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            show_rate(
                &web,
                &staff,
                &zone,
                &rate,
                draft,
                Form::refused(&p),
                None,
                status,
            )
        }
        Err(p) => {
            let here = format!("/admin/shipping/zones/{zone_id}/rates/{rate_id}");
            failure(&web, &staff, &here, &p)
        }
    }
}

pub(super) async fn delete(
    State(web): State<WebState>,
    staff: StaffMember,
    Path((zone_id, rate_id)): Path<(String, String)>,
) -> Response {
    let (zone, rate) = match find(&web, &staff, &zone_id, &rate_id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let path = format!("/api/v1/admin/shipping/rates/{}", rate.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => {
            let to = format!("/admin/shipping/zones/{}?done=rate-deleted", zone.id);
            Redirect::to(&to).into_response()
        }
        Err(p) => {
            let here = format!("/admin/shipping/zones/{zone_id}/rates/{rate_id}");
            failure(&web, &staff, &here, &p)
        }
    }
}
