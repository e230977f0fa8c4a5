//! Products: public reads and listings, edits by inventory staff.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use std::net::IpAddr;

use contracts::Event;
use contracts::catalog::{ProductArchived, ProductCreated, ProductUpdated};
use platform::auth::{Inventory, MaybeStaff, Staff, StaffAuth};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ApiQuery, ClientIp, if_match, required_version, with_etag};
use platform::page::{MAX_LIMIT, Page, encode_cursor};
use platform::unit::UnitOfWork;
use platform::validate::Fields;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::product_view::{ProductView, view};
use super::responses::{json_response, product_response};
use crate::AppState;
use crate::domain::category::Tree;
use crate::domain::product::{
    MAX_CATEGORIES, MAX_GRAMS, MAX_MM, MAX_PRICE, Naming, NamingInput, check_amount,
    parse_currency, parse_naming,
};
use crate::events::{snapshot, stock_changed};
use crate::store::categories;
use crate::store::listing::{self, Filter, Position, Sort};
use crate::store::products::{self, Product, ProductFields};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product, archive_product))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to find in names and descriptions.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// A category id; its subcategories are included.
    pub category: Option<Uuid>,
    #[param(minimum = 0, maximum = 1e12)]
    pub min_price: Option<i64>,
    #[param(minimum = 0, maximum = 1e12)]
    pub max_price: Option<i64>,
    /// Only products that can be bought now.
    pub in_stock: Option<bool>,
    /// Staff only: archived products too (they are marked `active: false`).
    pub archived: Option<bool>,
    /// `relevance` (default with `q`), `price_asc`, `price_desc`, `newest` (default), `rating`.
    #[param(value_type = Option<String>, pattern = "^(relevance|price_asc|price_desc|newest|rating)$")]
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Products with search, filters, sorts and cursor paging.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ListParams),
    responses((status = 200, body = Page<ProductView>), (status = 422, body = platform::error::Problem)))]
async fn list_products(
    State(s): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    RawQuery(raw_query): RawQuery,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    let mut f = Fields::new();
    let limit = p.limit.unwrap_or(20);
    f.check(
        (1..=MAX_LIMIT).contains(&limit),
        "limit",
        "must be between 1 and 100",
    );
    let q = p.q.as_deref().unwrap_or_default();
    f.check(
        q.chars().count() <= 200,
        "q",
        "must be at most 200 characters",
    );
    let terms = listing::terms(q);
    let sort = match p.sort.as_deref() {
        None if !terms.is_empty() => Some(Sort::Relevance),
        None => Some(Sort::Newest),
        Some("relevance") => Some(Sort::Relevance),
        Some("price_asc") => Some(Sort::PriceAsc),
        Some("price_desc") => Some(Sort::PriceDesc),
        Some("newest") => Some(Sort::Newest),
        Some("rating") => Some(Sort::Rating),
        Some(_) => {
            f.add(
                "sort",
                "must be one of relevance, price_asc, price_desc, newest, rating",
            );
            None
        }
    };
    for (field, v) in [("min_price", p.min_price), ("max_price", p.max_price)] {
        if let Some(v) = v {
            check_amount(&mut f, field, v, MAX_PRICE);
        }
    }
    if let (Some(min), Some(max)) = (p.min_price, p.max_price) {
        f.check(min <= max, "min_price", "must not exceed max_price");
    }
    let include_archived = p.archived.unwrap_or(false);
    f.check(
        !include_archived || staff.is_some(),
        "archived",
        "lists archived products for staff only",
    );
    let after: Option<Position> = match p
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(platform::page::decode_cursor::<Position>)
    {
        Some(Ok(pos)) => Some(pos),
        Some(Err(_)) => {
            f.add("cursor", "is not a cursor this API issued");
            None
        }
        None => None,
    };
    f.finish()?;
    let sort = sort.unwrap_or(Sort::Newest);
    if after
        .as_ref()
        .is_some_and(|a| a.sort != sort && !(a.sort == Sort::Newest && sort == Sort::Relevance))
    {
        return Err(ApiError::field(
            "cursor",
            "belongs to a listing with another sort",
        ));
    }
    // Public listings are cached whole, keyed by the exact query and the generation
    // every catalog change bumps; staff listings carry stock counts and are not.
    let cache_key = match staff {
        None => {
            crate::cache::listing_key(&s.ctx.cache, raw_query.as_deref().unwrap_or_default()).await
        }
        Some(_) => None,
    };
    if let Some(key) = &cache_key
        && let Some(hit) = s.ctx.cache.get(key).await
    {
        return Ok(json_response(hit, true));
    }
    let category_ids = match p.category {
        Some(id) => {
            let all = categories::live(&s.ctx.db).await?;
            let tree = Tree::new(all.iter().map(|c| (c.id, c.parent_id)));
            Some(if tree.contains(id) {
                tree.with_descendants(id)
            } else {
                Vec::new()
            })
        }
        None => None,
    };
    let filter = Filter {
        terms,
        category_ids,
        min_price: p.min_price,
        max_price: p.max_price,
        in_stock: p.in_stock.unwrap_or(false),
        include_archived,
    };
    let mut rows = listing::list(&s.ctx.db, &filter, sort, after.as_ref(), limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let effective = if sort == Sort::Relevance && filter.terms.is_empty() {
        Sort::Newest
    } else {
        sort
    };
    let next_cursor = if more {
        rows.last().map(|(p, key)| {
            encode_cursor(&Position {
                sort: effective,
                key: *key,
                id: p.id,
            })
        })
    } else {
        None
    };
    let mut products: Vec<Product> = rows.into_iter().map(|(p, _)| p).collect();
    crate::store::media::attach(&s.ctx.db, &mut products).await?;
    let page = Page {
        items: products
            .into_iter()
            .map(|p| view(p, staff.is_some()))
            .collect(),
        next_cursor,
    };
    let body = Bytes::from(serde_json::to_vec(&page).map_err(ApiError::internal)?);
    if let Some(key) = &cache_key {
        s.ctx.cache.set(key, body.clone()).await;
    }
    Ok(json_response(body, staff.is_none()))
}

/// A product by id or slug, with its images.
async fn find(s: &AppState, id_or_slug: &str) -> ApiResult<Option<Product>> {
    let found = match Uuid::parse_str(id_or_slug) {
        Ok(id) => products::get(&s.ctx.db, id).await?,
        Err(_) => products::by_slug(&s.ctx.db, id_or_slug).await?,
    };
    let mut found: Vec<Product> = found.into_iter().collect();
    crate::store::media::attach(&s.ctx.db, &mut found).await?;
    Ok(found.pop())
}

/// A product by id or slug. Archived products are visible to staff only.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Product id or slug")),
    responses((status = 200, body = ProductView), (status = 304, description = "Not modified"), (status = 404, body = platform::error::Problem)))]
async fn get_product(
    State(s): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let public = staff.is_none();
    // One cache entry per name a product is asked by: its id (canonical form) or slug.
    let cache_key = crate::cache::product_key(
        &Uuid::parse_str(&key).map_or_else(|_| key.clone(), |id| id.to_string()),
    );
    if public
        && let Some(hit) = s.ctx.cache.get(&cache_key).await
        && let Some((version, body)) = crate::cache::decode(&hit)
    {
        return Ok(product_response(
            version,
            hit.slice_ref(body),
            &headers,
            true,
        ));
    }
    let product = find(&s, &key)
        .await?
        .filter(|p| p.active || !public)
        .ok_or_else(|| ApiError::not_found("product"))?;
    let (version, cacheable) = (product.version, public && product.active);
    let body =
        Bytes::from(serde_json::to_vec(&view(product, !public)).map_err(ApiError::internal)?);
    if cacheable {
        s.ctx
            .cache
            .set(&cache_key, crate::cache::encode(version, &body))
            .await;
    }
    Ok(product_response(version, body, &headers, public))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(schema_with = platform::schema::line_or_null::<1, 200>)]
    pub name: Option<String>,
    /// Generated from the name when omitted on create.
    #[schema(schema_with = platform::schema::slug_or_null)]
    pub slug: Option<String>,
    #[schema(schema_with = platform::schema::multiline_or_null::<10000>)]
    pub description: Option<String>,
    /// Minor units of `currency`.
    #[schema(minimum = 0, maximum = 1e12)]
    pub price: Option<i64>,
    /// ISO 4217, e.g. `USD`.
    #[schema(schema_with = platform::schema::currency_or_null)]
    pub currency: Option<String>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub weight_grams: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000)]
    pub length_mm: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000)]
    pub width_mm: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000)]
    pub height_mm: Option<i64>,
    #[schema(max_items = 20)]
    pub category_ids: Option<Vec<Uuid>>,
    /// Initial units on hand (create only; later through the stock endpoint).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock: Option<i64>,
    /// Expected version for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

/// Validates every field of `input` over `base`, reporting all problems at once.
async fn parse(
    s: &AppState,
    input: &ProductInput,
    base: Option<&Product>,
) -> ApiResult<ProductFields> {
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
        10_000,
    );
    let mut number = |field: &str, new: Option<i64>, old: Option<i64>, max: i64| match new.or(old) {
        Some(v) => {
            check_amount(&mut f, field, v, max);
            v
        }
        None => {
            f.add(field, "is required");
            0
        }
    };
    let price = number("price", input.price, base.map(|b| b.price), MAX_PRICE);
    let weight_grams = number(
        "weight_grams",
        input.weight_grams,
        base.map(|b| b.weight_grams),
        MAX_GRAMS,
    );
    let length_mm = number(
        "length_mm",
        input.length_mm,
        base.map(|b| b.length_mm),
        MAX_MM,
    );
    let width_mm = number("width_mm", input.width_mm, base.map(|b| b.width_mm), MAX_MM);
    let height_mm = number(
        "height_mm",
        input.height_mm,
        base.map(|b| b.height_mm),
        MAX_MM,
    );
    let currency = match (&input.currency, base) {
        (Some(c), _) => f.parse("currency", parse_currency(c)),
        (None, Some(b)) => Some(b.currency.clone()),
        (None, None) => {
            f.add("currency", "is required");
            None
        }
    };
    let mut category_ids = input
        .category_ids
        .clone()
        .or_else(|| base.map(|b| b.category_ids.clone()))
        .unwrap_or_default();
    category_ids.sort();
    category_ids.dedup();
    if category_ids.len() > MAX_CATEGORIES {
        f.add(
            "category_ids",
            format!("at most {MAX_CATEGORIES} categories"),
        );
    } else if !category_ids.is_empty() {
        let live = categories::live(&s.ctx.db).await?;
        if let Some(missing) = category_ids
            .iter()
            .find(|id| !live.iter().any(|c| c.id == **id))
        {
            f.add("category_ids", format!("{missing} is not a category"));
        }
    }
    if base.is_some() && input.stock.is_some() {
        f.add("stock", "changes through PUT /api/v1/products/{id}/stock");
    }
    if let Some(stock) = input.stock {
        f.count("stock", stock, false);
    }
    f.finish()?;
    Ok(ProductFields {
        slug: slug.unwrap_or_default(),
        name: name.unwrap_or_default(),
        description: description.unwrap_or_default(),
        price,
        currency: currency.unwrap_or_default(),
        weight_grams,
        length_mm,
        width_mm,
        height_mm,
        category_ids,
    })
}

fn slug_taken(e: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::conflict("slug_taken", "another product has this slug")
    } else {
        e.into()
    }
}

platform::required_fields_schema!(
    /// What creating one needs: `ProductInput` with these fields sent.
    ProductCreate = ProductInput { "name", "price", "currency", "weight_grams", "length_mm", "width_mm", "height_mm" }
);

/// Creates a product.
#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", security(("bearer" = [])), request_body = ProductCreate,
    responses((status = 201, body = ProductView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn create_product(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ProductInput>,
) -> ApiResult<(StatusCode, Response)> {
    let fields = parse(&s, &input, None).await?;
    let work = s.ctx.begin().await?;
    let product = products::insert(&work, &fields, input.stock.unwrap_or(0), work.now())
        .await
        .map_err(slug_taken)?;
    work.emit(&stock_changed(&product), product.stock_version)
        .await?;
    let event = ProductCreated {
        product: snapshot(&product),
    };
    finish_write(
        &s,
        work,
        &staff,
        ip,
        "product.created",
        &product,
        &event,
        &[],
    )
    .await?;
    let version = product.version;
    Ok((StatusCode::CREATED, with_etag(view(product, true), version)))
}

/// Edits a product; omitted fields keep their value. Requires the version you read
/// (`If-Match` or `version`); a stale one is 412 and changes nothing.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])), request_body = ProductInput,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductView), (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn update_product(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ProductInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let current = products::get(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let fields = parse(&s, &input, Some(&current)).await?;
    // The body is judged before the version: an invalid edit is 422 whatever it
    // was based on.
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    let work = s.ctx.begin().await?;
    if !products::update(&work, id, expected, &fields, work.now())
        .await
        .map_err(slug_taken)?
    {
        let latest = products::get(&work, id)
            .await?
            .map_or(current.version, |p| p.version);
        return Err(ApiError::stale_version(latest));
    }
    let product = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let event = ProductUpdated {
        product: snapshot(&product),
    };
    finish_write(
        &s,
        work,
        &staff,
        ip,
        "product.updated",
        &product,
        &event,
        &[&current.slug],
    )
    .await?;
    let version = product.version;
    let mut product = [product];
    crate::store::media::attach(&s.ctx.db, &mut product).await?;
    let [product] = product;
    Ok(with_etag(view(product, true), version))
}

/// Archives a product: hidden from customers, kept for order history.
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 204, description = "Archived"), (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem)))]
async fn archive_product(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let current = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    if !current.active {
        return Ok(StatusCode::NO_CONTENT);
    }
    let expected = if_match(&headers)?.unwrap_or(current.version);
    if expected != current.version || !products::archive(&work, id, expected, work.now()).await? {
        return Err(ApiError::stale_version(current.version));
    }
    let product = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let event = ProductArchived {
        product: snapshot(&product),
    };
    finish_write(
        &s,
        work,
        &staff,
        ip,
        "product.archived",
        &product,
        &event,
        &[],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Finishes a product write in `work`: publishes `event`, records the staff action,
/// commits, and drops the cached answers the write made stale (under the product's id,
/// its slug and any `old_slugs`, and every listing).
#[expect(
    clippy::too_many_arguments,
    reason = "the write's transaction, actor and subject"
)]
async fn finish_write<E: Event>(
    s: &AppState,
    work: UnitOfWork,
    staff: &StaffAuth,
    ip: IpAddr,
    action: &str,
    product: &Product,
    event: &E,
    old_slugs: &[&str],
) -> ApiResult<()> {
    work.emit(event, product.version).await?;
    work.audit(
        staff,
        ip,
        action,
        "product",
        product.id,
        json!(snapshot(product)),
    )
    .await?;
    work.commit().await?;
    let mut slugs = old_slugs.to_vec();
    slugs.push(&product.slug);
    crate::cache::forget_product(&s.ctx.cache, product.id, &slugs).await;
    Ok(())
}
