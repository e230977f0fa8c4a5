//! Figures for the staff dashboard's home page, read in a few grouped queries.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

use crate::domain::order::{DELIVERED, PAID, PAYMENT_FAILED, PROCESSING, SHIPPED};

/// Orders placed since a moment, in one currency.
#[derive(Debug, FromQueryResult)]
pub struct Sales {
    pub currency: String,
    pub orders: i64,
    /// Of those, the ones paid for (paid and on through delivery).
    pub paid_orders: i64,
    /// Their totals less what was refunded of them.
    pub revenue: i64,
}

/// What orders placed at or after `since` came to, per currency.
pub async fn sales_since<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
) -> Result<Vec<Sales>, DbErr> {
    Sales::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        // CAST: PostgreSQL sums BIGINT as NUMERIC.
        "SELECT currency, COUNT(*) AS orders, \
         CAST(SUM(CASE WHEN status IN ($2, $3, $4, $5) THEN 1 ELSE 0 END) AS BIGINT) AS paid_orders, \
         CAST(SUM(CASE WHEN status IN ($2, $3, $4, $5) THEN total - refunded ELSE 0 END) AS BIGINT) AS revenue \
         FROM orders WHERE placed_at >= $1 GROUP BY currency ORDER BY currency",
        [
            since.into(),
            PAID.into(),
            PROCESSING.into(),
            SHIPPED.into(),
            DELIVERED.into(),
        ],
    ))
    .all(db)
    .await
}

#[derive(Debug, FromQueryResult)]
pub struct StatusCount {
    pub status: String,
    pub orders: i64,
}

/// How many orders are in each status now.
pub async fn by_status<C: ConnectionTrait>(db: &C) -> Result<Vec<StatusCount>, DbErr> {
    StatusCount::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT status, COUNT(*) AS orders FROM orders GROUP BY status ORDER BY status",
    ))
    .all(db)
    .await
}

/// Orders whose payment failed at or after `since`.
pub async fn payments_failed_since<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM orders WHERE status = $1 AND updated_at >= $2",
            [PAYMENT_FAILED.into(), since.into()],
        ))
        .await?;
    row.map_or(Ok(0), |r| r.try_get("", "n"))
}
