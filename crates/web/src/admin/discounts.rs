//! Discount codes for finance staff and admins: the live codes, newest first and paged,
//! with what each takes off, its window and its uses; a form to set one up below them;
//! a code's own page to edit it (against the version read) or delete it. Money is typed
//! in major units of the code's currency, times in UTC. The form is in `discount_form`.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::discount_form::{ApiDiscount, DiscountDraft, refused, status_of};
use super::products::{CategoryChoice, categories};
use super::shipping_rate_form::refused_locally;
use super::{AdminLayout, DoneQuery, failure, sign_in_first};
use crate::WebState;
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

const HERE: &str = "/admin/discounts";
/// Codes per page of the list.
const PAGE: u32 = 25;

#[derive(Deserialize)]
struct ApiDiscounts {
    items: Vec<ApiDiscount>,
    next_cursor: Option<String>,
}

/// A code as the list and its page show it.
pub struct DiscountRow {
    pub url: String,
    pub code: String,
    /// "10 %", "USD 5.00", "Free shipping".
    pub takes_off: String,
    /// The minimum, the carts' currency, what it is limited to; empty for none.
    pub conditions: String,
    pub window: String,
    /// "3 of 10", "3 (no limit)", and the limit per customer.
    pub uses: String,
    pub active: bool,
}

fn moment(at: &DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M UTC").to_string()
}

/// "2 categories", "1 product".
fn counted(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl DiscountRow {
    fn of(d: &ApiDiscount) -> Self {
        let currency = d.currency.as_deref().unwrap_or_default();
        let money = |n: i64| contracts::money::display(n, currency);
        let takes_off = match (d.kind.as_str(), d.percent, d.amount) {
            ("percentage", Some(p), _) => format!("{p} %"),
            ("fixed_amount", _, Some(a)) => money(a),
            ("free_shipping", _, _) => "Free shipping".into(),
            _ => d.kind.clone(),
        };
        let mut conditions = Vec::new();
        if let Some(m) = d.min_subtotal {
            conditions.push(format!("on goods of {} or more", money(m)));
        } else if !currency.is_empty() && d.kind != "fixed_amount" {
            conditions.push(format!("carts in {currency} only"));
        }
        let scope = &d.applies_to;
        let mut only = Vec::new();
        if !scope.category_ids.is_empty() {
            only.push(counted(scope.category_ids.len(), "category"));
        }
        if !scope.product_ids.is_empty() {
            only.push(counted(scope.product_ids.len(), "product"));
        }
        if !only.is_empty() {
            conditions.push(format!("only {}", only.join(" and ")));
        }
        let window = match (&d.starts_at, &d.ends_at) {
            (None, None) => "Always".to_owned(),
            (Some(from), None) => format!("From {}", moment(from)),
            (None, Some(to)) => format!("Until {}", moment(to)),
            (Some(from), Some(to)) => format!("{} until {}", moment(from), moment(to)),
        };
        let mut uses = match d.usage_limit {
            Some(limit) => format!("{} of {limit}", d.times_used),
            None => format!("{} (no limit)", d.times_used),
        };
        if let Some(each) = d.per_customer_limit {
            uses.push_str(&format!(", {each} per customer"));
        }
        Self {
            url: format!("{HERE}/{}", d.id),
            code: d.code.clone(),
            takes_off,
            conditions: conditions.join("; "),
            window,
            uses,
            active: d.active,
        }
    }
}

/// The categories to tick: the tree, and any the code holds that the tree no longer
/// has (kept, so that saving does not drop them unseen).
async fn category_choices(
    web: &WebState,
    staff: &StaffMember,
    draft: &DiscountDraft,
) -> Vec<CategoryChoice> {
    let mut choices = categories(web, staff, &draft.category_ids).await;
    for id in &draft.category_ids {
        if !choices.iter().any(|c| &c.id == id) {
            choices.push(CategoryChoice {
                id: id.clone(),
                label: format!("A category not in the tree ({id})"),
                checked: true,
            });
        }
    }
    choices
}

#[derive(Template)]
#[template(path = "admin/discounts.html")]
struct ListPage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    rows: Vec<DiscountRow>,
    next: Option<String>,
    /// Whether this is a later page (offering the way back to the first).
    later: bool,
    /// The new-code form.
    form: Form,
    draft: DiscountDraft,
    categories: Vec<CategoryChoice>,
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    done: String,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let (cursor, done) = query.map(|Query(q)| (q.cursor, q.done)).unwrap_or_default();
    let notice = match done.as_str() {
        "created" => Some("The code is set up."),
        "deleted" => Some(
            "The code is deleted: it no longer applies, and orders placed with it keep what it took off.",
        ),
        _ => None,
    };
    let draft = DiscountDraft::new();
    show_list(
        &web,
        &staff,
        &cursor,
        notice,
        Form::default(),
        draft,
        StatusCode::OK,
    )
    .await
}

async fn show_list(
    web: &WebState,
    staff: &StaffMember,
    cursor: &str,
    notice: Option<&'static str>,
    form: Form,
    draft: DiscountDraft,
    status: StatusCode,
) -> Response {
    let mut path = format!("/api/v1/admin/discounts?limit={PAGE}");
    if !cursor.is_empty() {
        path.push_str(&format!("&cursor={}", form_urlencoded(cursor)));
    }
    let page = match web.api.get::<ApiDiscounts>(&staff.caller, &path).await {
        Ok(page) => page,
        // A cursor the API cannot read (mistyped, or from an older release): the start.
        Err(p) if p.is(422) && !cursor.is_empty() => return Redirect::to(HERE).into_response(),
        Err(p) => return failure(web, staff, HERE, &p),
    };
    let next = page
        .next_cursor
        .map(|c| format!("{HERE}?cursor={}", form_urlencoded(&c)));
    let categories = category_choices(web, staff, &draft).await;
    render_status(
        status,
        &ListPage {
            layout: AdminLayout::new(web, staff, "discounts"),
            notice,
            rows: page.items.iter().map(DiscountRow::of).collect(),
            next,
            later: !cursor.is_empty(),
            form,
            draft,
            categories,
        },
    )
}

pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let draft = DiscountDraft::posted(pairs);
    let (form, status) = match draft.body(false) {
        Err(errors) => (refused_locally(errors), StatusCode::UNPROCESSABLE_ENTITY),
        Ok(body) => match web
            .api
            .post::<_, Value>(&staff.caller, "/api/v1/admin/discounts", &body)
            .await
        {
            Ok(_) => return Redirect::to(&format!("{HERE}?done=created")).into_response(),
            Err(p) if matches!(p.status, 409 | 422) => (refused(&p), status_of(&p)),
            Err(p) => return failure(&web, &staff, HERE, &p),
        },
    };
    show_list(&web, &staff, "", None, form, draft, status).await
}

#[derive(Template)]
#[template(path = "admin/discount.html")]
struct CodePage {
    layout: AdminLayout,
    notice: Option<String>,
    id: String,
    /// The code as saved (the form may hold an edit).
    saved: DiscountRow,
    form: Form,
    draft: DiscountDraft,
    categories: Vec<CategoryChoice>,
}

/// What a code's page holds besides the saved code: its form (saved or typed), the
/// answer to it, a notice.
struct Shown(DiscountDraft, Form, Option<String>);

async fn show_code(
    web: &WebState,
    staff: &StaffMember,
    saved: &ApiDiscount,
    Shown(draft, form, notice): Shown,
    status: StatusCode,
) -> Response {
    let categories = category_choices(web, staff, &draft).await;
    render_status(
        status,
        &CodePage {
            layout: AdminLayout::new(web, staff, "discounts"),
            notice,
            id: saved.id.clone(),
            saved: DiscountRow::of(saved),
            form,
            draft,
            categories,
        },
    )
}

/// The code `id`, or the page saying why not.
async fn load(web: &WebState, staff: &StaffMember, id: &str) -> Result<ApiDiscount, Response> {
    let here = format!("{HERE}/{id}");
    super::load_by_id(web, staff, &here, id, |id| {
        format!("/api/v1/admin/discounts/{id}")
    })
    .await
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(d) => d,
        Err(res) => return res,
    };
    let done = query.map(|Query(q)| q.done).unwrap_or_default();
    let notice = (done == "saved").then(|| "Saved.".to_owned());
    let shown = Shown(DiscountDraft::of(&saved), Form::default(), notice);
    show_code(&web, &staff, &saved, shown, StatusCode::OK).await
}

pub(super) async fn save(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(d) => d,
        Err(res) => return res,
    };
    let draft = DiscountDraft::posted(pairs);
    let body = match draft.body(true) {
        Ok(body) => body,
        Err(errors) => {
            let shown = Shown(draft, refused_locally(errors), None);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show_code(&web, &staff, &saved, shown, status).await;
        }
    };
    let path = format!("/api/v1/admin/discounts/{}", saved.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PATCH, &path, Some(&body), &[])
        .await;
    let (shown, status) = match answer {
        Ok(_) => {
            return Redirect::to(&format!("{HERE}/{}?done=saved", saved.id)).into_response();
        }
        Err(p) if matches!(p.status, 412 | 428) => {
            // Saved meanwhile: the edit stays, against the version now saved, and the
            // page says what the saved code is.
            let now = DiscountRow::of(&saved);
            let notice = format!(
                "Someone else saved this code while you were editing (it is now \u{201c}{}\u{201d}, taking off {}, {}, used {}). Your edit is still in the form; save again to keep it.",
                now.code,
                now.takes_off,
                if now.active { "active" } else { "inactive" },
                now.uses,
            );
            let draft = DiscountDraft {
                version: saved.version,
                ..draft
            };
            let shown = Shown(draft, Form::default(), Some(notice));
            (shown, StatusCode::PRECONDITION_FAILED)
        }
        Err(p) if matches!(p.status, 409 | 422) => (Shown(draft, refused(&p), None), status_of(&p)),
        Err(p) => return failure(&web, &staff, &format!("{HERE}/{id}"), &p),
    };
    show_code(&web, &staff, &saved, shown, status).await
}

pub(super) async fn delete(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(d) => d,
        Err(res) => return res,
    };
    let path = format!("/api/v1/admin/discounts/{}", saved.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("{HERE}?done=deleted")).into_response(),
        Err(p) => failure(&web, &staff, &format!("{HERE}/{id}"), &p),
    }
}
