//! Shipping for admins: the zones the shop ships to (a country, or the postal codes of
//! a country starting with some prefixes), each with its rates, and a quote preview
//! that asks the public quote API what a shopper would be offered. The rates
//! themselves are in `shipping_rates`.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::shipping_quote::{ListQuery, Preview, preview};
use super::shipping_rate_form::RateDraft;
use super::shipping_rates::RateRow;
use super::{AdminLayout, failure, not_found, sign_in_first};
use crate::WebState;
use crate::api::{FieldError, Problem};
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::Form;

const HERE: &str = "/admin/shipping";

/// A zone as the API gives it.
#[derive(Clone, Deserialize)]
pub(super) struct ApiZone {
    pub id: String,
    pub name: String,
    pub country: String,
    #[serde(default)]
    pub postal_prefixes: Vec<String>,
    pub version: i64,
}

#[derive(Deserialize)]
struct Zones {
    items: Vec<ApiZone>,
}

/// Every zone (the API has no single-zone read; a shop has at most 500).
async fn zones(web: &WebState, staff: &StaffMember, here: &str) -> Result<Vec<ApiZone>, Response> {
    web.api
        .get::<Zones>(&staff.caller, "/api/v1/admin/shipping/zones")
        .await
        .map(|z| z.items)
        .map_err(|p| failure(web, staff, here, &p))
}

/// The zone `id`, or the page saying why there is none.
pub(super) async fn find_zone(
    web: &WebState,
    staff: &StaffMember,
    id: &str,
) -> Result<ApiZone, Response> {
    let here = format!("{HERE}/zones/{id}");
    if !staff.signed_in() {
        return Err(sign_in_first(&here));
    }
    zones(web, staff, &here)
        .await?
        .into_iter()
        .find(|z| z.id == id)
        .ok_or_else(|| not_found(web, staff))
}

/// "995, 996" or, with none, the whole country.
fn prefixes_text(z: &ApiZone) -> String {
    if z.postal_prefixes.is_empty() {
        "the whole country".into()
    } else {
        format!("postal codes starting {}", z.postal_prefixes.join(", "))
    }
}

/// A zone on the list, with its rates under it.
pub struct ZoneEntry {
    pub id: String,
    pub name: String,
    pub country: String,
    pub covers: String,
    pub rates: Vec<RateRow>,
}

/// What the zone forms hold (the typed text, kept when the API refuses it).
#[derive(Default, Deserialize)]
pub(super) struct ZoneForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    postal_prefixes: String,
    #[serde(default)]
    version: i64,
}

impl ZoneForm {
    fn of(z: &ApiZone) -> Self {
        Self {
            name: z.name.clone(),
            country: z.country.clone(),
            postal_prefixes: z.postal_prefixes.join(", "),
            version: z.version,
        }
    }

    /// The typed prefixes, split at commas and spaces.
    fn prefixes(&self) -> Vec<&str> {
        self.postal_prefixes
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect()
    }

    fn body(&self, editing: bool) -> Value {
        let mut body = json!({
            "name": self.name.trim(),
            "country": self.country.trim(),
            "postal_prefixes": self.prefixes(),
        });
        if editing {
            body["version"] = json!(self.version);
        }
        body
    }

    /// The API's refusal with `postal_prefixes[2]` told beside the one prefix field,
    /// naming the prefix it is about.
    fn refused(&self, p: &Problem) -> Form {
        let typed = self.prefixes();
        let mut form = Form::refused(p);
        let mut prefix_errors = Vec::new();
        form.errors.retain(|e| {
            let Some(i) = e
                .field
                .strip_prefix("postal_prefixes[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok())
            else {
                return true;
            };
            let raw = typed.get(i).copied().unwrap_or_default();
            prefix_errors.push(format!("\u{201c}{raw}\u{201d} {}", e.message));
            false
        });
        if !prefix_errors.is_empty() {
            form.errors.push(FieldError {
                field: "postal_prefixes".into(),
                message: prefix_errors.join("; "),
            });
        }
        form
    }
}

#[derive(Template)]
#[template(path = "admin/shipping.html")]
struct ShippingPage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    zones: Vec<ZoneEntry>,
    /// The new-zone form.
    form: Form,
    draft: ZoneForm,
    preview: Preview,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let notice = match q.done.as_str() {
        "deleted" => Some("The zone is deleted."),
        _ => None,
    };
    show_list(
        &web,
        &staff,
        &q,
        notice,
        Form::default(),
        ZoneForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn show_list(
    web: &WebState,
    staff: &StaffMember,
    q: &ListQuery,
    notice: Option<&'static str>,
    form: Form,
    draft: ZoneForm,
    status: StatusCode,
) -> Response {
    let all = match zones(web, staff, HERE).await {
        Ok(all) => all,
        Err(res) => return res,
    };
    let rates = match super::shipping_rates::rates(web, staff, None, HERE).await {
        Ok(rates) => rates,
        Err(res) => return res,
    };
    let zones = all
        .iter()
        .map(|z| ZoneEntry {
            id: z.id.clone(),
            name: z.name.clone(),
            country: z.country.clone(),
            covers: prefixes_text(z),
            rates: rates
                .iter()
                .filter(|r| r.zone_id == z.id)
                .map(RateRow::of)
                .collect(),
        })
        .collect();
    let preview = preview(web, staff, q).await;
    render_status(
        status,
        &ShippingPage {
            layout: AdminLayout::new(web, staff, "shipping"),
            notice,
            zones,
            form,
            draft,
            preview,
        },
    )
}

pub(super) async fn create_zone(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(f): Posted<ZoneForm>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let answer = web
        .api
        .post::<_, ApiZone>(
            &staff.caller,
            "/api/v1/admin/shipping/zones",
            &f.body(false),
        )
        .await;
    match answer {
        Ok(z) => Redirect::to(&format!("{HERE}/zones/{}?done=created", z.id)).into_response(),
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let form = f.refused(&p);
            show_list(&web, &staff, &ListQuery::default(), None, form, f, status).await
        }
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

#[derive(Template)]
#[template(path = "admin/shipping_zone.html")]
struct ZonePage {
    layout: AdminLayout,
    notice: Option<String>,
    id: String,
    /// The zone's saved name, for the title (the form may hold an edit).
    title: String,
    /// The zone form and the delete button's answer.
    form: Form,
    zone: ZoneForm,
    rates: Vec<RateRow>,
    /// The new-rate form.
    rate_form: Form,
    draft: RateDraft,
}

/// What the zone's page holds besides the zone: its form (saved or typed) and the
/// answer to it or to the delete button, the new-rate form and its answer, a notice.
pub(super) struct ZoneForms {
    pub zone: ZoneForm,
    pub form: Form,
    pub draft: RateDraft,
    pub rate_form: Form,
    pub notice: Option<String>,
}

impl ZoneForms {
    /// The saved zone in its form, the new-rate form empty.
    pub(super) fn saved(z: &ApiZone) -> Self {
        Self {
            zone: ZoneForm::of(z),
            form: Form::default(),
            draft: RateDraft::new(),
            rate_form: Form::default(),
            notice: None,
        }
    }
}

/// The zone's page: its form, its rates, and the new-rate form.
pub(super) async fn show_zone(
    web: &WebState,
    staff: &StaffMember,
    saved: &ApiZone,
    forms: ZoneForms,
    status: StatusCode,
) -> Response {
    let here = format!("{HERE}/zones/{}", saved.id);
    let rates = match super::shipping_rates::rates(web, staff, Some(&saved.id), &here).await {
        Ok(rates) => rates,
        Err(res) => return res,
    };
    render_status(
        status,
        &ZonePage {
            layout: AdminLayout::new(web, staff, "shipping"),
            notice: forms.notice,
            id: saved.id.clone(),
            title: saved.name.clone(),
            form: forms.form,
            zone: forms.zone,
            rates: rates.iter().map(RateRow::of).collect(),
            rate_form: forms.rate_form,
            draft: forms.draft,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct ZoneDone {
    #[serde(default)]
    done: String,
}

pub(super) async fn zone(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<ZoneDone>, QueryRejection>,
) -> Response {
    let saved = match find_zone(&web, &staff, &id).await {
        Ok(z) => z,
        Err(res) => return res,
    };
    let done = query.map(|Query(q)| q.done).unwrap_or_default();
    let notice = match done.as_str() {
        "created" => Some("The zone is added. Give it a rate below so that it is offered."),
        "saved" => Some("Saved."),
        "rate-created" => Some("The rate is added."),
        "rate-saved" => Some("The rate is saved."),
        "rate-deleted" => Some("The rate is deleted."),
        _ => None,
    };
    let forms = ZoneForms {
        notice: notice.map(str::to_owned),
        ..ZoneForms::saved(&saved)
    };
    show_zone(&web, &staff, &saved, forms, StatusCode::OK).await
}

pub(super) async fn save_zone(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<ZoneForm>,
) -> Response {
    let saved = match find_zone(&web, &staff, &id).await {
        Ok(z) => z,
        Err(res) => return res,
    };
    let path = format!("/api/v1/admin/shipping/zones/{}", saved.id);
    let answer = web
        .api
        .request::<_, Value>(
            &staff.caller,
            Method::PATCH,
            &path,
            Some(&f.body(true)),
            &[],
        )
        .await;
    let (zone, form, notice, status) = match answer {
        Ok(_) => {
            return Redirect::to(&format!("{HERE}/zones/{}?done=saved", saved.id)).into_response();
        }
        Err(p) if matches!(p.status, 412 | 428) => {
            // Saved meanwhile: the member's edit stays, now against the version saved,
            // and the page says what the zone is now.
            let notice = format!(
                "Someone else saved this zone while you were editing (it is now \u{201c}{}\u{201d} in {}, {}). Your edit is still in the form; save again to keep it.",
                saved.name,
                saved.country,
                prefixes_text(&saved)
            );
            let zone = ZoneForm {
                version: saved.version,
                ..f
            };
            (
                zone,
                Form::default(),
                Some(notice),
                StatusCode::PRECONDITION_FAILED,
            )
        }
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let form = f.refused(&p);
            (f, form, None, status)
        }
        Err(p) => return failure(&web, &staff, &format!("{HERE}/zones/{id}"), &p),
    };
    let forms = ZoneForms {
        zone,
        form,
        notice,
        ..ZoneForms::saved(&saved)
    };
    show_zone(&web, &staff, &saved, forms, status).await
}

pub(super) async fn delete_zone(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    let saved = match find_zone(&web, &staff, &id).await {
        Ok(z) => z,
        Err(res) => return res,
    };
    let path = format!("/api/v1/admin/shipping/zones/{}", saved.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("{HERE}?done=deleted")).into_response(),
        Err(p) if p.status == 409 => {
            let why = if p.code == "zone_has_rates" {
                "This zone cannot be deleted yet: it still has rates. Delete its rates below first (checkout then stops offering shipping there).".to_owned()
            } else {
                Form::refused(&p).problem.unwrap_or_default()
            };
            let form = Form {
                problem: Some(why),
                errors: Vec::new(),
            };
            let forms = ZoneForms {
                form,
                ..ZoneForms::saved(&saved)
            };
            show_zone(&web, &staff, &saved, forms, StatusCode::CONFLICT).await
        }
        Err(p) => failure(&web, &staff, &format!("{HERE}/zones/{id}"), &p),
    }
}
