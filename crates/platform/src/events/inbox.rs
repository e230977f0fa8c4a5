//! Idempotent consumption: a consumer claims an event id in the same transaction as its
//! effect, so a redelivered event finds its claim and changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

/// Claims `event_id` for `consumer`. `false` means it was already handled: the caller
/// should drop its transaction and acknowledge.
pub async fn claim<C: ConnectionTrait>(
    txn: &C,
    consumer: &str,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = txn
        .execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
            [consumer.into(), event_id.into(), now.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}
