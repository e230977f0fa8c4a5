//! Staff sign in and out. The session is the browser's: no "remember me" for staff.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::security::proof;
use super::{AdminLayout, failure, safe_next};
use crate::WebState;
use crate::api::FieldError;
use crate::pages::render_status;
use crate::session::{self, CookieJar, StaffMember, Tokens};
use crate::view::Form;

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    layout: AdminLayout,
    form: Form,
    email: String,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(super) async fn form(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let next = query.map(|Query(q)| q.next).unwrap_or_default();
    if staff.signed_in() {
        return Redirect::to(&safe_next(&next)).into_response();
    }
    page(&web, &staff, Form::default(), "", &next, StatusCode::OK)
}

fn page(
    web: &WebState,
    staff: &StaffMember,
    form: Form,
    email: &str,
    next: &str,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &LoginPage {
            layout: AdminLayout::new(web, staff, "login"),
            form,
            email: email.to_owned(),
            next: next.to_owned(),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// The authenticator app's code or a recovery code, for members who set one up.
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn login(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(f): Posted<LoginForm>,
) -> Response {
    let mut body = json!({"email": f.email, "password": f.password});
    if !f.code.trim().is_empty()
        && let (Some(body), Some(proof)) = (body.as_object_mut(), proof(&f.code).as_object())
    {
        body.extend(proof.clone());
    }
    match web
        .api
        .post::<_, Tokens>(&staff.caller, "/api/v1/staff/auth/login", &body)
        .await
    {
        Ok(tokens) => {
            let mut jar = CookieJar::default();
            jar.sign_in(session::STAFF, &tokens, false, &web);
            let mut res = Redirect::to(&safe_next(&f.next)).into_response();
            jar.apply(&mut res);
            res
        }
        Err(p) if matches!(p.status, 401 | 422 | 429 | 503) => {
            let status = match p.status {
                429 | 503 => StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNAUTHORIZED),
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut form = Form::refused(&p);
            // A second factor missing or wrong is said beside its field.
            if matches!(p.code.as_str(), "totp_required" | "totp_invalid") {
                let message = if p.code == "totp_required" {
                    "enter the code from your authenticator app, or a recovery code"
                } else {
                    "is wrong, expired or already used"
                };
                form.problem = Some("Your account signs in with a second factor.".into());
                form.errors.push(FieldError {
                    field: "code".into(),
                    message: message.into(),
                });
            }
            page(&web, &staff, form, &f.email, &f.next, status)
        }
        Err(p) => failure(&web, &staff, "/admin/login", &p),
    }
}

pub(super) async fn logout(State(web): State<WebState>, staff: StaffMember) -> Response {
    if staff.signed_in() {
        // Ends the session at the API too, so the refresh token is worthless.
        let _ = web
            .api
            .call(
                &staff.caller,
                Method::POST,
                "/api/v1/staff/auth/logout",
                &json!({}),
            )
            .await;
    }
    let mut jar = CookieJar::default();
    jar.sign_out(session::STAFF, web.secure_cookies);
    let mut res = Redirect::to("/admin/login").into_response();
    jar.apply(&mut res);
    res
}
