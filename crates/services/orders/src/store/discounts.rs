//! Discount codes, the code each cart holds, and each order's use of a code.
//!
//! A use is counted by one conditional update of the code's row, which also locks it
//! until the order's transaction ends: concurrent checkouts with one code take turns,
//! so a code limited to N uses is used N times, never N + 1.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement, Value};
use uuid::Uuid;

use crate::domain::discount::{Code, Kind};

#[derive(Clone, Debug, FromQueryResult)]
pub struct Discount {
    pub id: Uuid,
    pub code: String,
    pub kind: String,
    pub percent: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// JSON arrays of ids.
    pub product_ids: serde_json::Value,
    pub category_ids: serde_json::Value,
    pub active: bool,
    pub times_used: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The ids of a JSON array column.
pub fn ids(json: &serde_json::Value) -> Vec<Uuid> {
    serde_json::from_value(json.clone()).unwrap_or_default()
}

impl Discount {
    pub fn kind(&self) -> Option<Kind> {
        match self.kind.as_str() {
            "percentage" => Some(Kind::Percentage(
                u8::try_from(self.percent.unwrap_or(0)).unwrap_or(0),
            )),
            "fixed_amount" => Some(Kind::FixedAmount(self.amount.unwrap_or(0))),
            "free_shipping" => Some(Kind::FreeShipping),
            _ => None,
        }
    }

    /// The code as the rules see it; a deleted code, or one of a kind this version
    /// does not know, never applies.
    pub fn rules(&self) -> Code {
        let kind = self.kind();
        Code {
            active: self.active && self.deleted_at.is_none() && kind.is_some(),
            kind: kind.unwrap_or(Kind::FreeShipping),
            currency: self.currency.clone(),
            min_subtotal: self.min_subtotal,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit,
            per_customer_limit: self.per_customer_limit,
            times_used: self.times_used,
            product_ids: ids(&self.product_ids),
            category_ids: ids(&self.category_ids),
        }
    }
}

/// How codes are found: case does not matter.
pub fn key(code: &str) -> String {
    code.trim().to_lowercase()
}

const COLUMNS: &str = "id, code, kind, percent, amount, currency, min_subtotal, starts_at, ends_at, \
     usage_limit, per_customer_limit, product_ids, category_ids, active, times_used, version, \
     created_at, updated_at, deleted_at";

fn values(d: &Discount) -> Vec<Value> {
    vec![
        d.id.into(),
        d.code.clone().into(),
        key(&d.code).into(),
        d.kind.clone().into(),
        d.percent.into(),
        d.amount.into(),
        d.currency.clone().into(),
        d.min_subtotal.into(),
        d.starts_at.into(),
        d.ends_at.into(),
        d.usage_limit.into(),
        d.per_customer_limit.into(),
        d.product_ids.clone().into(),
        d.category_ids.clone().into(),
        d.active.into(),
        d.version.into(),
        d.updated_at.into(),
    ]
}

/// Saves a new code; a unique violation when another live code has the same key.
pub async fn insert<C: ConnectionTrait>(db: &C, d: &Discount) -> Result<(), DbErr> {
    let mut values = values(d);
    values.push(d.created_at.into());
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO discounts (id, code, code_key, kind, percent, amount, currency, min_subtotal, starts_at, \
         ends_at, usage_limit, per_customer_limit, product_ids, category_ids, active, version, updated_at, \
         created_at, times_used) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 0)",
        values,
    ))
    .await?;
    Ok(())
}

/// Saves an edit made from version `d.version - 1`; `false` when the code changed (or
/// was deleted) meanwhile. The use count is the database's, never the edit's.
pub async fn update<C: ConnectionTrait>(db: &C, d: &Discount) -> Result<bool, DbErr> {
    let mut values = values(d);
    values.remove(0);
    values.push(d.id.into());
    values.push((d.version - 1).into());
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE discounts SET code = $1, code_key = $2, kind = $3, percent = $4, amount = $5, currency = $6, \
             min_subtotal = $7, starts_at = $8, ends_at = $9, usage_limit = $10, per_customer_limit = $11, \
             product_ids = $12, category_ids = $13, active = $14, version = $15, updated_at = $16 \
             WHERE id = $17 AND version = $18 AND deleted_at IS NULL",
            values,
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Deletes a code: it stops applying at once, past orders keep what it took off, and
/// its text is free for a new code.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE discounts SET deleted_at = $1, code_key = NULL, active = FALSE, version = version + 1, \
             updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
            [now.into(), id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// A live code by id.
pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Discount>, DbErr> {
    Discount::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM discounts WHERE id = $1 AND deleted_at IS NULL"),
        [id.into()],
    ))
    .one(db)
    .await
}

/// A live code by what a customer typed.
pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<Discount>, DbErr> {
    Discount::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM discounts WHERE code_key = $1"),
        [key(code).into()],
    ))
    .one(db)
    .await
}

/// Live codes, newest first, after the keyset position `after`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Discount>, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = match after {
        Some((at, id)) => Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT {COLUMNS} FROM discounts WHERE deleted_at IS NULL \
                 AND (created_at < $1 OR (created_at = $1 AND id < $2)) ORDER BY created_at DESC, id DESC LIMIT $3"
            ),
            [at.into(), id.into(), limit.into()],
        ),
        None => Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT {COLUMNS} FROM discounts WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1"
            ),
            [limit.into()],
        ),
    };
    Discount::find_by_statement(stmt).all(db).await
}

/// Counts one more use of a live, active code that has uses left, and holds its row
/// until the transaction ends; `false` when it has none left (or is off).
pub async fn count_use<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE discounts SET times_used = times_used + 1 WHERE id = $1 AND deleted_at IS NULL AND active \
             AND (usage_limit IS NULL OR times_used < usage_limit)",
            [id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// How many orders of the customer hold a use of the code.
pub async fn uses_by<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    customer_id: Uuid,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM discount_uses WHERE discount_id = $1 AND customer_id = $2",
            [id.into(), customer_id.into()],
        ))
        .await?;
    row.map_or(Ok(0), |r| r.try_get("", "n"))
}

pub async fn record_use<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO discount_uses (order_id, discount_id, customer_id, used_at) VALUES ($1, $2, $3, $4)",
        [order_id.into(), id.into(), customer_id.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Gives back the use an order held, once: a second call finds nothing to give.
pub async fn give_back<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<(), DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM discount_uses WHERE order_id = $1 RETURNING discount_id",
            [order_id.into()],
        ))
        .await?;
    if let Some(row) = row {
        let id: Uuid = row.try_get("", "discount_id")?;
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE discounts SET times_used = times_used - 1 WHERE id = $1 AND times_used > 0",
            [id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The code the customer's cart holds, deleted or not (a deleted one shows why it no
/// longer applies).
pub async fn of_cart<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> Result<Option<Discount>, DbErr> {
    Discount::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT {} FROM cart_discounts c JOIN discounts d ON d.id = c.discount_id WHERE c.customer_id = $1",
            COLUMNS
                .split(", ")
                .map(|c| format!("d.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [customer_id.into()],
    ))
    .one(db)
    .await
}

/// Puts a code on the cart, in place of any other.
pub async fn put_on_cart<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO cart_discounts (customer_id, discount_id, applied_at) VALUES ($1, $2, $3) \
         ON CONFLICT (customer_id) DO UPDATE SET discount_id = excluded.discount_id, applied_at = excluded.applied_at",
        [customer_id.into(), id.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Takes the code off the cart; `false` when it held none.
pub async fn take_off_cart<C: ConnectionTrait>(db: &C, customer_id: Uuid) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM cart_discounts WHERE customer_id = $1",
            [customer_id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}
