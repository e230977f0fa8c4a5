//! The signed-in customer's account: the overview, their name and email, and their
//! password. Every page sends a visitor to sign in first, and back.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::account::{FormPage, Notice, PageLink, blank, input, refused};
use super::purchase::sign_in_first;
use super::{failure_page, render};
use crate::WebState;
use crate::session::Visitor;
use crate::view::Layout;

#[derive(Deserialize)]
struct Me {
    name: String,
    email: String,
    email_verified: bool,
    #[serde(default)]
    pending_email: Option<String>,
}

/// The profile, or the response that answers instead (sign in first, a failure page).
async fn me(web: &WebState, visitor: &Visitor, here: &str) -> Result<Me, Response> {
    if !visitor.signed_in {
        return Err(sign_in_first(here));
    }
    match web.api.get::<Me>(&visitor.caller, "/api/v1/me").await {
        Ok(me) => Ok(me),
        Err(p) if p.is(401) || p.is(403) => Err(sign_in_first(here)),
        Err(p) => Err(failure_page(web, visitor, &p)),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView {
    layout: Layout,
    name: String,
    email: String,
    verified: bool,
    just_verified: bool,
}

#[derive(Default, Deserialize)]
pub(super) struct Flags {
    #[serde(default)]
    verified: String,
    #[serde(default)]
    saved: String,
}

pub(super) async fn account(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<Flags>,
) -> Response {
    let me = match me(&web, &visitor, "/account").await {
        Ok(me) => me,
        Err(res) => return res,
    };
    render(&AccountView {
        layout: Layout::for_visitor(&web, &visitor).await,
        name: me.name,
        email: me.email,
        verified: me.email_verified,
        just_verified: !q.verified.is_empty(),
    })
}

fn back_to_account() -> PageLink {
    PageLink {
        href: "/account".into(),
        text: "Back to your account",
    }
}

fn profile_page(name: &str, email: &str, pending: Option<&str>) -> FormPage {
    let mut notices = Vec::new();
    if let Some(pending) = pending {
        notices.push(Notice {
            kind: "info",
            text: format!(
                "We sent a link to {pending}. Your email address changes once you open it."
            ),
        });
    }
    FormPage {
        title: "Your details",
        action: "/account/profile",
        submit: "Save",
        show_form: true,
        fields: vec![
            input("name", "Your name", "text", "name").value(name),
            input("email", "Email", "email", "email")
                .value(email)
                .hint("A new address takes effect once you open the link we mail to it."),
        ],
        hidden: Vec::new(),
        notices,
        links: vec![back_to_account()],
    }
}

pub(super) async fn profile_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<Flags>,
) -> Response {
    let me = match me(&web, &visitor, "/account/profile").await {
        Ok(me) => me,
        Err(res) => return res,
    };
    let mut page = profile_page(&me.name, &me.email, me.pending_email.as_deref());
    if !q.saved.is_empty() {
        page.notices.insert(
            0,
            Notice {
                kind: "ok",
                text: "Your details are saved.".into(),
            },
        );
    }
    blank(&web, &visitor, page).await
}

#[derive(Deserialize)]
pub(super) struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

pub(super) async fn profile(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<ProfileForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/account/profile");
    }
    let body = json!({"name": f.name, "email": f.email.trim()});
    match web
        .api
        .request::<_, serde_json::Value>(
            &visitor.caller,
            Method::PATCH,
            "/api/v1/me",
            Some(&body),
            &[],
        )
        .await
    {
        Ok(_) => Redirect::to("/account/profile?saved=1").into_response(),
        Err(p) if p.is(401) => sign_in_first("/account/profile"),
        Err(p) if p.is(409) || p.is(412) || p.is(422) || p.is(429) || p.is(503) => {
            refused(&web, &visitor, profile_page(&f.name, &f.email, None), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

fn password_page() -> FormPage {
    FormPage {
        title: "Change your password",
        action: "/account/password",
        submit: "Change password",
        show_form: true,
        fields: vec![
            input(
                "current_password",
                "Current password",
                "password",
                "current-password",
            ),
            input("new_password", "New password", "password", "new-password").hint(
                "At least 10 characters. You stay signed in here; every other device is signed out.",
            ),
        ],
        hidden: Vec::new(),
        notices: Vec::new(),
        links: vec![back_to_account()],
    }
}

pub(super) async fn password_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<Flags>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/account/password");
    }
    let mut page = password_page();
    if !q.saved.is_empty() {
        page.show_form = false;
        page.notices.push(Notice {
            kind: "ok",
            text: "Your password is changed. Other devices are signed out.".into(),
        });
    }
    blank(&web, &visitor, page).await
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(super) async fn password(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<PasswordForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/account/password");
    }
    let body = json!({"current_password": f.current_password, "new_password": f.new_password});
    match web
        .api
        .call(&visitor.caller, Method::POST, "/api/v1/me/password", &body)
        .await
    {
        Ok(()) => Redirect::to("/account/password?saved=1").into_response(),
        Err(p) if p.is(401) => sign_in_first("/account/password"),
        Err(p) if p.is(422) || p.is(429) || p.is(503) => {
            refused(&web, &visitor, password_page(), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}
