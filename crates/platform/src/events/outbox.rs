//! The transactional outbox: a service writes its events into its own database in the
//! transaction that changes its state, and a relay publishes them afterwards. A crash
//! between the commit and the publish loses nothing: the rows wait for the next relay.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use contracts::{Envelope, Event};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use tokio::sync::Notify;
use uuid::Uuid;

use super::SharedBus;
use crate::context::current_request_id;
use crate::tasks::{Phase, Tasks};

/// Rows a relay sends at once.
const BATCH: usize = 256;
/// The advisory lock key relays take in a service's own database ("mercato relay").
const RELAY_LOCK: i64 = 0x6d65_7263_6174_6f01;

/// Writes `event` to the outbox of the transaction `txn` belongs to.
pub async fn enqueue<C: ConnectionTrait, E: Event>(
    txn: &C,
    event: &E,
    aggregate_version: i64,
    now: DateTime<Utc>,
) -> Result<Envelope, DbErr> {
    let envelope = Envelope::wrap(event, aggregate_version, now, current_request_id())
        .map_err(|e| DbErr::Custom(format!("serialising {}: {e}", E::TYPE)))?;
    let body = serde_json::to_string(&envelope).map_err(|e| DbErr::Custom(e.to_string()))?;
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "INSERT INTO outbox (id, event_type, envelope, created_at) VALUES ($1, $2, $3, $4)",
        [envelope.id.into(), E::TYPE.into(), body.into(), now.into()],
    ))
    .await?;
    Ok(envelope)
}

/// Publishes a service's outbox. Rows are deleted once the bus has them: they may hold
/// one-time secrets (verification and reset tokens) that should not outlive delivery.
#[derive(Clone)]
pub struct Relay {
    db: DatabaseConnection,
    bus: SharedBus,
    wake: Arc<Notify>,
    interval: Duration,
}

impl Relay {
    pub fn new(db: DatabaseConnection, bus: SharedBus, interval: Duration) -> Self {
        Self {
            db,
            bus,
            wake: Arc::new(Notify::new()),
            interval,
        }
    }

    /// What asks the relay to look now, for a [`crate::unit::UnitOfWork`] to notify once
    /// it commits events.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs the relay in `tasks` as `name`, until the process finishes.
    pub fn spawn(&self, tasks: &Tasks, name: &'static str) {
        tasks.spawn_finishing(name, self.clone().run(tasks.clone()));
    }

    /// Publishes what is pending, then sleeps until woken or the interval ends; once the
    /// process is finishing, publishes what the last requests wrote and returns.
    async fn run(self, tasks: Tasks) -> anyhow::Result<()> {
        let mut failures = 0u32;
        loop {
            let last = tasks.phase() == Phase::Finishing;
            match self.publish_pending().await {
                Ok(_) => failures = 0,
                Err(err) => {
                    failures += 1;
                    tracing::warn!(
                        error = format!("{err:#}"),
                        failures,
                        "outbox relay could not publish; will retry"
                    );
                }
            }
            let pause = if failures == 0 {
                self.interval
            } else {
                self.interval
                    .min(Duration::from_millis(250 << failures.min(6)))
            };
            if last {
                return Ok(());
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                () = tasks.finishing() => {}
            }
        }
    }

    /// Publishes every pending row in creation order; returns how many went out.
    ///
    /// A batch at a time: the bus takes the whole batch and answers how long a prefix of
    /// it it holds, and that prefix is deleted in one statement. After a failure the rest
    /// of the batch stays and is sent again first next time, so one aggregate's events
    /// never overtake each other; the bus drops whatever of it it already had.
    ///
    /// On PostgreSQL only one replica of a service relays at a time (a transaction-scoped
    /// advisory lock on the service's own database): two relays sending the same rows
    /// side by side could interleave one aggregate's events.
    pub async fn publish_pending(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let sent = if self.db.get_database_backend() == DbBackend::Postgres {
                // Most wake-ups find the outbox empty (another wake took the rows): one
                // plain read says so, without a transaction and a lock.
                if self.is_empty().await? {
                    return Ok(total);
                }
                let txn = self.db.begin().await.context("starting a relay batch")?;
                if !crate::turn::locked_in(&txn, RELAY_LOCK).await? {
                    txn.commit().await?;
                    // Another replica is relaying. It may have read the outbox just
                    // before our row committed: look again once its batch is through.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                let sent = self.send_batch(&txn).await;
                txn.commit().await?;
                sent?
            } else {
                // One process per SQLite file: no turn to take, and no transaction (a
                // read that later writes would conflict with the services' own writes).
                self.send_batch(&self.db).await?
            };
            if sent == 0 {
                return Ok(total);
            }
            total += sent;
        }
    }

    async fn is_empty(&self) -> anyhow::Result<bool> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT 1 AS one FROM outbox LIMIT 1",
            ))
            .await
            .context("reading the outbox")?;
        Ok(row.is_none())
    }

    /// Sends the oldest rows and deletes those the bus took; returns how many.
    async fn send_batch<C: ConnectionTrait>(&self, db: &C) -> anyhow::Result<usize> {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT id, envelope FROM outbox ORDER BY id LIMIT {BATCH}"),
            ))
            .await
            .context("reading the outbox")?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut envelopes = Vec::with_capacity(rows.len());
        for row in rows {
            let body: String = row.try_get("", "envelope")?;
            ids.push(row.try_get::<Uuid>("", "id")?);
            envelopes
                .push(serde_json::from_str::<Envelope>(&body).context("decoding an outbox row")?);
        }
        let (sent, failure) = self.bus.publish_batch(&envelopes).await;
        if sent > 0 {
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                format!(
                    "DELETE FROM outbox WHERE id IN ({})",
                    crate::db::placeholders(1, sent)
                ),
                ids[..sent].iter().map(|id| (*id).into()),
            ))
            .await?;
            let now = Utc::now();
            for envelope in &envelopes[..sent] {
                let source = envelope.event_type.split('.').next().unwrap_or_default();
                let lag = (now - envelope.occurred_at).to_std().unwrap_or_default();
                metrics::histogram!("outbox_publish_delay_seconds", "source" => source.to_owned())
                    .record(lag.as_secs_f64());
            }
        }
        match failure {
            Some(err) => Err(err.context(format!("publishing {}", envelopes[sent].event_type))),
            None => Ok(sent),
        }
    }
}
