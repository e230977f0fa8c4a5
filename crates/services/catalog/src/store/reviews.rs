//! Reviews and the rating aggregate on their product.
//!
//! Every change to a review is a conditional update on the version its writer read, and
//! its effect on the product's rating is applied in the same transaction as one atomic
//! increment, so concurrent reviews can never lose one another's stars.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::domain::review::{Contribution, Stars};

const COLUMNS: &str = "id, product_id, customer_id, rating, title, body, author_name, hidden, created_at, updated_at, version";

/// A review as the store knows it.
#[derive(Clone, Debug)]
pub struct Review {
    pub id: Uuid,
    pub product_id: Uuid,
    pub customer_id: Uuid,
    pub stars: Stars,
    pub title: Option<String>,
    pub body: String,
    pub author_name: String,
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Review {
    /// What the review adds to its product's rating now.
    pub fn contribution(&self) -> Contribution {
        Contribution::of(self.stars, self.hidden)
    }
}

/// What the author writes.
#[derive(Clone, Debug)]
pub struct ReviewText {
    pub stars: Stars,
    pub title: Option<String>,
    pub body: String,
}

fn from_row(row: &QueryResult) -> Result<Review, DbErr> {
    Ok(Review {
        id: row.try_get("", "id")?,
        product_id: row.try_get("", "product_id")?,
        customer_id: row.try_get("", "customer_id")?,
        stars: Stars::from_stored(row.try_get("", "rating")?),
        title: row.try_get("", "title")?,
        body: row.try_get("", "body")?,
        author_name: row.try_get("", "author_name")?,
        hidden: row.try_get("", "hidden")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
        version: row.try_get("", "version")?,
    })
}

fn stars_value(stars: Stars) -> Value {
    // The column is a 32-bit integer on both back-ends.
    (stars.get() as i32).into()
}

/// Stores a new, visible review. Fails with a unique violation when the customer has
/// already reviewed the product.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    customer_id: Uuid,
    author_name: &str,
    text: &ReviewText,
    now: DateTime<Utc>,
) -> Result<Review, DbErr> {
    let review = Review {
        id: Uuid::now_v7(),
        product_id,
        customer_id,
        stars: text.stars,
        title: text.title.clone(),
        body: text.body.clone(),
        author_name: author_name.to_owned(),
        hidden: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "INSERT INTO reviews ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)"
        ),
        [
            review.id.into(),
            product_id.into(),
            customer_id.into(),
            stars_value(text.stars),
            review.title.clone().into(),
            review.body.clone().into(),
            review.author_name.clone().into(),
            false.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(review)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Review>, DbErr> {
    db.query_one_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM reviews WHERE id = $1 AND NOT withdrawn"),
        [id.into()],
    ))
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Up to `limit` of a product's reviews older than `before`, newest first (ids are
/// UUIDv7, so id order is creation order).
pub async fn page<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    include_hidden: bool,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    let mut sql = format!("SELECT {COLUMNS} FROM reviews WHERE product_id = $1 AND NOT withdrawn");
    if !include_hidden {
        sql.push_str(" AND NOT hidden");
    }
    newest_first(db, sql, vec![product_id.into()], before, limit).await
}

/// Up to `limit` of a customer's own reviews older than `before`, newest first, hidden
/// ones included (the author sees what staff hid).
pub async fn by_customer<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE customer_id = $1 AND NOT withdrawn");
    newest_first(db, sql, vec![customer_id.into()], before, limit).await
}

/// Up to `limit` reviews of every product older than `before`, newest first: the
/// moderation queue. `hidden` keeps only hidden (true) or visible (false) ones.
pub async fn recent<C: ConnectionTrait>(
    db: &C,
    hidden: Option<bool>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    let mut sql = format!("SELECT {COLUMNS} FROM reviews WHERE NOT withdrawn");
    let mut values = Vec::new();
    if let Some(hidden) = hidden {
        values.push(hidden.into());
        sql.push_str(" AND hidden = $1");
    }
    newest_first(db, sql, values, before, limit).await
}

/// Runs `sql` (a SELECT whose WHERE binds `values`) for one page: ids below `before`,
/// highest first (ids are UUIDv7, so newest first), at most `limit`.
async fn newest_first<C: ConnectionTrait>(
    db: &C,
    mut sql: String,
    mut values: Vec<Value>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    if let Some(before) = before {
        values.push(before.into());
        sql.push_str(&format!(" AND id < ${}", values.len()));
    }
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", values.len()));
    db.query_all_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Replaces the author's text if the review is still at `expected_version`.
pub async fn edit<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    text: &ReviewText,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE reviews SET rating = $1, title = $2, body = $3, updated_at = $4, version = version + 1 \
             WHERE id = $5 AND version = $6",
            [
                stars_value(text.stars),
                text.title.clone().into(),
                text.body.clone().into(),
                now.into(),
                id.into(),
                expected_version.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Hides or shows the review if it is still at `expected_version`.
pub async fn set_hidden<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    hidden: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE reviews SET hidden = $1, updated_at = $2, version = version + 1 \
             WHERE id = $3 AND version = $4",
            [
                hidden.into(),
                now.into(),
                id.into(),
                expected_version.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Deletes the review if it is still at `expected_version`.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM reviews WHERE id = $1 AND version = $2",
            [id.into(), expected_version.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Erases a hidden review's text and withdraws it from every read, if it is still at
/// `expected_version`; its row keeps the author's one review of the product used up.
pub async fn withdraw<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE reviews SET withdrawn = TRUE, title = NULL, body = '', updated_at = $1, \
             version = version + 1 WHERE id = $2 AND version = $3 AND NOT withdrawn",
            [now.into(), id.into(), expected_version.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Applies `change` to the product's rating in one statement: the count and sum move
/// by increments (never a value computed from an earlier read), and the average × 1000,
/// rounded half up, is recomputed from the same row in the same statement.
pub async fn add_to_rating<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    change: Contribution,
) -> Result<(), DbErr> {
    if change.is_none() {
        return Ok(());
    }
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE products SET rating_count = rating_count + $1, rating_sum = rating_sum + $2, \
             rating_avg_milli = CASE WHEN rating_count + $1 > 0 \
               THEN ((rating_sum + $2) * 1000 + (rating_count + $1) / 2) / (rating_count + $1) \
               ELSE 0 END \
             WHERE id = $3",
            [change.count.into(), change.sum.into(), product_id.into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Err(DbErr::RecordNotUpdated);
    }
    Ok(())
}
