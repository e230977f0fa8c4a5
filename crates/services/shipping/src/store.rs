//! The shipping database: zones, rate tables and the product replica.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, Statement, Value,
};
use uuid::Uuid;

use crate::domain::{Bracket, Parcel};

pub mod entities {
    pub mod zone {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "zones")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub name: String,
            pub country: String,
            pub postal_prefixes: Json,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub version: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod rate {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "rates")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub zone_id: Uuid,
            pub carrier: String,
            pub service_code: String,
            pub name: String,
            pub currency: String,
            pub brackets: Json,
            pub free_over: Option<i64>,
            pub min_days: i32,
            pub max_days: i32,
            pub active: bool,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub version: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entities::{rate, zone};

/// A zone: a country, or the part of it whose postal codes start with a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub id: Uuid,
    pub name: String,
    pub country: String,
    pub postal_prefixes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<zone::Model> for Zone {
    fn from(m: zone::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            country: m.country,
            postal_prefixes: serde_json::from_value(m.postal_prefixes).unwrap_or_default(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

/// A service level in a zone with its rate table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rate {
    pub id: Uuid,
    pub zone_id: Uuid,
    pub carrier: String,
    pub service_code: String,
    pub name: String,
    pub currency: String,
    pub brackets: Vec<Bracket>,
    pub free_over: Option<i64>,
    pub min_days: i32,
    pub max_days: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<rate::Model> for Rate {
    fn from(m: rate::Model) -> Self {
        Self {
            id: m.id,
            zone_id: m.zone_id,
            carrier: m.carrier,
            service_code: m.service_code,
            name: m.name,
            currency: m.currency,
            brackets: serde_json::from_value(m.brackets).unwrap_or_default(),
            free_over: m.free_over,
            min_days: m.min_days,
            max_days: m.max_days,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, DbErr> {
    serde_json::to_value(value).map_err(|e| DbErr::Custom(e.to_string()))
}

// --- zones ---------------------------------------------------------------------------

pub async fn zones<C: ConnectionTrait>(db: &C) -> Result<Vec<Zone>, DbErr> {
    Ok(zone::Entity::find()
        .order_by_asc(zone::Column::Country)
        .order_by_asc(zone::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn zones_in<C: ConnectionTrait>(db: &C, country: &str) -> Result<Vec<Zone>, DbErr> {
    Ok(zone::Entity::find()
        .filter(zone::Column::Country.eq(country))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn zone<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Zone>, DbErr> {
    Ok(zone::Entity::find_by_id(id).one(db).await?.map(Into::into))
}

pub async fn zone_count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    zone::Entity::find().count(db).await
}

pub async fn insert_zone<C: ConnectionTrait>(db: &C, z: &Zone) -> Result<(), DbErr> {
    zone::ActiveModel {
        id: Set(z.id),
        name: Set(z.name.clone()),
        country: Set(z.country.clone()),
        postal_prefixes: Set(json(&z.postal_prefixes)?),
        created_at: Set(z.created_at),
        updated_at: Set(z.updated_at),
        version: Set(z.version),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes an edited zone if it is still at `expected`; `false` when someone was first.
pub async fn update_zone<C: ConnectionTrait>(
    db: &C,
    z: &Zone,
    expected: i64,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE zones SET name = $1, country = $2, postal_prefixes = $3, updated_at = $4, version = $5 \
             WHERE id = $6 AND version = $7",
            [
                z.name.clone().into(),
                z.country.clone().into(),
                json(&z.postal_prefixes)?.into(),
                z.updated_at.into(),
                z.version.into(),
                z.id.into(),
                expected.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete_zone<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    zone::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

// --- rates ---------------------------------------------------------------------------

pub async fn rates<C: ConnectionTrait>(db: &C, zone_id: Option<Uuid>) -> Result<Vec<Rate>, DbErr> {
    let mut q = rate::Entity::find();
    if let Some(z) = zone_id {
        q = q.filter(rate::Column::ZoneId.eq(z));
    }
    Ok(q.order_by_asc(rate::Column::ZoneId)
        .order_by_asc(rate::Column::ServiceCode)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn rate<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Rate>, DbErr> {
    Ok(rate::Entity::find_by_id(id).one(db).await?.map(Into::into))
}

pub async fn insert_rate<C: ConnectionTrait>(db: &C, r: &Rate) -> Result<(), DbErr> {
    rate::ActiveModel {
        id: Set(r.id),
        zone_id: Set(r.zone_id),
        carrier: Set(r.carrier.clone()),
        service_code: Set(r.service_code.clone()),
        name: Set(r.name.clone()),
        currency: Set(r.currency.clone()),
        brackets: Set(json(&r.brackets)?),
        free_over: Set(r.free_over),
        min_days: Set(r.min_days),
        max_days: Set(r.max_days),
        active: Set(r.active),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
        version: Set(r.version),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes an edited rate if it is still at `expected`; `false` when someone was first.
pub async fn update_rate<C: ConnectionTrait>(
    db: &C,
    r: &Rate,
    expected: i64,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE rates SET carrier = $1, service_code = $2, name = $3, currency = $4, brackets = $5, \
             free_over = $6, min_days = $7, max_days = $8, active = $9, updated_at = $10, version = $11 \
             WHERE id = $12 AND version = $13",
            [
                r.carrier.clone().into(),
                r.service_code.clone().into(),
                r.name.clone().into(),
                r.currency.clone().into(),
                json(&r.brackets)?.into(),
                r.free_over.into(),
                r.min_days.into(),
                r.max_days.into(),
                r.active.into(),
                r.updated_at.into(),
                r.version.into(),
                r.id.into(),
                expected.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete_rate<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    rate::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

// --- the product replica -------------------------------------------------------------

/// What a quote needs of a product.
#[derive(Clone, Copy, Debug)]
pub struct ProductInfo {
    pub price: i64,
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub active: bool,
}

impl ProductInfo {
    pub fn parcel(&self, quantity: i64) -> Parcel {
        Parcel {
            weight_grams: self.weight_grams,
            length_mm: self.length_mm,
            width_mm: self.width_mm,
            height_mm: self.height_mm,
            quantity,
        }
    }
}

/// Records a catalog snapshot unless a newer version is held.
pub async fn record_product<C: ConnectionTrait>(
    db: &C,
    p: &contracts::catalog::ProductSnapshot,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO products (id, price, currency, weight_grams, length_mm, width_mm, height_mm, active, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET price = excluded.price, currency = excluded.currency, \
         weight_grams = excluded.weight_grams, length_mm = excluded.length_mm, width_mm = excluded.width_mm, \
         height_mm = excluded.height_mm, active = excluded.active, version = excluded.version \
         WHERE products.version < excluded.version",
        [
            p.product_id.into(),
            p.price.into(),
            p.currency.clone().into(),
            p.weight_grams.into(),
            p.length_mm.into(),
            p.width_mm.into(),
            p.height_mm.into(),
            p.active.into(),
            p.version.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The known products among `ids`, with their currency.
pub async fn products<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (ProductInfo, String)>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = platform::db::placeholders(1, ids.len());
    let values: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT id, price, currency, weight_grams, length_mm, width_mm, height_mm, active \
                 FROM products WHERE id IN ({})",
                placeholders
            ),
            values,
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let info = ProductInfo {
            price: r.try_get("", "price")?,
            weight_grams: r.try_get("", "weight_grams")?,
            length_mm: r.try_get("", "length_mm")?,
            width_mm: r.try_get("", "width_mm")?,
            height_mm: r.try_get("", "height_mm")?,
            active: r.try_get("", "active")?,
        };
        out.insert(r.try_get("", "id")?, (info, r.try_get("", "currency")?));
    }
    Ok(out)
}
