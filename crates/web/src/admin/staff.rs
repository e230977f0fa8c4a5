//! Staff accounts, for admins: the list (a page at a time, with the API's cursor), a new
//! member, and on a member's page a new role, a new password and disabling. Every
//! change goes through the identity service's `/api/v1/staff`, which allows it to
//! admins only and ends the member's sessions when their role or password changes; a
//! refusal (the bootstrap admin stays an admin and cannot be disabled, nobody disables
//! themselves) is shown in the API's own words.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use contracts::claims::StaffRole;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminLayout, DoneQuery, failure, sign_in_first};
use crate::WebState;
use crate::api::{FieldError, Problem};
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

/// Members per page of the list (the API's default page).
const PAGE_SIZE: u32 = 20;

/// A staff account as the API gives it.
#[derive(Clone, Deserialize)]
struct ApiMember {
    id: String,
    email: String,
    name: String,
    role: StaffRole,
    /// The first admin, made when the shop was set up.
    is_bootstrap: bool,
    disabled: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

#[derive(Deserialize)]
struct ApiPage {
    items: Vec<ApiMember>,
    next_cursor: Option<String>,
}

/// A member as a row of the list shows them.
pub struct Row {
    pub url: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub is_bootstrap: bool,
    pub disabled: bool,
    pub since: String,
}

/// A role to choose in a form.
pub struct RoleChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn role_choices(selected: &str) -> Vec<RoleChoice> {
    [
        ("admin", "Admin: everything, staff accounts too"),
        (
            "inventory",
            "Inventory: products, stock, categories and shipping orders",
        ),
        ("finance", "Finance: refunds"),
    ]
    .into_iter()
    .map(|(value, label)| RoleChoice {
        value,
        label,
        selected: value == selected,
    })
    .collect()
}

fn since(at: &DateTime<Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

/// What the new-member form holds: what the admin typed, but never the password.
#[derive(Default)]
pub struct Draft {
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct ListPage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    rows: Vec<Row>,
    /// The next page's address, when there is one.
    next: Option<String>,
    /// Whether this is a later page (then the list links back to the first).
    later: bool,
    draft: Draft,
    roles: Vec<RoleChoice>,
}

#[derive(Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    cursor: String,
}

fn done_text(done: &str) -> Option<String> {
    let text = match done {
        "created" => "The staff member is created. Give them their password in person.",
        "role" => "The role is changed; the member signs in again to use it.",
        "password" => "The password is reset; the member signs in again with it.",
        "disabled" => "The member is disabled: they can no longer sign in.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/staff");
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let notice = done_text(&q.done);
    let shown = Listed {
        cursor: q.cursor,
        notice,
        form: Form::default(),
        draft: Draft::default(),
    };
    show_list(&web, &staff, shown, StatusCode::OK).await
}

struct Listed {
    cursor: String,
    notice: Option<String>,
    form: Form,
    draft: Draft,
}

async fn show_list(
    web: &WebState,
    staff: &StaffMember,
    shown: Listed,
    status: StatusCode,
) -> Response {
    let mut path = format!("/api/v1/staff?limit={PAGE_SIZE}");
    if !shown.cursor.is_empty() {
        path.push_str(&format!("&cursor={}", form_urlencoded(&shown.cursor)));
    }
    let page: ApiPage = match web.api.get(&staff.caller, &path).await {
        Ok(page) => page,
        Err(p) => return failure(web, staff, "/admin/staff", &p),
    };
    let rows = page
        .items
        .iter()
        .map(|m| Row {
            url: format!("/admin/staff/{}", m.id),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.as_str(),
            is_bootstrap: m.is_bootstrap,
            disabled: m.disabled,
            since: since(&m.created_at),
        })
        .collect();
    let next = page
        .next_cursor
        .map(|c| format!("/admin/staff?cursor={}", form_urlencoded(&c)));
    let roles = role_choices(&shown.draft.role);
    render_status(
        status,
        &ListPage {
            layout: AdminLayout::new(web, staff, "staff"),
            notice: shown.notice,
            form: shown.form,
            rows,
            next,
            later: !shown.cursor.is_empty(),
            draft: shown.draft,
            roles,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct NewMemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(f): Posted<NewMemberForm>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/staff");
    }
    // The password goes as typed: spaces may be part of it.
    let body = json!({
        "email": f.email.trim(),
        "name": f.name.trim(),
        "role": f.role,
        "password": f.password,
    });
    let answer = web
        .api
        .post::<_, Value>(&staff.caller, "/api/v1/staff", &body)
        .await;
    match answer {
        Ok(_) => Redirect::to("/admin/staff?done=created").into_response(),
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let shown = Listed {
                cursor: String::new(),
                notice: None,
                form: refused_new_member(&p),
                draft: Draft {
                    email: f.email,
                    name: f.name,
                    role: f.role,
                },
            };
            show_list(&web, &staff, shown, status).await
        }
        Err(p) => failure(&web, &staff, "/admin/staff", &p),
    }
}

/// The new-member form after the API refused it; an email already taken is said beside
/// the email field.
fn refused_new_member(p: &Problem) -> Form {
    if p.code == "email_taken" {
        return Form {
            problem: Some("Some fields need another look; each says what is wrong.".into()),
            errors: vec![FieldError {
                field: "email".into(),
                message: p.detail.clone(),
            }],
        };
    }
    Form::refused(p)
}

#[derive(Template)]
#[template(path = "admin/staff_member.html")]
struct MemberPage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    id: String,
    email: String,
    /// Not `name`: inside the field macro that word is the field's own name.
    member_name: String,
    role: &'static str,
    is_bootstrap: bool,
    disabled: bool,
    since: String,
    version: i64,
    roles: Vec<RoleChoice>,
}

/// The member's page: `form` says what the API refused, `role` is the role the form
/// shows chosen (the saved one, or the admin's choice the API refused).
fn show_member(
    web: &WebState,
    staff: &StaffMember,
    m: &ApiMember,
    notice: Option<String>,
    form: Form,
    role: &str,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &MemberPage {
            layout: AdminLayout::new(web, staff, "staff"),
            notice,
            form,
            id: m.id.clone(),
            email: m.email.clone(),
            member_name: m.name.clone(),
            role: m.role.as_str(),
            is_bootstrap: m.is_bootstrap,
            disabled: m.disabled,
            since: since(&m.created_at),
            version: m.version,
            roles: role_choices(role),
        },
    )
}

async fn load(web: &WebState, staff: &StaffMember, id: &str) -> Result<ApiMember, Response> {
    let here = format!("/admin/staff/{id}");
    super::load_by_id(web, staff, &here, id, |id| format!("/api/v1/staff/{id}")).await
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let m = match load(&web, &staff, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let notice = query.ok().and_then(|Query(q)| done_text(&q.done));
    let role = m.role.as_str();
    show_member(
        &web,
        &staff,
        &m,
        notice,
        Form::default(),
        role,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub(super) struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    version: i64,
}

pub(super) async fn set_role(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<RoleForm>,
) -> Response {
    let m = match load(&web, &staff, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let body = json!({"role": f.role, "version": f.version});
    change(&web, &staff, &m, &body, "role", &f.role).await
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    version: i64,
}

pub(super) async fn reset_password(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<PasswordForm>,
) -> Response {
    let m = match load(&web, &staff, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let body = json!({"password": f.password, "version": f.version});
    change(&web, &staff, &m, &body, "password", m.role.as_str()).await
}

/// Sends one change of `m` (read just before) with the version the form was read at;
/// `role` is the role the page shows chosen if the API refuses.
async fn change(
    web: &WebState,
    staff: &StaffMember,
    m: &ApiMember,
    body: &Value,
    done: &str,
    role: &str,
) -> Response {
    let path = format!("/api/v1/staff/{}", m.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PATCH, &path, Some(body), &[])
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("/admin/staff/{}?done={done}", m.id)).into_response(),
        Err(p) if p.status == 412 => {
            // Changed meanwhile: the page shows the member as they are now, so the
            // admin decides again knowing it.
            let notice = Some(
                "Someone else changed this member while you were looking. The page shows them as they are now; make your change again if it is still needed."
                    .to_owned(),
            );
            let now = m.role.as_str();
            show_member(
                web,
                staff,
                m,
                notice,
                Form::default(),
                now,
                StatusCode::PRECONDITION_FAILED,
            )
        }
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            show_member(web, staff, m, None, Form::refused(&p), role, status)
        }
        Err(p) => failure(web, staff, &format!("/admin/staff/{}", m.id), &p),
    }
}

pub(super) async fn disable(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    let m = match load(&web, &staff, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let path = format!("/api/v1/staff/{}", m.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/staff/{}?done=disabled", m.id)).into_response(),
        Err(p) if p.status == 409 => {
            let said = Form::refused(&p).problem.unwrap_or_default();
            let why = match p.code.as_str() {
                "bootstrap_admin" => format!(
                    "{said} It is the admin account made when the shop was set up, so the shop always keeps one admin. If someone else may know its password, reset the password instead."
                ),
                "self_disable" => {
                    format!("{said} Another admin can disable it, if it is no longer needed.")
                }
                _ => said,
            };
            let form = Form {
                problem: Some(why),
                errors: Vec::new(),
            };
            let role = m.role.as_str();
            show_member(&web, &staff, &m, None, form, role, StatusCode::CONFLICT)
        }
        Err(p) => failure(&web, &staff, &format!("/admin/staff/{id}"), &p),
    }
}
