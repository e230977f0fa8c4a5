//! Customers' shipping addresses. Every query is scoped by customer, so one customer's
//! id can never reach another's address.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::entities::address;
use crate::domain::address::Address;

#[derive(Clone, Debug)]
pub struct StoredAddress {
    pub id: Uuid,
    pub address: Address,
    pub version: i64,
}

impl From<address::Model> for StoredAddress {
    fn from(m: address::Model) -> Self {
        Self {
            id: m.id,
            version: m.version,
            address: Address {
                label: m.label,
                recipient_name: m.recipient_name,
                phone: m.phone,
                line1: m.line1,
                line2: m.line2,
                city: m.city,
                region: m.region,
                postal_code: m.postal_code,
                country: m.country,
                note: m.note,
            },
        }
    }
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> Result<Vec<StoredAddress>, DbErr> {
    Ok(address::Entity::find()
        .filter(address::Column::CustomerId.eq(customer_id))
        .order_by_asc(address::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn count<C: ConnectionTrait>(db: &C, customer_id: Uuid) -> Result<u64, DbErr> {
    address::Entity::find()
        .filter(address::Column::CustomerId.eq(customer_id))
        .count(db)
        .await
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<StoredAddress>, DbErr> {
    Ok(address::Entity::find_by_id(id)
        .filter(address::Column::CustomerId.eq(customer_id))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    a: &Address,
    now: DateTime<Utc>,
) -> Result<StoredAddress, DbErr> {
    let m = address::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        label: Set(a.label.clone()),
        recipient_name: Set(a.recipient_name.clone()),
        phone: Set(a.phone.clone()),
        line1: Set(a.line1.clone()),
        line2: Set(a.line2.clone()),
        city: Set(a.city.clone()),
        region: Set(a.region.clone()),
        postal_code: Set(a.postal_code.clone()),
        country: Set(a.country.clone()),
        note: Set(a.note.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?;
    Ok(m.into())
}

/// Replaces an address at `expected_version`; `false` when it changed meanwhile.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    id: Uuid,
    expected_version: i64,
    a: &Address,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = address::Entity::update_many()
        .col_expr(address::Column::Label, Expr::value(a.label.clone()))
        .col_expr(
            address::Column::RecipientName,
            Expr::value(a.recipient_name.clone()),
        )
        .col_expr(address::Column::Phone, Expr::value(a.phone.clone()))
        .col_expr(address::Column::Line1, Expr::value(a.line1.clone()))
        .col_expr(address::Column::Line2, Expr::value(a.line2.clone()))
        .col_expr(address::Column::City, Expr::value(a.city.clone()))
        .col_expr(address::Column::Region, Expr::value(a.region.clone()))
        .col_expr(
            address::Column::PostalCode,
            Expr::value(a.postal_code.clone()),
        )
        .col_expr(address::Column::Country, Expr::value(a.country.clone()))
        .col_expr(address::Column::Note, Expr::value(a.note.clone()))
        .col_expr(address::Column::UpdatedAt, Expr::value(now))
        .col_expr(address::Column::Version, Expr::value(expected_version + 1))
        .filter(address::Column::Id.eq(id))
        .filter(address::Column::CustomerId.eq(customer_id))
        .filter(address::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    let res = address::Entity::delete_many()
        .filter(address::Column::Id.eq(id))
        .filter(address::Column::CustomerId.eq(customer_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
