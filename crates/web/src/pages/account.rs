//! Signing up, in and out, verifying an email and resetting a password.
//! (The signed-in customer's own pages are in `profile`, `addresses` and `wishlist`.)
//!
//! Links in mails open a page whose button spends the token (a POST): mail scanners
//! that follow links must not use up a customer's verification or reset.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{failure_page, render_status};
use crate::WebState;
use crate::api::Problem;
use crate::session::{self, CookieJar, Tokens, Visitor};
use crate::view::{Form, Layout};

/// One input of a form page.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub hint: &'static str,
}

pub(super) fn input(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
) -> Input {
    Input {
        name,
        label,
        kind,
        value: String::new(),
        autocomplete,
        hint: "",
    }
}

impl Input {
    pub(super) fn value(mut self, v: &str) -> Self {
        self.value = v.to_owned();
        self
    }
    pub(super) fn hint(mut self, h: &'static str) -> Self {
        self.hint = h;
        self
    }
}

pub struct Hidden {
    pub name: &'static str,
    pub value: String,
}

pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

pub struct PageLink {
    pub href: String,
    pub text: &'static str,
}

/// A page with one form (or only notices, once it is done).
pub struct FormPage {
    pub title: &'static str,
    pub action: &'static str,
    pub submit: &'static str,
    pub show_form: bool,
    pub fields: Vec<Input>,
    pub hidden: Vec<Hidden>,
    pub notices: Vec<Notice>,
    pub links: Vec<PageLink>,
}

#[derive(Template)]
#[template(path = "form_page.html")]
struct FormView {
    layout: Layout,
    page: FormPage,
    form: Form,
}

pub(super) async fn show(
    web: &WebState,
    visitor: &Visitor,
    page: FormPage,
    form: Form,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &FormView {
            layout: Layout::for_visitor(web, visitor).await,
            page,
            form,
        },
    )
}

/// A form page as first shown: no messages yet.
pub(super) async fn blank(web: &WebState, visitor: &Visitor, page: FormPage) -> Response {
    show(web, visitor, page, Form::default(), StatusCode::OK).await
}

/// A page to come back to after signing in: a path in this shop, never another site.
fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if ok { next.to_owned() } else { "/".into() }
}

/// The answer to a form the API refused: the same page with the API's messages, 422
/// for bad fields (429 and 503 keep their status, with `Retry-After`).
pub(super) async fn refused(
    web: &WebState,
    visitor: &Visitor,
    page: FormPage,
    p: &Problem,
) -> Response {
    let status = match p.status {
        429 | 503 => StatusCode::from_u16(p.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut res = show(web, visitor, page, Form::refused(p), status).await;
    if let Some(secs) = p.retry_after.filter(|_| status.as_u16() >= 429) {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    res
}

#[derive(Default, Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    reset: String,
    #[serde(default)]
    verified: String,
}

fn login_page(email: &str, next: &str, remember: bool) -> FormPage {
    FormPage {
        title: "Sign in",
        action: "/login",
        submit: "Sign in",
        show_form: true,
        fields: vec![
            input("email", "Email", "email", "email").value(email),
            input("password", "Password", "password", "current-password"),
            input(
                "remember_me",
                "Keep me signed in on this device",
                "checkbox",
                "off",
            )
            .value(if remember { "true" } else { "" }),
        ],
        hidden: vec![Hidden {
            name: "next",
            value: safe_next(next),
        }],
        notices: Vec::new(),
        links: vec![
            PageLink {
                href: "/forgot-password".into(),
                text: "Forgot your password?",
            },
            PageLink {
                href: "/register".into(),
                text: "New here? Create an account",
            },
        ],
    }
}

pub(super) async fn login_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<NextQuery>,
) -> Response {
    let mut page = login_page("", &q.next, false);
    if !q.reset.is_empty() {
        page.notices.push(Notice {
            kind: "ok",
            text: "Your password is changed. Sign in with the new one.".into(),
        });
    }
    if !q.verified.is_empty() {
        page.notices.push(Notice {
            kind: "ok",
            text: "Your email address is verified. Sign in to shop.".into(),
        });
    }
    blank(&web, &visitor, page).await
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    remember_me: Option<String>,
    #[serde(default)]
    next: String,
}

pub(super) async fn login(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<LoginForm>,
) -> Response {
    let remember = f.remember_me.as_deref() == Some("true");
    let body = json!({"email": f.email, "password": f.password, "remember_me": remember});
    match web
        .api
        .post::<_, Tokens>(&visitor.caller, "/api/v1/auth/login", &body)
        .await
    {
        Ok(tokens) => {
            let mut jar = CookieJar::default();
            jar.sign_in(session::CUSTOMER, &tokens, remember, &web);
            let mut res = Redirect::to(&safe_next(&f.next)).into_response();
            jar.apply(&mut res);
            res
        }
        Err(p) if p.is(401) || p.is(422) || p.is(429) || p.is(503) => {
            refused(&web, &visitor, login_page(&f.email, &f.next, remember), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

pub(super) async fn logout(State(web): State<WebState>, visitor: Visitor) -> Response {
    if visitor.signed_in {
        // Ends the session at the API too, so the refresh token is worthless.
        let _ = web
            .api
            .call(
                &visitor.caller,
                Method::POST,
                "/api/v1/auth/logout",
                &json!({}),
            )
            .await;
    }
    let mut jar = CookieJar::default();
    jar.sign_out(session::CUSTOMER, web.secure_cookies);
    let mut res = Redirect::to("/").into_response();
    jar.apply(&mut res);
    res
}

fn register_page(email: &str, name: &str) -> FormPage {
    FormPage {
        title: "Create an account",
        action: "/register",
        submit: "Create account",
        show_form: true,
        fields: vec![
            input("name", "Your name", "text", "name").value(name),
            input("email", "Email", "email", "email").value(email),
            input("password", "Password", "password", "new-password")
                .hint("At least 10 characters. A few unrelated words are easy to remember and hard to guess."),
        ],
        hidden: Vec::new(),
        notices: Vec::new(),
        links: vec![PageLink {
            href: "/login".into(),
            text: "Already have an account? Sign in",
        }],
    }
}

pub(super) async fn register_form(State(web): State<WebState>, visitor: Visitor) -> Response {
    blank(&web, &visitor, register_page("", "")).await
}

#[derive(Deserialize)]
pub(super) struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn register(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<RegisterForm>,
) -> Response {
    let body = json!({"email": f.email, "password": f.password, "name": f.name});
    match web
        .api
        .post::<_, serde_json::Value>(&visitor.caller, "/api/v1/auth/register", &body)
        .await
    {
        Ok(_) => {
            let mut page = verify_page("", f.email.trim());
            page.notices.push(Notice {
                kind: "ok",
                text: "Account created. We sent you an email with a link and a 6-digit code: open the link, or enter the code below.".into(),
            });
            blank(&web, &visitor, page).await
        }
        Err(p) if p.is(422) || p.is(429) || p.is(503) => {
            refused(&web, &visitor, register_page(&f.email, &f.name), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

fn verify_page(token: &str, email: &str) -> FormPage {
    let (fields, hidden) = if token.is_empty() {
        (
            vec![
                input("email", "Email", "email", "email").value(email),
                input(
                    "code",
                    "6-digit code from the email",
                    "text",
                    "one-time-code",
                ),
            ],
            Vec::new(),
        )
    } else {
        (
            Vec::new(),
            vec![Hidden {
                name: "token",
                value: token.to_owned(),
            }],
        )
    };
    FormPage {
        title: "Verify your email",
        action: "/verify-email",
        submit: "Verify my email",
        show_form: true,
        fields,
        hidden,
        notices: Vec::new(),
        links: Vec::new(),
    }
}

#[derive(Default, Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The page a verification mail links to: the token is spent only by its button.
pub(super) async fn verify_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    blank(&web, &visitor, verify_page(&q.token, "")).await
}

#[derive(Deserialize)]
pub(super) struct VerifyForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn verify(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<VerifyForm>,
) -> Response {
    let body = if f.token.is_empty() {
        json!({"email": f.email, "code": f.code.trim()})
    } else {
        json!({"token": f.token})
    };
    match web
        .api
        .call(
            &visitor.caller,
            Method::POST,
            "/api/v1/auth/verify-email",
            &body,
        )
        .await
    {
        Ok(()) => Redirect::to(if visitor.signed_in {
            "/account?verified=1"
        } else {
            "/login?verified=1"
        })
        .into_response(),
        Err(p) if p.is(400) || p.is(422) || p.is(429) => {
            // A used or expired link falls back to the code form.
            refused(&web, &visitor, verify_page("", &f.email), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

fn forgot_page(email: &str) -> FormPage {
    FormPage {
        title: "Forgot your password?",
        action: "/forgot-password",
        submit: "Email me a reset link",
        show_form: true,
        fields: vec![input("email", "Email", "email", "email").value(email)],
        hidden: Vec::new(),
        notices: Vec::new(),
        links: vec![PageLink {
            href: "/login".into(),
            text: "Back to sign in",
        }],
    }
}

pub(super) async fn forgot_form(State(web): State<WebState>, visitor: Visitor) -> Response {
    blank(&web, &visitor, forgot_page("")).await
}

#[derive(Deserialize)]
pub(super) struct EmailForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn forgot(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<EmailForm>,
) -> Response {
    let body = json!({"email": f.email});
    match web
        .api
        .call(
            &visitor.caller,
            Method::POST,
            "/api/v1/auth/password/forgot",
            &body,
        )
        .await
    {
        Ok(()) => {
            let mut page = forgot_page(&f.email);
            page.show_form = false;
            page.notices.push(Notice {
                kind: "ok",
                text: "If an account uses that address, a reset link is on its way. It works for one hour.".into(),
            });
            blank(&web, &visitor, page).await
        }
        Err(p) if p.is(422) || p.is(429) || p.is(503) => {
            refused(&web, &visitor, forgot_page(&f.email), &p).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

fn reset_page(token: &str) -> FormPage {
    FormPage {
        title: "Choose a new password",
        action: "/reset-password",
        submit: "Set the new password",
        show_form: true,
        fields: vec![
            input("password", "New password", "password", "new-password")
                .hint("At least 10 characters. Every other session ends when it is set."),
        ],
        hidden: vec![Hidden {
            name: "token",
            value: token.to_owned(),
        }],
        notices: Vec::new(),
        links: Vec::new(),
    }
}

/// The page a reset mail links to: the token is spent only by its form.
pub(super) async fn reset_form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    blank(&web, &visitor, reset_page(&q.token)).await
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn reset(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<ResetForm>,
) -> Response {
    let body = json!({"token": f.token, "password": f.password});
    match web
        .api
        .call(
            &visitor.caller,
            Method::POST,
            "/api/v1/auth/password/reset",
            &body,
        )
        .await
    {
        Ok(()) => Redirect::to("/login?reset=1").into_response(),
        Err(p) if p.is(400) => {
            let mut page = forgot_page("");
            page.notices.push(Notice {
                kind: "error",
                text: "This reset link is used, expired or mistyped. Ask for a new one.".into(),
            });
            show(
                &web,
                &visitor,
                page,
                Form::default(),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(p) if p.is(422) || p.is(429) => refused(&web, &visitor, reset_page(&f.token), &p).await,
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_stay_in_the_shop() {
        assert_eq!(safe_next("/account"), "/account");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
