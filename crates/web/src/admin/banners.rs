//! The home page's banners, for admins: upload one with its title and link, change a
//! banner's title, link or place in the order (with the version read: a change someone
//! saved first is shown, and the member's own stays in the form), and delete.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AdminLayout, DoneQuery, failure, forbidden, not_found, sign_in_first};
use crate::WebState;
use crate::api::{FieldError, Problem};
use crate::multipart;
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::Form;

const HERE: &str = "/admin/banners";

#[derive(Deserialize)]
struct ApiUrls {
    thumb: String,
    medium: String,
}

#[derive(Deserialize)]
struct ApiImage {
    status: String,
    alt: String,
    urls: ApiUrls,
}

#[derive(Deserialize)]
struct ApiBanner {
    id: Uuid,
    title: String,
    link: String,
    position: i32,
    image: ApiImage,
    version: i64,
}

#[derive(Deserialize)]
struct ApiBanners {
    items: Vec<ApiBanner>,
}

/// What a banner's form holds: as saved, or as the member typed it.
#[derive(Clone, Default, Deserialize)]
pub(super) struct Fields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    alt: String,
    #[serde(default)]
    version: i64,
}

pub struct Row {
    pub id: Uuid,
    pub ready: bool,
    pub failed: bool,
    pub alt: String,
    pub thumb: String,
    pub medium: String,
    pub fields: Fields,
    pub form: Form,
    /// The banner as someone else saved it meanwhile, when the member's save lost.
    pub theirs: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/banners.html")]
struct BannersPage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    banners: Vec<Row>,
    new: Fields,
    new_form: Form,
    max_size: String,
}

/// A banner form turned away, to show again with its complaint.
struct Refused {
    /// The banner whose form it was; `None` for the upload form.
    banner: Option<Uuid>,
    fields: Fields,
    form: Form,
    /// Someone else's save won: show the banner as it is now, beside the member's edit.
    stale: bool,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let notice = query.ok().and_then(|Query(q)| match q.done.as_str() {
        "created" => Some("The banner is added. Customers see it once its picture is rendered."),
        "saved" => Some("The banner is saved."),
        "deleted" => Some("The banner is deleted."),
        "gone" => Some("That banner was already deleted."),
        _ => None,
    });
    show(&web, &staff, notice, None, StatusCode::OK).await
}

async fn show(
    web: &WebState,
    staff: &StaffMember,
    notice: Option<&'static str>,
    refused: Option<Refused>,
    status: StatusCode,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    // Customers' view of the list holds only ready banners; a member who is no admin
    // would see a partial list and could change nothing in it.
    if !staff.may(contracts::claims::StaffRole::Admin) {
        return forbidden(web, staff);
    }
    let answer: ApiBanners = match web.api.get(&staff.caller, "/api/v1/banners").await {
        Ok(answer) => answer,
        Err(p) => return failure(web, staff, HERE, &p),
    };
    let (mut new, mut new_form) = (Fields::default(), Form::default());
    let mut refused = refused;
    if let Some(r) = refused.take_if(|r| r.banner.is_none()) {
        (new, new_form) = (r.fields, r.form);
    }
    let banners = answer
        .items
        .into_iter()
        .map(|b| {
            let saved = Fields {
                title: b.title.clone(),
                link: b.link.clone(),
                position: b.position.to_string(),
                alt: String::new(),
                version: b.version,
            };
            let mut row = Row {
                id: b.id,
                ready: b.image.status == "ready",
                failed: b.image.status == "failed",
                alt: b.image.alt,
                thumb: b.image.urls.thumb,
                medium: b.image.urls.medium,
                fields: saved,
                form: Form::default(),
                theirs: None,
            };
            if let Some(r) = refused.take_if(|r| r.banner == Some(b.id)) {
                if r.stale {
                    row.theirs = Some(format!(
                        "“{}”, linking to {}, at position {}",
                        b.title, b.link, b.position
                    ));
                }
                // The member's edit stays in the form, now against the version saved.
                row.fields = Fields {
                    version: b.version,
                    ..r.fields
                };
                row.form = r.form;
            }
            row
        })
        .collect();
    render_status(
        status,
        &BannersPage {
            layout: AdminLayout::new(web, staff, "banners"),
            notice,
            banners,
            new,
            new_form,
            max_size: super::product_images::size(web.max_image_bytes as u64),
        },
    )
}

/// The position as typed: empty for "after the others" on an upload.
fn position(text: &str) -> Result<Option<i32>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| position_wanted())
}

fn position_wanted() -> FieldError {
    FieldError {
        field: "position".into(),
        message: "must be a whole number from 0 to 1000".into(),
    }
}

fn refused_form(field: FieldError) -> Form {
    Form {
        problem: Some("Some fields need another look; each says what is wrong.".into()),
        errors: vec![field],
    }
}

/// Uploads a banner: one picture with its title, link, place and description.
pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let posted = match form {
        Ok(form) => multipart::read(form, "file")
            .await
            .map_err(|e| e.body_text()),
        Err(e) => Err(e.body_text()),
    };
    let posted = match posted {
        Ok(posted) => posted,
        Err(why) => {
            let why = FieldError {
                field: "file".into(),
                message: format!("did not arrive whole ({why}); try again"),
            };
            let refused = Refused {
                banner: None,
                fields: Fields::default(),
                form: refused_form(why),
                stale: false,
            };
            return show(&web, &staff, None, Some(refused), StatusCode::BAD_REQUEST).await;
        }
    };
    let fields = Fields {
        title: posted.field("title").to_owned(),
        link: posted.field("link").to_owned(),
        position: posted.field("position").to_owned(),
        alt: posted.field("alt").to_owned(),
        version: 0,
    };
    let refuse = |form: Form, fields: Fields| Refused {
        banner: None,
        fields,
        form,
        stale: false,
    };
    let file = match posted.files.as_slice() {
        [file] => file,
        files => {
            let message = if files.is_empty() {
                "choose the banner's picture"
            } else {
                "a banner has one picture; choose one file"
            };
            let form = refused_form(FieldError {
                field: "file".into(),
                message: message.into(),
            });
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show(&web, &staff, None, Some(refuse(form, fields)), status).await;
        }
    };
    if let Err(e) = position(&fields.position) {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return show(
            &web,
            &staff,
            None,
            Some(refuse(refused_form(e), fields)),
            status,
        )
        .await;
    }
    let mut body = multipart::Body::new()
        .text("title", &fields.title)
        .text("link", &fields.link)
        .text("alt", &fields.alt);
    if !fields.position.trim().is_empty() {
        body = body.text("position", fields.position.trim());
    }
    let (content_type, body) = body.file("file", &file.name, &file.bytes).finish();
    let answer: Result<Value, Problem> = web
        .api
        .upload(
            &staff.caller,
            Method::POST,
            "/api/v1/banners",
            content_type,
            body,
        )
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("{HERE}?done=created")).into_response(),
        Err(p) if matches!(p.status, 409 | 413 | 415 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut form = Form::refused(&p);
            // The picture's own complaints (size, format) belong beside the file input.
            if matches!(p.status, 413 | 415) {
                form.errors.push(FieldError {
                    field: "file".into(),
                    message: p.detail.clone(),
                });
            }
            show(&web, &staff, None, Some(refuse(form, fields)), status).await
        }
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

/// Saves a banner's title, link and position against the version the form was read at.
pub(super) async fn save(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    PostedForm(fields): PostedForm<Fields>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let Ok(id) = id.parse::<Uuid>() else {
        return not_found(&web, &staff);
    };
    let refuse = |form: Form, fields: Fields, stale: bool| Refused {
        banner: Some(id),
        fields,
        form,
        stale,
    };
    let position = match position(&fields.position) {
        Ok(Some(p)) => p,
        not_one => {
            let e = not_one.err().unwrap_or_else(position_wanted);
            let refused = refuse(refused_form(e), fields, false);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show(&web, &staff, None, Some(refused), status).await;
        }
    };
    let request = json!({
        "title": fields.title,
        "link": fields.link,
        "position": position,
        "version": fields.version,
    });
    let path = format!("/api/v1/banners/{id}");
    let answer: Result<Value, Problem> = web
        .api
        .request(&staff.caller, Method::PATCH, &path, Some(&request), &[])
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("{HERE}?done=saved")).into_response(),
        Err(p) if p.status == 412 => {
            let form = Form {
                problem: Some(
                    "Someone else saved this banner after you opened the page. Theirs is shown; your edit is still in the form: save again to keep yours."
                        .into(),
                ),
                errors: Vec::new(),
            };
            let refused = refuse(form, fields, true);
            show(&web, &staff, None, Some(refused), StatusCode::CONFLICT).await
        }
        Err(p) if p.status == 422 => {
            let refused = refuse(Form::refused(&p), fields, false);
            show(
                &web,
                &staff,
                None,
                Some(refused),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(p) if p.status == 404 => Redirect::to(&format!("{HERE}?done=gone")).into_response(),
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

pub(super) async fn delete(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let Ok(id) = id.parse::<Uuid>() else {
        return not_found(&web, &staff);
    };
    let path = format!("/api/v1/banners/{id}");
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("{HERE}?done=deleted")).into_response(),
        Err(p) if p.status == 404 => Redirect::to(&format!("{HERE}?done=gone")).into_response(),
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}
