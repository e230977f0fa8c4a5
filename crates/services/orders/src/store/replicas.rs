//! The replicas: products from catalog's events, customers and their addresses from
//! identity's. Every write keeps the newest version and ignores an older one, so events
//! may arrive late or twice.

use contracts::catalog::{ProductSnapshot, StockChanged};
use contracts::orders::Recipient;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement, Value};
use uuid::Uuid;

/// A product as orders knows it.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Product {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub price: i64,
    pub currency: String,
    pub weight_grams: i64,
    pub active: bool,
    pub available: i64,
    /// The categories it is filed in, as a JSON array (see [`Product::category_ids`]).
    pub categories: serde_json::Value,
}

impl Product {
    pub fn category_ids(&self) -> Vec<Uuid> {
        super::discounts::ids(&self.categories)
    }
}

pub async fn record_product<C: ConnectionTrait>(db: &C, p: &ProductSnapshot) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO products (id, slug, name, price, currency, weight_grams, length_mm, width_mm, height_mm, active, version, category_ids) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, price = excluded.price, \
         currency = excluded.currency, weight_grams = excluded.weight_grams, length_mm = excluded.length_mm, \
         width_mm = excluded.width_mm, height_mm = excluded.height_mm, active = excluded.active, version = excluded.version, \
         category_ids = excluded.category_ids \
         WHERE products.version < excluded.version",
        [
            p.product_id.into(),
            p.slug.clone().into(),
            p.name.clone().into(),
            p.price.into(),
            p.currency.clone().into(),
            p.weight_grams.into(),
            p.length_mm.into(),
            p.width_mm.into(),
            p.height_mm.into(),
            p.active.into(),
            p.version.into(),
            serde_json::json!(p.category_ids).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Records a stock level unless a newer one is held.
pub async fn record_stock<C: ConnectionTrait>(db: &C, s: &StockChanged) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO stock (product_id, available, version) VALUES ($1, $2, $3) \
         ON CONFLICT (product_id) DO UPDATE SET available = excluded.available, version = excluded.version \
         WHERE stock.version < excluded.version",
        [s.product_id.into(), s.available.into(), s.version.into()],
    ))
    .await?;
    Ok(())
}

pub async fn products<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Product>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = platform::db::placeholders(1, ids.len());
    let values: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    Product::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT p.id, p.slug, p.name, p.price, p.currency, p.weight_grams, p.active, COALESCE(s.available, 0) AS available, p.category_ids AS categories \
             FROM products p LEFT JOIN stock s ON s.product_id = p.id WHERE p.id IN ({})",
            placeholders
        ),
        values,
    ))
    .all(db)
    .await
}

pub async fn product<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Product>, DbErr> {
    Ok(products(db, &[id]).await?.pop())
}

/// Records what an identity event says of a customer, unless a newer version is held.
pub async fn record_customer<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    email: &str,
    name: &str,
    verified: Option<bool>,
    version: i64,
) -> Result<(), DbErr> {
    // `verified: None` (an event that does not say) keeps what is known.
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO customers (id, email, name, verified, version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, \
         name = CASE WHEN excluded.name = '' THEN customers.name ELSE excluded.name END, \
         verified = CASE WHEN $6 THEN excluded.verified ELSE customers.verified END, version = excluded.version \
         WHERE customers.version <= excluded.version",
        [
            id.into(),
            email.into(),
            name.into(),
            verified.unwrap_or(false).into(),
            version.into(),
            verified.is_some().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Saves an address (or, with `address: None`, its tombstone) unless a newer version
/// is held.
pub async fn record_address<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    customer_id: Uuid,
    address: Option<&serde_json::Value>,
    version: i64,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO addresses (id, customer_id, address, deleted, version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, deleted = excluded.deleted, version = excluded.version \
         WHERE addresses.version < excluded.version",
        [
            id.into(),
            customer_id.into(),
            address.cloned().unwrap_or(serde_json::Value::Null).into(),
            address.is_none().into(),
            version.into(),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn customer_verified<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT verified FROM customers WHERE id = $1",
            [id.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get("", "verified")?,
        None => false,
    })
}

/// A live address of the customer, as identity last described it.
pub async fn address<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<serde_json::Value>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT address FROM addresses WHERE id = $1 AND customer_id = $2 AND NOT deleted",
            [id.into(), customer_id.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "address")).transpose()
}

/// Where a customer's order mails go, as identity last described them.
pub async fn recipient<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Recipient, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT email, name FROM customers WHERE id = $1",
            [id.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Recipient {
            email: r.try_get("", "email")?,
            name: r.try_get("", "name")?,
        },
        None => Recipient::default(),
    })
}
