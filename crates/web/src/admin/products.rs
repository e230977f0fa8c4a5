//! Products for staff: the list (archived ones too), a new product, editing with the
//! version read (a save someone else made first is shown beside the member's own, and
//! neither is lost), stock set or adjusted beside its reserved and available counts,
//! and archiving.

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use contracts::claims::StaffRole;
use serde::Deserialize;
use serde_json::{Value, json};

use super::product_form::{Difference, Fields, differences, field};
use super::{AdminLayout, DoneQuery, failure, sign_in_first};
use crate::WebState;
use crate::api::FieldError;
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

#[derive(Clone, Deserialize)]
pub(super) struct ApiProduct {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) slug: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) price: i64,
    pub(super) currency: String,
    #[serde(default)]
    pub(super) weight_grams: i64,
    #[serde(default)]
    pub(super) length_mm: i64,
    #[serde(default)]
    pub(super) width_mm: i64,
    #[serde(default)]
    pub(super) height_mm: i64,
    #[serde(default)]
    pub(super) category_ids: Vec<String>,
    pub(super) active: bool,
    stock: Option<ApiStock>,
    pub(super) version: i64,
}

#[derive(Clone, Deserialize)]
struct ApiStock {
    on_hand: i64,
    reserved: i64,
    available: i64,
    version: i64,
}

#[derive(Deserialize)]
struct ApiPage {
    items: Vec<ApiProduct>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct CategoryTree {
    items: Vec<CategoryNode>,
}

#[derive(Deserialize)]
struct CategoryNode {
    id: String,
    name: String,
    #[serde(default)]
    children: Vec<CategoryNode>,
}

pub struct Row {
    pub url: String,
    pub name: String,
    pub price: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub archived: bool,
}

#[derive(Template)]
#[template(path = "admin/products.html")]
struct ListPage {
    layout: AdminLayout,
    q: String,
    archived: bool,
    rows: Vec<Row>,
    next: Option<String>,
    may_edit: bool,
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    archived: Option<String>,
    #[serde(default)]
    cursor: String,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let here = "/admin/products";
    if !staff.signed_in() {
        return sign_in_first(here);
    }
    let q = query.map(|Query(q)| q).unwrap_or(ListQuery {
        q: String::new(),
        archived: None,
        cursor: String::new(),
    });
    let archived = q.archived.as_deref() == Some("true");
    let words = q.q.trim().to_owned();
    let mut query = format!("limit=25&sort=newest&archived={archived}");
    if !words.is_empty() {
        query = format!("limit=25&archived={archived}&q={}", form_urlencoded(&words));
    }
    let mut path = format!("/api/v1/products?{query}");
    if !q.cursor.is_empty() {
        path.push_str(&format!("&cursor={}", form_urlencoded(&q.cursor)));
    }
    let page: ApiPage = match web.api.get(&staff.caller, &path).await {
        Ok(page) => page,
        Err(p) => return failure(&web, &staff, here, &p),
    };
    let rows = page
        .items
        .iter()
        .map(|p| {
            let stock = p.stock.clone().unwrap_or(ApiStock {
                on_hand: 0,
                reserved: 0,
                available: 0,
                version: 0,
            });
            Row {
                url: format!("/admin/products/{}", p.id),
                name: p.name.clone(),
                price: contracts::money::display(p.price, &p.currency),
                on_hand: stock.on_hand,
                reserved: stock.reserved,
                available: stock.available,
                archived: !p.active,
            }
        })
        .collect();
    let next = page
        .next_cursor
        .map(|c| format!("/admin/products?{query}&cursor={}", form_urlencoded(&c)));
    render_status(
        StatusCode::OK,
        &ListPage {
            layout: AdminLayout::new(&web, &staff, "products"),
            q: words,
            archived,
            rows,
            next,
            may_edit: staff.may(StaffRole::Inventory),
        },
    )
}

pub struct CategoryChoice {
    pub id: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin/product.html")]
struct ProductPage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    stock_form: Form,
    /// `None` for a new product.
    id: Option<String>,
    title: String,
    fields: Fields,
    categories: Vec<CategoryChoice>,
    version: i64,
    active: bool,
    stock: Option<ApiStock>,
    /// Someone else's save, beside this member's edit.
    conflict: Vec<Difference>,
    may_edit: bool,
}

/// The category tree as choices to tick (`checked` ticked), each labelled with its
/// path; none when the tree cannot be read (the form still works without).
pub(super) async fn categories(
    web: &WebState,
    staff: &StaffMember,
    checked: &[String],
) -> Vec<CategoryChoice> {
    fn walk(
        nodes: &[CategoryNode],
        prefix: &str,
        checked: &[String],
        out: &mut Vec<CategoryChoice>,
    ) {
        for n in nodes {
            let label = if prefix.is_empty() {
                n.name.clone()
            } else {
                format!("{prefix} › {}", n.name)
            };
            out.push(CategoryChoice {
                id: n.id.clone(),
                label: label.clone(),
                checked: checked.contains(&n.id),
            });
            walk(&n.children, &label, checked, out);
        }
    }
    let mut out = Vec::new();
    if let Ok(tree) = web
        .api
        .get::<CategoryTree>(&staff.caller, "/api/v1/categories")
        .await
    {
        walk(&tree.items, "", checked, &mut out);
    }
    out
}

struct Shown<'a> {
    product: Option<&'a ApiProduct>,
    fields: Fields,
    notice: Option<String>,
    form: Form,
    stock_form: Form,
    conflict: Vec<Difference>,
    /// The version the form sends back (the saved one after a conflict).
    version: i64,
}

async fn show(web: &WebState, staff: &StaffMember, s: Shown<'_>, status: StatusCode) -> Response {
    let categories = categories(web, staff, &s.fields.category_ids).await;
    let title = match s.product {
        Some(p) => p.name.clone(),
        None => "New product".to_owned(),
    };
    render_status(
        status,
        &ProductPage {
            layout: AdminLayout::new(web, staff, "products"),
            notice: s.notice,
            form: s.form,
            stock_form: s.stock_form,
            id: s.product.map(|p| p.id.clone()),
            title,
            fields: s.fields,
            categories,
            version: s.version,
            active: s.product.is_none_or(|p| p.active),
            stock: s.product.and_then(|p| p.stock.clone()),
            conflict: s.conflict,
            may_edit: staff.may(StaffRole::Inventory),
        },
    )
}

async fn load(web: &WebState, staff: &StaffMember, id: &str) -> Result<ApiProduct, Response> {
    let here = format!("/admin/products/{id}");
    super::load_by_id(web, staff, &here, id, |id| format!("/api/v1/products/{id}")).await
}

fn done_text(done: &str) -> Option<String> {
    let text = match done {
        "created" => "The product is created and on sale.",
        "saved" => "Saved.",
        "stock" => "The stock is updated.",
        "archived" => "The product is archived: customers no longer see it; orders keep it.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub(super) async fn new_form(State(web): State<WebState>, staff: StaffMember) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/products/new");
    }
    let fields = Fields {
        currency: "USD".into(),
        ..Fields::default()
    };
    let shown = Shown {
        product: None,
        fields,
        notice: None,
        form: Form::default(),
        stock_form: Form::default(),
        conflict: Vec::new(),
        version: 0,
    };
    show(&web, &staff, shown, StatusCode::OK).await
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn refused_fields(errors: Vec<FieldError>) -> Form {
    Form {
        problem: Some("Some fields need another look; each says what is wrong.".into()),
        errors,
    }
}

pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    body: Bytes,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/products/new");
    }
    let fields = Fields::posted(&pairs(&body));
    let again = |form: Form| Shown {
        product: None,
        fields: fields.clone(),
        notice: None,
        form,
        stock_form: Form::default(),
        conflict: Vec::new(),
        version: 0,
    };
    let request = match fields.body(true) {
        Ok(request) => request,
        Err(errors) => {
            return show(
                &web,
                &staff,
                again(refused_fields(errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match web
        .api
        .post::<_, ApiProduct>(&staff.caller, "/api/v1/products", &request)
        .await
    {
        Ok(p) => Redirect::to(&format!("/admin/products/{}?done=created", p.id)).into_response(),
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            show(&web, &staff, again(Form::refused(&p)), status).await
        }
        Err(p) => failure(&web, &staff, "/admin/products/new", &p),
    }
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let p = match load(&web, &staff, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let shown = Shown {
        product: Some(&p),
        fields: Fields::of(&p),
        notice: query.ok().and_then(|Query(q)| done_text(&q.done)),
        form: Form::default(),
        stock_form: Form::default(),
        conflict: Vec::new(),
        version: p.version,
    };
    show(&web, &staff, shown, StatusCode::OK).await
}

pub(super) async fn save(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let posted = pairs(&body);
    let mine = Fields::posted(&posted);
    let version: i64 = posted
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let again =
        |form: Form, conflict: Vec<Difference>, version: i64, notice: Option<String>| Shown {
            product: Some(&saved),
            fields: mine.clone(),
            notice,
            form,
            stock_form: Form::default(),
            conflict,
            version,
        };
    let mut request = match mine.body(false) {
        Ok(request) => request,
        Err(errors) => {
            let shown = again(refused_fields(errors), Vec::new(), version, None);
            return show(&web, &staff, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    request.insert("version".into(), json!(version));
    let path = format!("/api/v1/products/{}", saved.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PATCH, &path, Some(&request), &[])
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("/admin/products/{}?done=saved", saved.id)).into_response(),
        Err(p) if p.status == 412 => {
            // Someone saved first: their version beside this member's edit, which stays in
            // the form with the version now saved, so saving again is a choice.
            let conflict = differences(&Fields::of(&saved), &mine);
            let notice = Some(
                "Someone else saved this product while you were editing. Their version and yours are side by side below; your edit is still in the form. Save again to keep yours."
                    .to_owned(),
            );
            let shown = again(Form::default(), conflict, saved.version, notice);
            show(&web, &staff, shown, StatusCode::PRECONDITION_FAILED).await
        }
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let shown = again(Form::refused(&p), Vec::new(), version, None);
            show(&web, &staff, shown, status).await
        }
        Err(p) => failure(&web, &staff, &format!("/admin/products/{id}"), &p),
    }
}

#[derive(Deserialize)]
pub(super) struct StockForm {
    #[serde(default)]
    on_hand: String,
    #[serde(default)]
    adjust_by: String,
    #[serde(default)]
    version: i64,
}

pub(super) async fn stock(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StockForm>,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let number = |name: &str, text: &str| -> Result<Option<i64>, FieldError> {
        match text.trim() {
            "" => Ok(None),
            t => t
                .trim_start_matches('+')
                .parse::<i64>()
                .map(Some)
                .map_err(|_| field(name, "must be a whole number")),
        }
    };
    let request = match (
        number("on_hand", &f.on_hand),
        number("adjust_by", &f.adjust_by),
    ) {
        (Ok(Some(n)), Ok(None)) => json!({"on_hand": n, "version": f.version}),
        (Ok(None), Ok(Some(n))) => json!({"adjust_by": n, "version": f.version}),
        (Err(e), _) | (_, Err(e)) => {
            let shown = stock_shown(&saved, refused_fields(vec![e]), None);
            return show(&web, &staff, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        _ => {
            let e = field(
                "on_hand",
                "give a count on hand, or a change in the other field, not both",
            );
            let shown = stock_shown(&saved, refused_fields(vec![e]), None);
            return show(&web, &staff, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let path = format!("/api/v1/products/{}/stock", saved.id);
    let answer = web
        .api
        .request::<_, Value>(&staff.caller, Method::PUT, &path, Some(&request), &[])
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("/admin/products/{}?done=stock", saved.id)).into_response(),
        Err(p) if matches!(p.status, 409 | 412 | 422) => {
            let fresh = match load(&web, &staff, &id).await {
                Ok(fresh) => fresh,
                Err(res) => return res,
            };
            let (form, notice) = match p.status {
                412 => (
                    Form::default(),
                    Some("The stock changed while you were looking (a sale, or another member). The counts below are the current ones; try again.".to_owned()),
                ),
                _ => (Form::refused(&p), None),
            };
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::CONFLICT);
            let shown = stock_shown(&fresh, form, notice);
            show(&web, &staff, shown, status).await
        }
        Err(p) => failure(&web, &staff, &format!("/admin/products/{id}"), &p),
    }
}

/// The product page after a stock form was refused: the stock form's messages, the
/// product's own fields as saved.
fn stock_shown(product: &ApiProduct, stock_form: Form, notice: Option<String>) -> Shown<'_> {
    Shown {
        product: Some(product),
        fields: Fields::of(product),
        notice,
        form: Form::default(),
        stock_form,
        conflict: Vec::new(),
        version: product.version,
    }
}

pub(super) async fn archive(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    let saved = match load(&web, &staff, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let path = format!("/api/v1/products/{}", saved.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/admin/products/{}?done=archived", saved.id)).into_response()
        }
        Err(p) => failure(&web, &staff, &format!("/admin/products/{id}"), &p),
    }
}
