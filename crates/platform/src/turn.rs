//! Work that one process of a service does at a time, however many replicas run.
//!
//! A service's turn at a sweep ([`try_take`]): on PostgreSQL a transaction-scoped
//! advisory lock in the service's own database, which ends when its transaction does,
//! so a replica that crashes mid-turn gives it up with its connection, with no lease to
//! expire. On SQLite one process owns the file, and the turn is always its own.
//!
//! An aggregate's turn ([`of_aggregate`]): replicas share a JetStream consumer, so two
//! events of one order can be handled at once in two processes, or the later first. A
//! handler whose steps must not interleave takes the aggregate's row in
//! `aggregate_turns` first; the second waits for the first's commit. The row also says
//! whether the aggregate was closed, so an event arriving after the one that ended it
//! can tell.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string, timestamp_with_time_zone, uuid};

/// A turn taken by [`try_take`]; it lasts until [`Turn::end`] or drop.
pub struct Turn {
    lock: Option<DatabaseTransaction>,
}

impl Turn {
    pub async fn end(self) -> anyhow::Result<()> {
        if let Some(txn) = self.lock {
            txn.commit().await.context("ending a turn")?;
        }
        Ok(())
    }
}

/// Takes the turn called `name` in `db`; `None` while another process holds it.
pub async fn try_take(db: &DatabaseConnection, name: &str) -> anyhow::Result<Option<Turn>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Some(Turn { lock: None }));
    }
    let txn = db.begin().await.context("starting a turn")?;
    if locked_in(&txn, key_of(name)).await? {
        Ok(Some(Turn { lock: Some(txn) }))
    } else {
        txn.commit().await.context("giving up a turn")?;
        Ok(None)
    }
}

/// Takes the PostgreSQL advisory lock `key` for the rest of `txn`; `false` when another
/// session holds it.
pub async fn locked_in(txn: &DatabaseTransaction, key: i64) -> anyhow::Result<bool> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS mine",
            [key.into()],
        ))
        .await?
        .context("the advisory lock answered nothing")?;
    Ok(row.try_get("", "mine")?)
}

/// Takes the turn of aggregate `id` of `kind` (say an order) until `db`'s transaction
/// ends, and with `closing` marks it closed. Returns whether it is closed: for an event
/// that opens work (an order's placement), whether the event that ended the aggregate
/// was handled first.
pub async fn of_aggregate<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    id: uuid::Uuid,
    closing: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO aggregate_turns (kind, id, closed, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, id) DO UPDATE SET closed = aggregate_turns.closed OR excluded.closed, \
             updated_at = excluded.updated_at RETURNING closed",
            [kind.into(), id.into(), closing.into(), now.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("aggregate_turns".into()))?;
    row.try_get("", "closed")
}

/// The `aggregate_turns` table, in the migrator of each service that uses
/// [`of_aggregate`].
pub struct CreateAggregateTurns;

impl MigrationName for CreateAggregateTurns {
    fn name(&self) -> &str {
        "m0000_platform_aggregate_turns"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAggregateTurns {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("aggregate_turns")
                .if_not_exists()
                .col(string("kind"))
                .col(uuid("id"))
                .col(boolean("closed"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("kind").col("id"))
                .to_owned(),
        )
        .await
    }
}

/// The lock key of a turn's name: 64-bit FNV-1a, the same in every build and version of
/// the binary (a rolling upgrade runs two side by side), unlike std's hasher.
fn key_of(name: &str) -> i64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keys_the_same_lock_in_every_build() {
        // FNV-1a's published test vector for "a".
        assert_eq!(key_of("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_ne!(key_of("refunds"), key_of("payment opening"));
    }
}
