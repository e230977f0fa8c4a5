//! The transactional outbox: a service writes its events into its own database in the
//! transaction that changes its state, and a relay publishes them afterwards. A crash
//! between the commit and the publish loses nothing: the rows wait for the next relay.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use contracts::{Envelope, Event};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tokio::sync::Notify;

use super::SharedBus;
use crate::context::current_request_id;

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

    /// Asks the relay to look now; call after committing a transaction with events.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs forever: publish what is pending, then sleep until woken or the interval ends.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut failures = 0u32;
        loop {
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
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Publishes every pending row in creation order; returns how many went out.
    pub async fn publish_pending(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let rows = self
                .db
                .query_all_raw(Statement::from_string(
                    self.db.get_database_backend(),
                    "SELECT envelope FROM outbox ORDER BY id LIMIT 100",
                ))
                .await
                .context("reading the outbox")?;
            if rows.is_empty() {
                return Ok(total);
            }
            for row in rows {
                let body: String = row.try_get("", "envelope")?;
                let envelope: Envelope =
                    serde_json::from_str(&body).context("decoding an outbox row")?;
                self.bus
                    .publish(&envelope)
                    .await
                    .with_context(|| format!("publishing {}", envelope.event_type))?;
                self.db
                    .execute_raw(Statement::from_sql_and_values(
                        self.db.get_database_backend(),
                        "DELETE FROM outbox WHERE id = $1",
                        [envelope.id.into()],
                    ))
                    .await?;
                total += 1;
            }
        }
    }
}
