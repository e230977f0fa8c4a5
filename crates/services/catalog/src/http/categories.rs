//! Categories: a public tree, edited by inventory staff.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::category::Tree;
use crate::domain::product::{Naming, NamingInput, parse_naming};
use crate::store::categories::{self, Category, NewCategory};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category, delete_category))
}

/// A category with its subcategories.
#[derive(Debug, Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct CategoryNode {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub show_on_home: bool,
    pub position: i32,
    pub version: i64,
    pub children: Vec<CategoryNode>,
}

fn node(c: &Category, all: &[Category]) -> CategoryNode {
    CategoryNode {
        id: c.id,
        parent_id: c.parent_id,
        name: c.name.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        show_on_home: c.show_on_home,
        position: c.position,
        version: c.version,
        children: all
            .iter()
            .filter(|x| x.parent_id == Some(c.id))
            .map(|x| node(x, all))
            .collect(),
    }
}

/// `{items: [...]}` of root categories, each with its `children`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTree {
    pub items: Vec<CategoryNode>,
}

/// The category tree.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", responses((status = 200, body = CategoryTree)))]
async fn list_categories(State(s): State<AppState>) -> ApiResult<Response> {
    let all = categories::live(&s.ctx.db).await?;
    let items = all
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| node(c, &all))
        .collect();
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(CategoryTree { items }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(schema_with = platform::schema::line_or_null::<1, 200>)]
    pub name: Option<String>,
    /// Generated from the name when omitted on create.
    #[schema(schema_with = platform::schema::slug_or_null)]
    pub slug: Option<String>,
    /// `null` (or omitted on create) for a top-level category.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[schema(schema_with = platform::schema::multiline_or_null::<2000>)]
    pub description: Option<String>,
    pub show_on_home: Option<bool>,
    /// Its place among its siblings: lower first, then by name.
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub position: Option<i32>,
    /// Expected version for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

/// How far a category's place among its siblings may go either way.
const MAX_POSITION: i32 = 1_000_000;

/// Validates `input` over `base` (the current category for an edit).
async fn parse(
    s: &AppState,
    input: &CategoryInput,
    base: Option<&Category>,
) -> ApiResult<Category> {
    let mut f = Fields::new();
    let Naming {
        name,
        slug,
        description,
    } = parse_naming(
        &mut f,
        NamingInput {
            name: input.name.as_deref(),
            slug: input.slug.as_deref(),
            description: input.description.as_deref(),
        },
        base.map(|b| (b.name.as_str(), b.slug.as_str(), b.description.as_str())),
        2000,
    );
    let parent_id = match (input.parent_id, base) {
        (Some(p), _) => p,
        (None, Some(b)) => b.parent_id,
        (None, None) => None,
    };
    if let Some(parent) = parent_id {
        let all = categories::live(&s.ctx.db).await?;
        let tree = Tree::new(all.iter().map(|c| (c.id, c.parent_id)));
        if !tree.contains(parent) {
            f.add("parent_id", "is not a category");
        } else if base.is_some_and(|b| tree.would_cycle(b.id, parent)) {
            f.add("parent_id", "would put the category below itself");
        }
    }
    f.check(
        input.position.is_none_or(|p| p.abs() <= MAX_POSITION),
        "position",
        "must be between -1000000 and 1000000",
    );
    f.finish()?;
    Ok(Category {
        id: base.map(|b| b.id).unwrap_or_default(),
        parent_id,
        name: name.unwrap_or_default(),
        slug: slug.unwrap_or_default(),
        description: description.unwrap_or_default(),
        show_on_home: input
            .show_on_home
            .or(base.map(|b| b.show_on_home))
            .unwrap_or(false),
        position: input.position.or(base.map(|b| b.position)).unwrap_or(0),
        version: base.map(|b| b.version).unwrap_or(1),
    })
}

fn slug_taken(e: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::conflict("slug_taken", "another category has this slug")
    } else {
        e.into()
    }
}

platform::required_fields_schema!(
    /// What creating one needs: `CategoryInput` with these fields sent.
    CategoryCreate = CategoryInput { "name" }
);

/// Creates a category.
#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog", security(("bearer" = [])), request_body = CategoryCreate,
    responses((status = 201, body = CategoryNode), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn create_category(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<CategoryInput>,
) -> ApiResult<(StatusCode, Json<CategoryNode>)> {
    let c = parse(&s, &input, None).await?;
    let new = NewCategory {
        parent_id: c.parent_id,
        name: &c.name,
        slug: &c.slug,
        description: &c.description,
        show_on_home: c.show_on_home,
        position: c.position,
    };
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    let created = categories::insert(&work, new, now)
        .await
        .map_err(slug_taken)?;
    let details =
        json!({"name": created.name, "slug": created.slug, "parent_id": created.parent_id});
    work.audit(
        &staff,
        ip,
        "category.created",
        "category",
        created.id,
        details,
    )
    .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, Json(node(&created, &[]))))
}

/// Edits a category. Requires the version you read (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "catalog", security(("bearer" = [])), request_body = CategoryInput,
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, body = CategoryNode), (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 428, body = platform::error::Problem)))]
async fn update_category(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CategoryInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let current = categories::get(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("category"))?;
    let next = parse(&s, &input, Some(&current)).await?;
    // The body is judged before the version: an invalid edit is 422 whatever it
    // was based on.
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    if !categories::update(&work, &next, expected, now)
        .await
        .map_err(slug_taken)?
    {
        return Err(ApiError::stale_version(current.version));
    }
    let details = json!({"name": next.name, "slug": next.slug, "parent_id": next.parent_id, "show_on_home": next.show_on_home});
    work.audit(&staff, ip, "category.updated", "category", id, details)
        .await?;
    work.commit().await?;
    crate::cache::forget_listings(&s.ctx.cache).await;
    let saved = Category {
        version: expected + 1,
        ..next
    };
    let all = categories::live(&s.ctx.db).await?;
    Ok(with_etag(node(&saved, &all), saved.version))
}

/// Deletes (hides) a category that no live product and no subcategory uses.
#[utoipa::path(delete, path = "/api/v1/categories/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn delete_category(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    categories::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("category"))?;
    let products = categories::live_product_count(&work, id).await?;
    if products > 0 {
        return Err(ApiError::conflict(
            "category_in_use",
            format!("{products} live product(s) are in this category"),
        ));
    }
    if categories::live_child_count(&work, id).await? > 0 {
        return Err(ApiError::conflict(
            "category_has_children",
            "move or delete the subcategories first",
        ));
    }
    let now = s.ctx.clock.now();
    categories::soft_delete(&work, id, now).await?;
    work.audit(&staff, ip, "category.deleted", "category", id, json!({}))
        .await?;
    work.commit().await?;
    crate::cache::forget_listings(&s.ctx.cache).await;
    Ok(StatusCode::NO_CONTENT)
}
