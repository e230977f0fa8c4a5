//! Categories for staff: the tree, a new category, renaming, moving under another
//! parent, showing on the home page, and deleting (refused, and said why, while
//! products or subcategories are in it).

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use contracts::claims::StaffRole;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdminLayout, DoneQuery, failure, not_found, sign_in_first};
use crate::WebState;
use crate::api::FieldError;
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::Form;

#[derive(Clone, Deserialize)]
struct Node {
    id: String,
    parent_id: Option<String>,
    name: String,
    slug: String,
    #[serde(default)]
    description: String,
    show_on_home: bool,
    #[serde(default)]
    position: i32,
    version: i64,
    #[serde(default)]
    children: Vec<Node>,
}

#[derive(Deserialize)]
struct Tree {
    items: Vec<Node>,
}

/// A category as the tree on the page shows it: indented by its depth.
pub struct Entry {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub depth: usize,
    pub show_on_home: bool,
}

/// A parent to choose in a form.
pub struct Parent {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

fn flatten(nodes: &[Node], depth: usize, out: &mut Vec<(usize, Node)>) {
    for n in nodes {
        out.push((depth, n.clone()));
        flatten(&n.children, depth + 1, out);
    }
}

/// The categories a category may move under: any but itself and those below it.
fn parents(all: &[(usize, Node)], moving: Option<&Node>, selected: Option<&str>) -> Vec<Parent> {
    let mut below = Vec::new();
    if let Some(m) = moving {
        let mut stack = vec![m.clone()];
        while let Some(n) = stack.pop() {
            below.push(n.id.clone());
            stack.extend(n.children.iter().cloned());
        }
    }
    all.iter()
        .filter(|(_, n)| !below.contains(&n.id))
        .map(|(depth, n)| Parent {
            id: n.id.clone(),
            label: format!("{}{}", "– ".repeat(*depth), n.name),
            selected: selected == Some(n.id.as_str()),
        })
        .collect()
}

async fn tree(web: &WebState, staff: &StaffMember) -> Result<Vec<(usize, Node)>, Response> {
    let tree: Tree = web
        .api
        .get(&staff.caller, "/api/v1/categories")
        .await
        .map_err(|p| failure(web, staff, "/admin/categories", &p))?;
    let mut all = Vec::new();
    flatten(&tree.items, 0, &mut all);
    Ok(all)
}

/// What the new-category form holds.
#[derive(Default)]
pub struct Draft {
    pub name: String,
    pub parent_id: String,
    pub show_on_home: bool,
}

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct TreePage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    entries: Vec<Entry>,
    parents: Vec<Parent>,
    draft: Draft,
    may_edit: bool,
}

fn done_text(done: &str) -> Option<String> {
    let text = match done {
        "created" => "The category is created.",
        "saved" => "Saved.",
        "deleted" => "The category is deleted.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/categories");
    }
    let notice = query.ok().and_then(|Query(q)| done_text(&q.done));
    show_tree(
        &web,
        &staff,
        notice,
        Form::default(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

async fn show_tree(
    web: &WebState,
    staff: &StaffMember,
    notice: Option<String>,
    form: Form,
    draft: Draft,
    status: StatusCode,
) -> Response {
    let all = match tree(web, staff).await {
        Ok(all) => all,
        Err(res) => return res,
    };
    let parents = parents(&all, None, Some(draft.parent_id.as_str()));
    render_status(
        status,
        &TreePage {
            layout: AdminLayout::new(web, staff, "categories"),
            notice,
            form,
            entries: all
                .iter()
                .map(|(depth, n)| Entry {
                    id: n.id.clone(),
                    name: n.name.clone(),
                    slug: n.slug.clone(),
                    depth: *depth,
                    show_on_home: n.show_on_home,
                })
                .collect(),
            parents,
            draft,
            may_edit: staff.may(StaffRole::Inventory),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    show_on_home: Option<String>,
    /// Its place among its siblings, as typed.
    #[serde(default)]
    position: String,
    #[serde(default)]
    version: i64,
}

impl CategoryForm {
    /// What is wrong with the typed place, if anything (the API checks its range).
    fn position_error(&self) -> Option<Form> {
        let typed = self.position.trim();
        (!typed.is_empty() && typed.parse::<i32>().is_err()).then(|| Form {
            problem: Some("Some fields need another look; each says what is wrong.".into()),
            errors: vec![FieldError {
                field: "position".into(),
                message: "must be a whole number, like 10 or -5".into(),
            }],
        })
    }

    /// The API's body; an empty parent is the top level.
    fn body(&self, editing: bool) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("name".into(), json!(self.name.trim()));
        let parent = match self.parent_id.trim() {
            "" => Value::Null,
            id => json!(id),
        };
        body.insert("parent_id".into(), parent);
        body.insert(
            "show_on_home".into(),
            json!(self.show_on_home.as_deref() == Some("true")),
        );
        if editing {
            if !self.slug.trim().is_empty() {
                body.insert("slug".into(), json!(self.slug.trim()));
            }
            body.insert("description".into(), json!(self.description));
            body.insert("version".into(), json!(self.version));
            if let Ok(place) = self.position.trim().parse::<i32>() {
                body.insert("position".into(), json!(place));
            }
        }
        body
    }
}

pub(super) async fn create(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(f): Posted<CategoryForm>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first("/admin/categories");
    }
    let answer = web
        .api
        .post::<_, Value>(&staff.caller, "/api/v1/categories", &f.body(false))
        .await;
    match answer {
        Ok(_) => Redirect::to("/admin/categories?done=created").into_response(),
        Err(p) if matches!(p.status, 409 | 422) => {
            let draft = Draft {
                name: f.name,
                parent_id: f.parent_id,
                show_on_home: f.show_on_home.as_deref() == Some("true"),
            };
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            show_tree(&web, &staff, None, Form::refused(&p), draft, status).await
        }
        Err(p) => failure(&web, &staff, "/admin/categories", &p),
    }
}

#[derive(Template)]
#[template(path = "admin/category.html")]
struct CategoryPage {
    layout: AdminLayout,
    notice: Option<String>,
    form: Form,
    id: String,
    /// Not `name`: inside the field macro that word is the field's own name.
    category_name: String,
    slug: String,
    description: String,
    show_on_home: bool,
    position: String,
    version: i64,
    parents: Vec<Parent>,
    may_edit: bool,
}

/// A category and the whole tree it sits in (for the parents a form offers).
struct Found {
    all: Vec<(usize, Node)>,
    node: Node,
}

async fn find(web: &WebState, staff: &StaffMember, id: &str) -> Result<Found, Response> {
    if !staff.signed_in() {
        return Err(sign_in_first(&format!("/admin/categories/{id}")));
    }
    let all = tree(web, staff).await?;
    let found = all.iter().find(|(_, n)| n.id == id).map(|(_, n)| n.clone());
    match found {
        Some(node) => Ok(Found { all, node }),
        None => Err(not_found(web, staff)),
    }
}

/// The category's page with `values` in its form (the saved ones, or what the member
/// typed when the API refused it).
fn show_category(
    web: &WebState,
    staff: &StaffMember,
    found: &Found,
    values: &CategoryForm,
    notice: Option<String>,
    form: Form,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &CategoryPage {
            layout: AdminLayout::new(web, staff, "categories"),
            notice,
            form,
            id: found.node.id.clone(),
            category_name: values.name.clone(),
            slug: values.slug.clone(),
            description: values.description.clone(),
            show_on_home: values.show_on_home.as_deref() == Some("true"),
            position: values.position.clone(),
            version: values.version,
            parents: parents(
                &found.all,
                Some(&found.node),
                Some(values.parent_id.as_str()),
            ),
            may_edit: staff.may(StaffRole::Inventory),
        },
    )
}

fn saved_values(n: &Node) -> CategoryForm {
    CategoryForm {
        name: n.name.clone(),
        slug: n.slug.clone(),
        description: n.description.clone(),
        parent_id: n.parent_id.clone().unwrap_or_default(),
        show_on_home: n.show_on_home.then(|| "true".to_owned()),
        position: n.position.to_string(),
        version: n.version,
    }
}

pub(super) async fn detail(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    match find(&web, &staff, &id).await {
        Ok(found) => {
            let values = saved_values(&found.node);
            show_category(
                &web,
                &staff,
                &found,
                &values,
                None,
                Form::default(),
                StatusCode::OK,
            )
        }
        Err(res) => res,
    }
}

pub(super) async fn save(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    Posted(f): Posted<CategoryForm>,
) -> Response {
    let found = match find(&web, &staff, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    if let Some(form) = f.position_error() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return show_category(&web, &staff, &found, &f, None, form, status);
    }
    let path = format!("/api/v1/categories/{}", found.node.id);
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
    match answer {
        Ok(_) => Redirect::to("/admin/categories?done=saved").into_response(),
        Err(p) if p.status == 412 => {
            // Saved meanwhile: the member's edit stays in the form, with the version now
            // saved, and the page says what the saved category is called now.
            let notice = Some(format!(
                "Someone else saved this category while you were editing (it is now \u{201c}{}\u{201d}{}). Your edit is still in the form; save again to keep it.",
                found.node.name,
                if found.node.show_on_home {
                    ", shown on the home page"
                } else {
                    ""
                }
            ));
            let values = CategoryForm {
                version: found.node.version,
                ..f
            };
            show_category(
                &web,
                &staff,
                &found,
                &values,
                notice,
                Form::default(),
                StatusCode::PRECONDITION_FAILED,
            )
        }
        Err(p) if matches!(p.status, 409 | 422) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            show_category(&web, &staff, &found, &f, None, Form::refused(&p), status)
        }
        Err(p) => failure(&web, &staff, &format!("/admin/categories/{id}"), &p),
    }
}

pub(super) async fn delete(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    let found = match find(&web, &staff, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let path = format!("/api/v1/categories/{}", found.node.id);
    match web
        .api
        .call(&staff.caller, Method::DELETE, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to("/admin/categories?done=deleted").into_response(),
        Err(p) if p.status == 409 => {
            let why = match p.code.as_str() {
                "category_in_use" => format!(
                    "This category cannot be deleted yet: {}. Move those products to another category, or archive them, first.",
                    p.detail
                ),
                "category_has_children" => "This category cannot be deleted yet: it has subcategories. Move or delete them first.".to_owned(),
                _ => Form::refused(&p).problem.unwrap_or_default(),
            };
            let values = saved_values(&found.node);
            show_category(
                &web,
                &staff,
                &found,
                &values,
                None,
                Form {
                    problem: Some(why),
                    errors: Vec::new(),
                },
                StatusCode::CONFLICT,
            )
        }
        Err(p) => failure(&web, &staff, &format!("/admin/categories/{id}"), &p),
    }
}
