//! The purchase projection: which customer bought which product in which paid order,
//! and which of those orders were cancelled before shipping, as orders' events told
//! catalog. It answers one question, whether a customer may review a product.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

/// Records that `customer_id` bought `product_id` in the paid `order_id`; `false` when
/// it was already recorded (a redelivered or republished event).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
    order_id: Uuid,
    paid_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO purchases (customer_id, product_id, order_id, paid_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer_id, product_id, order_id) DO NOTHING",
            [
                customer_id.into(),
                product_id.into(),
                order_id.into(),
                paid_at.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Records that the paid `order_id` was cancelled, so its purchases no longer count;
/// `false` when it was already recorded.
pub async fn withdraw<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO withdrawn_orders (order_id, withdrawn_at) VALUES ($1, $2) \
             ON CONFLICT (order_id) DO NOTHING",
            [order_id.into(), at.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Whether the customer has a paid order containing the product that was not cancelled.
pub async fn bought<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT 1 AS found FROM purchases p WHERE p.customer_id = $1 AND p.product_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM withdrawn_orders w WHERE w.order_id = p.order_id) LIMIT 1",
            [customer_id.into(), product_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}
