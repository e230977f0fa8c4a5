//! A product's pictures for inventory staff: upload several at once, see each one as
//! customers will (once its WebP renderings are made), put them in order, choose the
//! primary one (the first), and delete. The media API takes one file per request, so
//! the page sends the member's files one by one and says which, if any, it refused.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use contracts::claims::StaffRole;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::products::ApiProduct;
use super::{AdminLayout, DoneQuery, failure, not_found, sign_in_first};
use crate::WebState;
use crate::multipart;
use crate::pages::render_status;
use crate::session::StaffMember;

#[derive(Deserialize)]
struct ApiUrls {
    thumb: String,
    medium: String,
    large: String,
}

#[derive(Deserialize)]
struct ApiImage {
    id: Uuid,
    status: String,
    alt: String,
    format: String,
    width: i32,
    height: i32,
    bytes: i64,
    urls: ApiUrls,
}

pub struct Picture {
    pub id: Uuid,
    /// "Picture 2 of 3", naming the buttons for screen readers.
    pub label: String,
    pub ready: bool,
    pub failed: bool,
    pub alt: String,
    pub facts: String,
    pub thumb: String,
    pub medium: String,
    pub large: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "admin/product_images.html")]
struct ImagesPage {
    layout: AdminLayout,
    product_id: String,
    product_name: String,
    notice: Option<&'static str>,
    /// What the last upload refused, one line per file.
    refused: Vec<String>,
    pictures: Vec<Picture>,
    may_edit: bool,
    /// Some picture still being rendered: the gallery refreshes itself until none is.
    processing: bool,
    max_size: String,
}

fn here(id: &str) -> String {
    format!("/admin/products/{id}/images")
}

pub(super) async fn page(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let notice = query.ok().and_then(|Query(q)| match q.done.as_str() {
        "uploaded" => Some("Uploaded. Each picture shows here once its renderings are made."),
        "ordered" => Some("The pictures are in their new order."),
        "primary" => Some("That picture is now the primary one."),
        "deleted" => Some("The picture is deleted."),
        "changed" => Some("The pictures changed meanwhile; here they are as they are now."),
        _ => None,
    });
    show(&web, &staff, &id, notice, Vec::new(), StatusCode::OK).await
}

async fn show(
    web: &WebState,
    staff: &StaffMember,
    id: &str,
    notice: Option<&'static str>,
    refused: Vec<String>,
    status: StatusCode,
) -> Response {
    let here = here(id);
    let product: ApiProduct =
        match super::load_by_id(web, staff, &here, id, |id| format!("/api/v1/products/{id}")).await
        {
            Ok(product) => product,
            Err(page) => return page,
        };
    let path = format!("/api/v1/products/{}/images", product.id);
    let images: Vec<ApiImage> = match web.api.get(&staff.caller, &path).await {
        Ok(images) => images,
        Err(p) => return failure(web, staff, &here, &p),
    };
    let count = images.len();
    let pictures: Vec<Picture> = images
        .into_iter()
        .enumerate()
        .map(|(i, image)| Picture {
            id: image.id,
            label: format!("picture {} of {count}", i + 1),
            ready: image.status == "ready",
            failed: image.status == "failed",
            alt: image.alt,
            facts: format!(
                "{} × {} px, {} {}",
                image.width,
                image.height,
                image.format.to_uppercase(),
                size(image.bytes.max(0) as u64)
            ),
            thumb: image.urls.thumb,
            medium: image.urls.medium,
            large: image.urls.large,
            first: i == 0,
            last: i + 1 == count,
        })
        .collect();
    render_status(
        status,
        &ImagesPage {
            layout: AdminLayout::new(web, staff, "products"),
            product_id: product.id,
            product_name: product.name,
            notice,
            refused,
            processing: pictures.iter().any(|p| !p.ready && !p.failed),
            pictures,
            may_edit: staff.may(StaffRole::Inventory),
            max_size: size(web.max_image_bytes as u64),
        },
    )
}

/// Bytes as people read them: "340 KB", "2.4 MB".
pub(super) fn size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Sends each chosen file to the media API in turn, with the form's description.
pub(super) async fn upload(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let here = here(&id);
    if !staff.signed_in() {
        return sign_in_first(&here);
    }
    let Ok(product) = id.parse::<Uuid>() else {
        return not_found(&web, &staff);
    };
    let posted = match form {
        Ok(form) => multipart::read(form, "file").await,
        Err(e) => {
            let why = format!("The upload did not arrive whole ({e}). Please try again.");
            return show(&web, &staff, &id, None, vec![why], StatusCode::BAD_REQUEST).await;
        }
    };
    let posted = match posted {
        Ok(posted) => posted,
        Err(e) => {
            let why = format!(
                "The upload did not arrive whole ({}). Together the files may be at most {}.",
                e.body_text(),
                size(web.max_image_bytes as u64)
            );
            return show(&web, &staff, &id, None, vec![why], e.status()).await;
        }
    };
    if posted.files.is_empty() {
        let why = "Choose one or more pictures to upload.".to_owned();
        return show(
            &web,
            &staff,
            &id,
            None,
            vec![why],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let alt = posted.field("alt").trim().to_owned();
    let path = format!("/api/v1/products/{product}/images");
    let mut refused = Vec::new();
    for file in &posted.files {
        let mut body = multipart::Body::new();
        if !alt.is_empty() {
            body = body.text("alt", &alt);
        }
        let (content_type, body) = body.file("file", &file.name, &file.bytes).finish();
        let answer: Result<Value, _> = web
            .api
            .upload(&staff.caller, Method::POST, &path, content_type, body)
            .await;
        match answer {
            Ok(_) => {}
            Err(p) if matches!(p.status, 401 | 403 | 404) => {
                return failure(&web, &staff, &here, &p);
            }
            Err(p) => {
                let why = p
                    .field("alt")
                    .map_or(p.detail.clone(), |e| format!("the description {e}"));
                refused.push(format!("{}: {}", display_name(&file.name), sentence(&why)));
            }
        }
    }
    if refused.is_empty() {
        return Redirect::to(&format!("{here}?done=uploaded")).into_response();
    }
    show(
        &web,
        &staff,
        &id,
        None,
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

fn display_name(name: &str) -> &str {
    if name.trim().is_empty() {
        "A file"
    } else {
        name
    }
}

fn sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    if text.is_empty() {
        "refused".into()
    } else {
        format!("{text}.")
    }
}

#[derive(Deserialize)]
pub(super) struct Change {
    action: String,
}

/// Where one picture goes in the gallery.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Move {
    Primary,
    Earlier,
    Later,
}

/// The gallery's order after moving `image`; `None` when it is not in it.
fn reordered(ids: &[Uuid], image: Uuid, to: Move) -> Option<Vec<Uuid>> {
    let at = ids.iter().position(|i| *i == image)?;
    let mut ids = ids.to_vec();
    match to {
        Move::Primary => {
            let moved = ids.remove(at);
            ids.insert(0, moved);
        }
        Move::Earlier if at > 0 => ids.swap(at, at - 1),
        Move::Later if at + 1 < ids.len() => ids.swap(at, at + 1),
        Move::Earlier | Move::Later => {}
    }
    Some(ids)
}

/// Makes a picture primary, moves it one place, or deletes it.
pub(super) async fn change(
    State(web): State<WebState>,
    staff: StaffMember,
    Path((id, image_id)): Path<(String, String)>,
    PostedForm(change): PostedForm<Change>,
) -> Response {
    let here = here(&id);
    if !staff.signed_in() {
        return sign_in_first(&here);
    }
    let (Ok(product), Ok(image)) = (id.parse::<Uuid>(), image_id.parse::<Uuid>()) else {
        return not_found(&web, &staff);
    };
    let to = match change.action.as_str() {
        "delete" => return delete(&web, &staff, &here, product, image).await,
        "primary" => Move::Primary,
        "earlier" => Move::Earlier,
        "later" => Move::Later,
        _ => return Redirect::to(&here).into_response(),
    };
    let path = format!("/api/v1/products/{product}/images");
    let images: Vec<ApiImage> = match web.api.get(&staff.caller, &path).await {
        Ok(images) => images,
        Err(p) => return failure(&web, &staff, &here, &p),
    };
    let ids: Vec<Uuid> = images.iter().map(|i| i.id).collect();
    let Some(order) = reordered(&ids, image, to) else {
        return Redirect::to(&format!("{here}?done=changed")).into_response();
    };
    let request = json!({"image_ids": order});
    let answer: Result<Value, _> = web
        .api
        .request(
            &staff.caller,
            Method::PUT,
            &format!("{path}/order"),
            Some(&request),
            &[],
        )
        .await;
    let done = if to == Move::Primary {
        "primary"
    } else {
        "ordered"
    };
    match answer {
        Ok(_) => Redirect::to(&format!("{here}?done={done}")).into_response(),
        // A picture came or went between the read and the write.
        Err(p) if p.status == 422 => Redirect::to(&format!("{here}?done=changed")).into_response(),
        Err(p) => failure(&web, &staff, &here, &p),
    }
}

async fn delete(
    web: &WebState,
    staff: &StaffMember,
    here: &str,
    product: Uuid,
    image: Uuid,
) -> Response {
    let path = format!("/api/v1/products/{product}/images/{image}");
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("{here}?done=deleted")).into_response(),
        Err(p) if p.status == 404 => Redirect::to(&format!("{here}?done=changed")).into_response(),
        Err(p) => failure(web, staff, here, &p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_moves_one_place_or_to_the_front_and_the_rest_keep_their_order() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let ids = [a, b, c];
        assert_eq!(reordered(&ids, c, Move::Primary), Some(vec![c, a, b]));
        assert_eq!(reordered(&ids, b, Move::Earlier), Some(vec![b, a, c]));
        assert_eq!(reordered(&ids, b, Move::Later), Some(vec![a, c, b]));
        assert_eq!(reordered(&ids, a, Move::Earlier), Some(vec![a, b, c]));
        assert_eq!(reordered(&ids, c, Move::Later), Some(vec![a, b, c]));
        assert_eq!(reordered(&ids, Uuid::now_v7(), Move::Primary), None);
    }

    #[test]
    fn sizes_read_in_kilobytes_then_megabytes() {
        assert_eq!(size(1), "1 KB");
        assert_eq!(size(340 * 1024), "340 KB");
        assert_eq!(size(10 * 1024 * 1024), "10.0 MB");
    }
}
