//! The embedded durable log: the single-process topology's bus, kept in a SQLite file.
//!
//! Events are appended to `bus_events` (deduplicated by envelope id). Each durable
//! consumer keeps a cursor in `bus_consumers` and walks the log past it; a failed event
//! moves to `bus_retries` with a due time, so the consumer keeps going while the event
//! waits for its next attempt, as a JetStream consumer does. After `max_deliveries`
//! attempts the retry row is marked dead and stays for an operator.
//!
//! The cursor advances after each handled event, so a crash re-delivers at most the
//! event in hand; the inbox makes that harmless.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use tokio::sync::Notify;

use super::{Consumer, DeadLetter, Envelope, EventBus, subject_matches};
use crate::config::BusSettings;
use crate::tasks::Tasks;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bus_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        published_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bus_consumers (
        name TEXT PRIMARY KEY,
        filter TEXT NOT NULL,
        cursor INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bus_retries (
        consumer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_at_ms INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        dead_at TEXT,
        PRIMARY KEY (consumer, seq))",
];

/// How often an idle consumer looks for due retries when nothing woke it.
const IDLE_POLL: Duration = Duration::from_millis(500);

pub struct EmbeddedBus {
    db: DatabaseConnection,
    settings: BusSettings,
    /// Wakes every consumer on publish; they re-check the log and go back to sleep.
    published: Arc<Notify>,
}

impl EmbeddedBus {
    /// Opens (or creates) the log at `url`, a SQLite URL.
    pub async fn open(url: &str, settings: BusSettings) -> anyhow::Result<Arc<Self>> {
        let db = crate::db::open(url, 4).await?;
        for stmt in SCHEMA {
            db.execute_unprepared(stmt)
                .await
                .context("creating the event log")?;
        }
        Ok(Arc::new(Self {
            db,
            settings,
            published: Arc::new(Notify::new()),
        }))
    }

    fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    async fn register(&self, consumer: &Consumer) -> anyhow::Result<()> {
        self.db
            .execute_raw(Self::stmt(
                "INSERT INTO bus_consumers (name, filter, cursor) VALUES ($1, $2, 0)
                 ON CONFLICT (name) DO UPDATE SET filter = excluded.filter",
                [consumer.name.clone().into(), consumer.filter.clone().into()],
            ))
            .await?;
        Ok(())
    }

    /// Delivers what is due for `consumer`; returns whether anything was handled.
    async fn poll(&self, consumer: &Consumer) -> anyhow::Result<bool> {
        let retried = self.poll_retries(consumer).await?;
        let fresh = self.poll_new(consumer).await?;
        Ok(retried || fresh)
    }

    async fn poll_new(&self, consumer: &Consumer) -> anyhow::Result<bool> {
        let rows = self
            .db
            .query_all_raw(Self::stmt(
                "SELECT e.seq, e.subject, e.body FROM bus_events e, bus_consumers c
                 WHERE c.name = $1 AND e.seq > c.cursor ORDER BY e.seq LIMIT 100",
                [consumer.name.clone().into()],
            ))
            .await?;
        let any = !rows.is_empty();
        for row in rows {
            let seq: i64 = row.try_get("", "seq")?;
            let subject: String = row.try_get("", "subject")?;
            if subject_matches(&consumer.filter, &subject) {
                let body: String = row.try_get("", "body")?;
                if let Err(err) = deliver(consumer, &body).await {
                    self.record_failure(consumer, seq, 1, &err).await?;
                }
            }
            self.db
                .execute_raw(Self::stmt(
                    "UPDATE bus_consumers SET cursor = $1 WHERE name = $2",
                    [seq.into(), consumer.name.clone().into()],
                ))
                .await?;
        }
        Ok(any)
    }

    async fn poll_retries(&self, consumer: &Consumer) -> anyhow::Result<bool> {
        let rows = self
            .db
            .query_all_raw(Self::stmt(
                "SELECT r.seq, r.attempts, e.body FROM bus_retries r JOIN bus_events e ON e.seq = r.seq
                 WHERE r.consumer = $1 AND r.dead_at IS NULL AND r.next_at_ms <= $2
                 ORDER BY r.seq LIMIT 50",
                [consumer.name.clone().into(), now_ms().into()],
            ))
            .await?;
        let any = !rows.is_empty();
        for row in rows {
            let seq: i64 = row.try_get("", "seq")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            let body: String = row.try_get("", "body")?;
            match deliver(consumer, &body).await {
                Ok(()) => {
                    self.db
                        .execute_raw(Self::stmt(
                            "DELETE FROM bus_retries WHERE consumer = $1 AND seq = $2",
                            [consumer.name.clone().into(), seq.into()],
                        ))
                        .await?;
                }
                Err(err) => {
                    self.record_failure(consumer, seq, attempts as u32 + 1, &err)
                        .await?
                }
            }
        }
        Ok(any)
    }

    /// Schedules the next attempt, or marks the event dead after the last one.
    async fn record_failure(
        &self,
        consumer: &Consumer,
        seq: i64,
        attempts: u32,
        err: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let dead = attempts >= self.settings.max_deliveries;
        let next_at = now_ms() + self.settings.backoff(attempts).as_millis() as i64;
        let dead_at: Option<String> = dead.then(|| Utc::now().to_rfc3339());
        if dead {
            tracing::error!(consumer = %consumer.name, event.seq = seq, attempts, error = format!("{err:#}"), "event dead-lettered");
            metrics::counter!("bus_dead_letters_total", "consumer" => consumer.name.clone())
                .increment(1);
        } else {
            tracing::warn!(consumer = %consumer.name, event.seq = seq, attempts, error = format!("{err:#}"), "event handling failed; will retry");
        }
        self.db
            .execute_raw(Self::stmt(
                "INSERT INTO bus_retries (consumer, seq, attempts, next_at_ms, last_error, dead_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (consumer, seq) DO UPDATE SET attempts = excluded.attempts,
                   next_at_ms = excluded.next_at_ms, last_error = excluded.last_error, dead_at = excluded.dead_at",
                [
                    consumer.name.clone().into(),
                    seq.into(),
                    (attempts as i32).into(),
                    next_at.into(),
                    format!("{err:#}").into(),
                    dead_at.into(),
                ],
            ))
            .await?;
        Ok(())
    }
}

async fn deliver(consumer: &Consumer, body: &str) -> anyhow::Result<()> {
    let envelope: Envelope = serde_json::from_str(body).context("decoding event")?;
    let request_id = envelope
        .request_id
        .clone()
        .unwrap_or_else(|| envelope.id.to_string());
    crate::context::with_request_id(request_id, consumer.handler.handle(&envelope)).await
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn publish(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let body = serde_json::to_string(envelope)?;
        self.db
            .execute_raw(Self::stmt(
                "INSERT INTO bus_events (id, subject, body, published_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
                [
                    envelope.id.to_string().into(),
                    envelope.event_type.clone().into(),
                    body.into(),
                    Utc::now().to_rfc3339().into(),
                ],
            ))
            .await
            .context("appending to the event log")?;
        self.published.notify_waiters();
        Ok(())
    }

    async fn subscribe(&self, consumer: Consumer, tasks: &Tasks) -> anyhow::Result<()> {
        self.register(&consumer).await?;
        let bus = Self {
            db: self.db.clone(),
            settings: self.settings.clone(),
            published: self.published.clone(),
        };
        tasks.spawn("embedded-bus-consumer", async move {
            loop {
                // Register interest before polling so a publish during the poll still wakes us.
                let woken = bus.published.notified();
                match bus.poll(&consumer).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => tracing::warn!(consumer = %consumer.name, error = format!("{err:#}"), "event log poll failed"),
                }
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        });
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let rows = self
            .db
            .query_all_raw(Self::stmt(
                "SELECT r.consumer, r.attempts, r.last_error, r.dead_at, e.body
                 FROM bus_retries r JOIN bus_events e ON e.seq = r.seq
                 WHERE r.dead_at IS NOT NULL ORDER BY r.dead_at DESC LIMIT $1",
                [(limit as i64).into()],
            ))
            .await?;
        rows.into_iter()
            .map(|row| {
                let body: String = row.try_get("", "body")?;
                let envelope: Envelope = serde_json::from_str(&body)?;
                let dead_at: String = row.try_get("", "dead_at")?;
                let attempts: i32 = row.try_get("", "attempts")?;
                Ok(DeadLetter {
                    consumer: row.try_get("", "consumer")?,
                    event_id: envelope.id.to_string(),
                    event_type: envelope.event_type,
                    attempts: attempts as u32,
                    last_error: row.try_get("", "last_error")?,
                    dead_at: DateTime::parse_from_rfc3339(&dead_at)?.with_timezone(&Utc),
                })
            })
            .collect()
    }

    async fn ping(&self) -> anyhow::Result<()> {
        crate::db::ping(&self.db).await
    }
}
