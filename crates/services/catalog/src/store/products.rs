//! Products, their categories and stock. Every change is a conditional update on the
//! expected version, so two editors can never overwrite each other silently.

use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    Set, Statement,
};
use uuid::Uuid;

use super::entities::{product, product_category};
use crate::domain::stock::Stock;

/// A product as the store knows it.
#[derive(Clone, Debug)]
pub struct Product {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub active: bool,
    pub stock: Stock,
    pub stock_version: i64,
    pub units_sold: i64,
    pub rating_count: i64,
    pub rating_sum: i64,
    pub created_at: DateTime<Utc>,
    pub version: i64,
    pub category_ids: Vec<Uuid>,
    /// Processed images in display order, from media (see `store::media::attach`).
    pub images: Vec<contracts::media::ImageSummary>,
}

impl From<product::Model> for Product {
    fn from(m: product::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            name: m.name,
            description: m.description,
            price: m.price,
            currency: m.currency,
            weight_grams: m.weight_grams,
            length_mm: m.length_mm,
            width_mm: m.width_mm,
            height_mm: m.height_mm,
            active: m.active,
            stock: Stock {
                on_hand: m.on_hand,
                reserved: m.reserved,
            },
            stock_version: m.stock_version,
            units_sold: m.units_sold,
            rating_count: m.rating_count,
            rating_sum: m.rating_sum,
            created_at: m.created_at,
            version: m.version,
            category_ids: Vec::new(),
            images: Vec::new(),
        }
    }
}

/// The fields staff edit; `None` in [`ProductFields`] updates means "keep".
#[derive(Clone, Debug)]
pub struct ProductFields {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub category_ids: Vec<Uuid>,
}

async fn with_categories<C: ConnectionTrait>(
    db: &C,
    mut products: Vec<Product>,
) -> Result<Vec<Product>, DbErr> {
    if products.is_empty() {
        return Ok(products);
    }
    let links = product_category::Entity::find()
        .filter(product_category::Column::ProductId.is_in(products.iter().map(|p| p.id)))
        .all(db)
        .await?;
    for p in &mut products {
        p.category_ids = links
            .iter()
            .filter(|l| l.product_id == p.id)
            .map(|l| l.category_id)
            .collect();
        p.category_ids.sort();
    }
    Ok(products)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Product>, DbErr> {
    let Some(m) = product::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(with_categories(db, vec![m.into()]).await?.pop())
}

pub async fn by_slug<C: ConnectionTrait>(db: &C, slug: &str) -> Result<Option<Product>, DbErr> {
    let Some(m) = product::Entity::find()
        .filter(product::Column::Slug.eq(slug))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(with_categories(db, vec![m.into()]).await?.pop())
}

/// Products by id, in the order given; missing ids are skipped.
pub async fn many<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Product>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Product> = product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut ordered: Vec<Product> = ids
        .iter()
        .filter_map(|id| found.iter().find(|p| p.id == *id).cloned())
        .collect();
    ordered = with_categories(db, ordered).await?;
    Ok(ordered)
}

/// The best sellers among active products in any of `category_ids` (newest first among
/// equals), for the home page.
pub async fn top_in<C: ConnectionTrait>(
    db: &C,
    category_ids: &[Uuid],
    limit: u64,
) -> Result<Vec<Product>, DbErr> {
    if category_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = platform::db::placeholders(2, category_ids.len());
    let mut values: Vec<sea_orm::Value> = vec![i64::try_from(limit).unwrap_or(i64::MAX).into()];
    values.extend(category_ids.iter().map(|id| (*id).into()));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT id FROM products WHERE active AND id IN \
                 (SELECT product_id FROM product_categories WHERE category_id IN ({})) \
                 ORDER BY units_sold DESC, created_at DESC, id DESC LIMIT $1",
                placeholders
            ),
            values,
        ))
        .await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    many(db, &ids).await
}

async fn set_categories<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    category_ids: &[Uuid],
) -> Result<(), DbErr> {
    product_category::Entity::delete_many()
        .filter(product_category::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    for category_id in category_ids {
        product_category::ActiveModel {
            product_id: Set(product_id),
            category_id: Set(*category_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Keeps SQLite's FTS5 index in step with the product (PostgreSQL's tsvector is a
/// generated column and needs nothing).
async fn index_for_search<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    name: &str,
    description: &str,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "DELETE FROM product_search WHERE product_id = $1",
        [id.into()],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO product_search (product_id, name, description) VALUES ($1, $2, $3)",
        [id.into(), name.into(), description.into()],
    ))
    .await?;
    Ok(())
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    f: &ProductFields,
    on_hand: i64,
    now: DateTime<Utc>,
) -> Result<Product, DbErr> {
    let id = Uuid::now_v7();
    product::ActiveModel {
        id: Set(id),
        slug: Set(f.slug.clone()),
        name: Set(f.name.clone()),
        description: Set(f.description.clone()),
        price: Set(f.price),
        currency: Set(f.currency.clone()),
        weight_grams: Set(f.weight_grams),
        length_mm: Set(f.length_mm),
        width_mm: Set(f.width_mm),
        height_mm: Set(f.height_mm),
        active: Set(true),
        on_hand: Set(on_hand),
        reserved: Set(0),
        stock_version: Set(1),
        units_sold: Set(0),
        rating_count: Set(0),
        rating_sum: Set(0),
        rating_avg_milli: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?;
    set_categories(db, id, &f.category_ids).await?;
    index_for_search(db, id, &f.name, &f.description).await?;
    get(db, id)
        .await?
        .ok_or(DbErr::RecordNotFound("product just inserted".into()))
}

/// Replaces the editable fields if the product is still at `expected_version`.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    f: &ProductFields,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = product::Entity::update_many()
        .col_expr(product::Column::Slug, Expr::value(f.slug.clone()))
        .col_expr(product::Column::Name, Expr::value(f.name.clone()))
        .col_expr(
            product::Column::Description,
            Expr::value(f.description.clone()),
        )
        .col_expr(product::Column::Price, Expr::value(f.price))
        .col_expr(product::Column::Currency, Expr::value(f.currency.clone()))
        .col_expr(product::Column::WeightGrams, Expr::value(f.weight_grams))
        .col_expr(product::Column::LengthMm, Expr::value(f.length_mm))
        .col_expr(product::Column::WidthMm, Expr::value(f.width_mm))
        .col_expr(product::Column::HeightMm, Expr::value(f.height_mm))
        .col_expr(product::Column::UpdatedAt, Expr::value(now))
        .col_expr(product::Column::Version, Expr::value(expected_version + 1))
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(false);
    }
    set_categories(db, id, &f.category_ids).await?;
    index_for_search(db, id, &f.name, &f.description).await?;
    Ok(true)
}

/// Archives (hides) a product at `expected_version`.
pub async fn archive<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = product::Entity::update_many()
        .col_expr(product::Column::Active, Expr::value(false))
        .col_expr(product::Column::UpdatedAt, Expr::value(now))
        .col_expr(product::Column::Version, Expr::value(expected_version + 1))
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Sets `on_hand` if the stock is still at `expected_version` and the new count covers
/// what is reserved. The condition sits in the UPDATE itself, so no interleaving of
/// requests can take stock below zero or below the reservations.
pub async fn set_on_hand<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    on_hand: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = product::Entity::update_many()
        .col_expr(product::Column::OnHand, Expr::value(on_hand))
        .col_expr(
            product::Column::StockVersion,
            Expr::value(expected_version + 1),
        )
        .col_expr(product::Column::UpdatedAt, Expr::value(now))
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::StockVersion.eq(expected_version))
        .filter(product::Column::Reserved.lte(on_hand))
        .filter(Expr::value(on_hand).gte(0))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
