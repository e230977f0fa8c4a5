//! Categories. Deleting is soft: a deleted category keeps its row for history.

use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::entities::{category, product, product_category};

#[derive(Clone, Debug)]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub show_on_home: bool,
    pub position: i32,
    pub version: i64,
}

impl From<category::Model> for Category {
    fn from(m: category::Model) -> Self {
        Self {
            id: m.id,
            parent_id: m.parent_id,
            name: m.name,
            slug: m.slug,
            description: m.description,
            show_on_home: m.show_on_home,
            position: m.position,
            version: m.version,
        }
    }
}

/// Live categories, in display order.
pub async fn live<C: ConnectionTrait>(db: &C) -> Result<Vec<Category>, DbErr> {
    Ok(category::Entity::find()
        .filter(category::Column::DeletedAt.is_null())
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Category>, DbErr> {
    Ok(category::Entity::find_by_id(id)
        .filter(category::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(Into::into))
}

pub struct NewCategory<'a> {
    pub parent_id: Option<Uuid>,
    pub name: &'a str,
    pub slug: &'a str,
    pub description: &'a str,
    pub show_on_home: bool,
    pub position: i32,
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    new: NewCategory<'_>,
    now: DateTime<Utc>,
) -> Result<Category, DbErr> {
    Ok(category::ActiveModel {
        id: Set(Uuid::now_v7()),
        parent_id: Set(new.parent_id),
        name: Set(new.name.to_owned()),
        slug: Set(new.slug.to_owned()),
        description: Set(new.description.to_owned()),
        show_on_home: Set(new.show_on_home),
        position: Set(new.position),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?
    .into())
}

/// Replaces the editable fields at `expected_version`; `false` when it moved on.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    c: &Category,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = category::Entity::update_many()
        .col_expr(category::Column::ParentId, Expr::value(c.parent_id))
        .col_expr(category::Column::Name, Expr::value(c.name.clone()))
        .col_expr(category::Column::Slug, Expr::value(c.slug.clone()))
        .col_expr(
            category::Column::Description,
            Expr::value(c.description.clone()),
        )
        .col_expr(category::Column::ShowOnHome, Expr::value(c.show_on_home))
        .col_expr(category::Column::Position, Expr::value(c.position))
        .col_expr(category::Column::UpdatedAt, Expr::value(now))
        .col_expr(category::Column::Version, Expr::value(expected_version + 1))
        .filter(category::Column::Id.eq(c.id))
        .filter(category::Column::Version.eq(expected_version))
        .filter(category::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn soft_delete<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = category::Entity::update_many()
        .col_expr(category::Column::DeletedAt, Expr::value(now))
        .col_expr(
            category::Column::Version,
            Expr::col(category::Column::Version).add(1),
        )
        .filter(category::Column::Id.eq(id))
        .filter(category::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Live (active) products filed under the category.
pub async fn live_product_count<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<u64, DbErr> {
    let product_ids: Vec<Uuid> = product_category::Entity::find()
        .filter(product_category::Column::CategoryId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|pc| pc.product_id)
        .collect();
    if product_ids.is_empty() {
        return Ok(0);
    }
    product::Entity::find()
        .filter(product::Column::Id.is_in(product_ids))
        .filter(product::Column::Active.eq(true))
        .count(db)
        .await
}

pub async fn live_child_count<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<u64, DbErr> {
    category::Entity::find()
        .filter(category::Column::ParentId.eq(id))
        .filter(category::Column::DeletedAt.is_null())
        .count(db)
        .await
}
