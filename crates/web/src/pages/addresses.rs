//! The customer's shipping addresses: the list with removal, and the one address form
//! that checkout shares. A refused form comes back with what was typed and the API's
//! message beside each field.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::purchase::sign_in_first;
use super::{failure_page, render_status};
use crate::WebState;
use crate::api::Problem;
use crate::session::Visitor;
use crate::view::{Form, Layout};

/// An address as the API gives it.
#[derive(Clone, Deserialize)]
pub(super) struct ApiAddress {
    pub id: String,
    pub label: String,
    pub recipient_name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl ApiAddress {
    /// "Ana Putri, Jl. Merdeka 1, Bandung, 40111, ID".
    pub fn one_line(&self) -> String {
        [
            Some(self.recipient_name.as_str()),
            Some(self.line1.as_str()),
            self.line2.as_deref(),
            Some(self.city.as_str()),
            self.region.as_deref(),
            Some(self.postal_code.as_str()),
            Some(self.country.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

#[derive(Deserialize)]
pub(super) struct AddressPage {
    pub items: Vec<ApiAddress>,
}

/// The new-address form, as posted (and shown again when refused).
#[derive(Clone, Default, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    pub recipient_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub country: String,
}

impl AddressForm {
    /// The API's request: optional fields left empty are sent as absent.
    fn body(&self) -> Value {
        let opt = |s: &str| {
            if s.trim().is_empty() {
                Value::Null
            } else {
                s.into()
            }
        };
        json!({
            "recipient_name": self.recipient_name, "phone": self.phone, "line1": self.line1,
            "line2": opt(&self.line2), "city": self.city, "region": opt(&self.region),
            "postal_code": self.postal_code, "country": self.country.trim().to_ascii_uppercase(),
        })
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Saves a new address for the visitor; answers its id.
pub(super) async fn create(
    web: &WebState,
    visitor: &Visitor,
    f: &AddressForm,
) -> Result<String, Problem> {
    web.api
        .post::<_, Created>(&visitor.caller, "/api/v1/me/addresses", &f.body())
        .await
        .map(|c| c.id)
}

pub struct SavedAddress {
    pub id: String,
    pub label: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "addresses.html")]
struct AddressesView {
    layout: Layout,
    addresses: Vec<SavedAddress>,
    entered: AddressForm,
    form: Form,
    notice: Option<&'static str>,
}

#[derive(Default, Deserialize)]
pub(super) struct Flags {
    #[serde(default)]
    added: String,
    #[serde(default)]
    removed: String,
}

const HERE: &str = "/account/addresses";

pub(super) async fn list(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<Flags>,
) -> Response {
    let notice = if !q.added.is_empty() {
        Some("The address is saved.")
    } else if !q.removed.is_empty() {
        Some("The address is removed.")
    } else {
        None
    };
    page(
        &web,
        &visitor,
        AddressForm::default(),
        Form::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn page(
    web: &WebState,
    visitor: &Visitor,
    entered: AddressForm,
    form: Form,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(HERE);
    }
    let saved = match web
        .api
        .get::<AddressPage>(&visitor.caller, "/api/v1/me/addresses")
        .await
    {
        Ok(a) => a.items,
        Err(p) if p.is(401) => return sign_in_first(HERE),
        Err(p) => return failure_page(web, visitor, &p),
    };
    render_status(
        status,
        &AddressesView {
            layout: Layout::for_visitor(web, visitor).await,
            addresses: saved
                .iter()
                .map(|a| SavedAddress {
                    id: a.id.clone(),
                    label: a.label.clone(),
                    text: a.one_line(),
                })
                .collect(),
            entered,
            form,
            notice,
        },
    )
}

pub(super) async fn add(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<AddressForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(HERE);
    }
    match create(&web, &visitor, &f).await {
        Ok(_) => Redirect::to("/account/addresses?added=1").into_response(),
        Err(p) if p.is(401) => sign_in_first(HERE),
        Err(p) if p.is(409) || p.is(422) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&web, &visitor, f, Form::refused(&p), None, status).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

pub(super) async fn remove(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(HERE);
    }
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return super::not_found(&web, &visitor);
    };
    let path = format!("/api/v1/me/addresses/{id}");
    match web
        .api
        .call(&visitor.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        // Already gone (another tab removed it) reads the same as removed now.
        Ok(()) => Redirect::to("/account/addresses?removed=1").into_response(),
        Err(p) if p.is(404) => Redirect::to("/account/addresses?removed=1").into_response(),
        Err(p) if p.is(401) => sign_in_first(HERE),
        Err(p) => failure_page(&web, &visitor, &p),
    }
}
