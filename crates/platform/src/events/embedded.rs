//! The embedded durable log: the single-process topology's bus, kept in a SQLite file.
//!
//! Events are appended to `bus_events` (deduplicated by envelope id). Each durable
//! consumer keeps a cursor in `bus_consumers` and walks the log past it, reading only
//! the events its subject filter matches (in SQL); a failed event moves to `bus_retries`
//! with a due time, so the consumer keeps going while the event waits for its next
//! attempt, as a JetStream consumer does. After `max_deliveries` attempts the retry row
//! is marked dead and stays for an operator.
//!
//! A consumer takes up to [`BATCH`] events at a time and handles them in lanes, one per
//! aggregate: one aggregate's events in order, different aggregates side by side. Its
//! cursor moves once per batch (and not at all for events it does not read), so a crash
//! re-delivers at most the batch in hand; the inbox makes that harmless.
//!
//! One process owns the file. Every write goes through one connection, so writers queue
//! in the process instead of sleeping in SQLite's busy handler; reads use their own
//! small pool and never wait for the writer (WAL).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use tokio::sync::Notify;

use super::{Consumer, DeadLetter, Envelope, EventBus, lanes, subject_matches};
use crate::config::BusSettings;
use crate::tasks::{Phase, Tasks};

mod dead_letters;

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

/// Events a consumer reads at once, and a relay's batch can be appended in one statement
/// (4 values each, well within SQLite's limit on bound values).
const BATCH: usize = 256;
/// How often a consumer looks at the log when nothing woke it: a backstop only, since
/// publishing wakes it and it sleeps exactly until its next retry is due.
const IDLE_POLL: Duration = Duration::from_secs(30);
/// How far a consumer may read past events it ignores before it writes its cursor down
/// anyway, so a restart does not rescan the whole log; and how long it keeps such
/// progress unwritten, so the file shows within moments how far every consumer got.
const CURSOR_SLACK: i64 = 10_000;
const CURSOR_SAVE_EVERY: Duration = Duration::from_secs(1);

pub struct EmbeddedBus {
    /// The one connection every write goes through.
    writer: DatabaseConnection,
    reader: DatabaseConnection,
    settings: BusSettings,
    /// The newest sequence number appended by this process.
    head: Arc<AtomicI64>,
    /// The consumers to wake when events they match are appended.
    wakers: Arc<Wakers>,
}

impl EmbeddedBus {
    /// Opens (or creates) the log at `url`, a SQLite URL.
    pub async fn open(url: &str, settings: BusSettings) -> anyhow::Result<Arc<Self>> {
        let writer = crate::db::open(url, 1).await?;
        for stmt in SCHEMA {
            writer
                .execute_unprepared(stmt)
                .await
                .context("creating the event log")?;
        }
        let reader = crate::db::open(url, 4).await?;
        let (head, wakers) = signals(url);
        let bus = Self {
            writer,
            reader,
            settings,
            head,
            wakers,
        };
        bus.read_head().await?;
        Ok(Arc::new(bus))
    }

    fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    /// The log's last sequence number as the file holds it (another handle on the same
    /// file may have appended too, in tests that reopen the log).
    async fn read_head(&self) -> anyhow::Result<i64> {
        let row = self
            .reader
            .query_one_raw(Self::stmt(
                "SELECT COALESCE(MAX(seq), 0) AS head FROM bus_events",
                [],
            ))
            .await?
            .context("no head")?;
        let head: i64 = row.try_get("", "head")?;
        Ok(self.head.fetch_max(head, Ordering::AcqRel).max(head))
    }

    /// Registers `consumer` and answers where it stands: its cursor and when its first
    /// pending retry is due.
    async fn register(&self, consumer: &Consumer) -> anyhow::Result<Position> {
        self.writer
            .execute_raw(Self::stmt(
                "INSERT INTO bus_consumers (name, filter, cursor) VALUES ($1, $2, 0)
                 ON CONFLICT (name) DO UPDATE SET filter = excluded.filter",
                [consumer.name.clone().into(), consumer.filter.clone().into()],
            ))
            .await?;
        let row = self
            .reader
            .query_one_raw(Self::stmt(
                "SELECT cursor FROM bus_consumers WHERE name = $1",
                [consumer.name.clone().into()],
            ))
            .await?
            .context("consumer not registered")?;
        let cursor: i64 = row.try_get("", "cursor")?;
        Ok(Position {
            scanned: cursor,
            saved: cursor,
            saved_at: std::time::Instant::now(),
            glob: glob(&consumer.filter),
            replays_seen: self.wakers.replays.load(Ordering::Acquire),
            next_retry_ms: self.next_retry(consumer).await?,
        })
    }

    /// When `consumer`'s earliest pending retry is due, if it has one.
    async fn next_retry(&self, consumer: &Consumer) -> anyhow::Result<Option<i64>> {
        let row = self
            .reader
            .query_one_raw(Self::stmt(
                "SELECT MIN(next_at_ms) AS due FROM bus_retries WHERE consumer = $1 AND dead_at IS NULL",
                [consumer.name.clone().into()],
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<i64>>("", "due")?,
            None => None,
        })
    }

    /// Delivers what is due for `consumer`; returns whether it should look again at once.
    async fn poll(&self, consumer: &Consumer, at: &mut Position) -> anyhow::Result<bool> {
        let replays = self.wakers.replays.load(Ordering::Acquire);
        if replays != at.replays_seen {
            at.replays_seen = replays;
            at.next_retry_ms = self.next_retry(consumer).await?;
        }
        if at.next_retry_ms.is_some_and(|due| due <= now_ms()) {
            self.poll_retries(consumer).await?;
            at.next_retry_ms = self.next_retry(consumer).await?;
        }
        self.poll_new(consumer, at).await
    }

    async fn poll_new(&self, consumer: &Consumer, at: &mut Position) -> anyhow::Result<bool> {
        let head = self.head.load(Ordering::Acquire);
        if head <= at.scanned {
            self.save_cursor(consumer, at, false).await?;
            return Ok(false);
        }
        // Rows up to `head` are all committed: this process appends through one
        // connection, so sequence numbers commit in order.
        let rows = self
            .reader
            .query_all_raw(Self::stmt(
                &format!(
                    "SELECT seq, subject, body FROM bus_events
                     WHERE seq > $1 AND seq <= $2 AND subject GLOB $3 ORDER BY seq LIMIT {BATCH}"
                ),
                [at.scanned.into(), head.into(), at.glob.clone().into()],
            ))
            .await?;
        let full = rows.len() == BATCH;
        let mut events = Vec::with_capacity(rows.len());
        let mut last = at.scanned;
        for row in rows {
            let seq: i64 = row.try_get("", "seq")?;
            last = seq;
            let subject: String = row.try_get("", "subject")?;
            // GLOB's `*` also spans dots; the NATS rules decide.
            if subject_matches(&consumer.filter, &subject) {
                events.push((seq, row.try_get::<String>("", "body")?));
            }
        }
        let upto = if full { last } else { head };
        let handled = !events.is_empty();
        let failures = self.deliver_all(consumer, events).await;
        let failed = !failures.is_empty();
        for (seq, attempts, err) in failures {
            self.record_failure(consumer, seq, attempts, &err).await?;
        }
        at.scanned = upto;
        self.save_cursor(consumer, at, handled).await?;
        if failed {
            at.next_retry_ms = self.next_retry(consumer).await?;
        }
        Ok(full)
    }

    /// Writes the consumer's progress down: at once when it handled events (they count
    /// as acknowledged), and progress over events it skipped only now and then.
    async fn save_cursor(
        &self,
        consumer: &Consumer,
        at: &mut Position,
        handled: bool,
    ) -> anyhow::Result<()> {
        let due = handled
            || at.saved_at.elapsed() >= CURSOR_SAVE_EVERY
            || at.scanned - at.saved > CURSOR_SLACK;
        if at.scanned > at.saved && due {
            self.writer
                .execute_raw(Self::stmt(
                    "UPDATE bus_consumers SET cursor = $1 WHERE name = $2",
                    [at.scanned.into(), consumer.name.clone().into()],
                ))
                .await?;
            at.saved = at.scanned;
            at.saved_at = std::time::Instant::now();
        }
        Ok(())
    }

    /// Hands `events` (sequence number, body) to the consumer in lanes; answers the
    /// failures as (sequence number, attempt, error).
    async fn deliver_all(
        &self,
        consumer: &Consumer,
        events: Vec<(i64, String)>,
    ) -> Vec<(i64, u32, anyhow::Error)> {
        let mut failures = Vec::new();
        let mut decoded = Vec::with_capacity(events.len());
        for (seq, body) in events {
            match serde_json::from_str::<Envelope>(&body) {
                Ok(envelope) => decoded.push((seq, envelope)),
                Err(err) => {
                    failures.push((seq, 1, anyhow::Error::new(err).context("decoding event")))
                }
            }
        }
        let outcomes = lanes::run(
            consumer.handler.lanes(),
            decoded,
            |(_, e)| e.aggregate_id.clone(),
            |(seq, envelope)| async move {
                super::deliver(consumer, &envelope)
                    .await
                    .err()
                    .map(|err| (seq, 1, err))
            },
        )
        .await;
        failures.extend(outcomes.into_iter().flatten());
        failures
    }

    async fn poll_retries(&self, consumer: &Consumer) -> anyhow::Result<()> {
        let rows = self
            .reader
            .query_all_raw(Self::stmt(
                "SELECT r.seq, r.attempts, e.body FROM bus_retries r JOIN bus_events e ON e.seq = r.seq
                 WHERE r.consumer = $1 AND r.dead_at IS NULL AND r.next_at_ms <= $2
                 ORDER BY r.seq LIMIT 50",
                [consumer.name.clone().into(), now_ms().into()],
            ))
            .await?;
        for row in rows {
            let seq: i64 = row.try_get("", "seq")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            let body: String = row.try_get("", "body")?;
            let outcome = match serde_json::from_str::<Envelope>(&body) {
                Ok(envelope) => super::deliver(consumer, &envelope).await,
                Err(err) => Err(anyhow::Error::new(err).context("decoding event")),
            };
            match outcome {
                Ok(()) => {
                    self.writer
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
        Ok(())
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
        self.writer
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

    /// Appends `envelopes` in one statement; the new head, if any row was new.
    async fn append(&self, envelopes: &[Envelope]) -> anyhow::Result<()> {
        if envelopes.is_empty() {
            return Ok(());
        }
        let now = Utc::now().to_rfc3339();
        let mut values = Vec::with_capacity(envelopes.len() * 4);
        let mut rows = Vec::with_capacity(envelopes.len());
        for (i, envelope) in envelopes.iter().enumerate() {
            let n = i * 4;
            rows.push(format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
            values.push(envelope.id.to_string().into());
            values.push(envelope.event_type.clone().into());
            values.push(serde_json::to_string(envelope)?.into());
            values.push(now.clone().into());
        }
        let appended = self
            .writer
            .query_all_raw(Self::stmt(
                &format!(
                    "INSERT INTO bus_events (id, subject, body, published_at) VALUES {}
                     ON CONFLICT (id) DO NOTHING RETURNING seq, subject",
                    rows.join(", ")
                ),
                values,
            ))
            .await
            .context("appending to the event log")?;
        let mut newest = 0;
        let mut subjects = Vec::with_capacity(appended.len());
        for row in appended {
            newest = newest.max(row.try_get::<i64>("", "seq")?);
            subjects.push(row.try_get::<String>("", "subject")?);
        }
        if newest > 0 {
            self.head.fetch_max(newest, Ordering::AcqRel);
            self.wakers.wake(&subjects);
        }
        Ok(())
    }
}

/// Where one consumer stands in the log.
struct Position {
    /// Everything up to here was read (and handled or skipped).
    scanned: i64,
    /// The cursor as the file holds it, and when it was written.
    saved: i64,
    saved_at: std::time::Instant,
    /// The subject filter as a GLOB pattern, a superset of what it matches.
    glob: String,
    /// When the earliest pending retry is due.
    next_retry_ms: Option<i64>,
    /// The log's replay count when `next_retry_ms` was read.
    replays_seen: u64,
}

/// The consumers of one log and the filters they read with. Appending wakes only the
/// consumers whose filter matches something appended: with a dozen consumers each on
/// one service's events, waking them all would have most of them query the log for
/// nothing on every append.
#[derive(Default)]
struct Wakers {
    consumers: Mutex<Vec<(String, Weak<Notify>)>>,
    /// Bumped when an operator replays a dead letter: consumers keep when their next
    /// retry is due in memory, and look again when this moves.
    replays: AtomicU64,
}

impl Wakers {
    fn add(&self, filter: &str) -> Arc<Notify> {
        let wake = Arc::new(Notify::new());
        let mut consumers = self.consumers.lock().unwrap_or_else(|p| p.into_inner());
        consumers.retain(|(_, w)| w.strong_count() > 0);
        consumers.push((filter.to_owned(), Arc::downgrade(&wake)));
        wake
    }

    fn wake(&self, subjects: &[String]) {
        let consumers = self.consumers.lock().unwrap_or_else(|p| p.into_inner());
        for (filter, wake) in consumers.iter() {
            if subjects.iter().any(|s| subject_matches(filter, s))
                && let Some(wake) = wake.upgrade()
            {
                wake.notify_one();
            }
        }
    }
}

/// The head and the consumers of the log at `url`, shared by every handle this process
/// has on it (tests reopen a log to restart a consumer while the first handle still
/// publishes).
fn signals(url: &str) -> (Arc<AtomicI64>, Arc<Wakers>) {
    type Signals = (Weak<AtomicI64>, Weak<Wakers>);
    static OPEN: Mutex<BTreeMap<String, Signals>> = Mutex::new(BTreeMap::new());
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    open.retain(|_, (head, _)| head.strong_count() > 0);
    if let Some((head, wakers)) = open.get(url)
        && let (Some(head), Some(wakers)) = (head.upgrade(), wakers.upgrade())
    {
        return (head, wakers);
    }
    let (head, wakers) = (Arc::new(AtomicI64::new(0)), Arc::new(Wakers::default()));
    open.insert(
        url.to_owned(),
        (Arc::downgrade(&head), Arc::downgrade(&wakers)),
    );
    (head, wakers)
}

/// A GLOB pattern matching at least what the NATS filter matches: each wildcard token
/// becomes `*`. Event types use neither `?` nor `[`.
fn glob(filter: &str) -> String {
    filter
        .split('.')
        .map(|t| if t == ">" || t == "*" { "*" } else { t })
        .collect::<Vec<_>>()
        .join(".")
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn publish(&self, envelope: &Envelope) -> anyhow::Result<()> {
        self.append(std::slice::from_ref(envelope)).await
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> (usize, Option<anyhow::Error>) {
        let mut done = 0;
        for chunk in envelopes.chunks(BATCH) {
            if let Err(err) = self.append(chunk).await {
                return (done, Some(err));
            }
            done += chunk.len();
        }
        (done, None)
    }

    async fn subscribe(&self, consumer: Consumer, tasks: &Tasks) -> anyhow::Result<()> {
        let mut at = self.register(&consumer).await?;
        let bus = Self {
            writer: self.writer.clone(),
            reader: self.reader.clone(),
            settings: self.settings.clone(),
            head: self.head.clone(),
            wakers: self.wakers.clone(),
        };
        let wake = bus.wakers.add(&consumer.filter);
        let life = tasks.clone();
        tasks.spawn_finishing("embedded-bus-consumer", async move {
            loop {
                if life.phase() == Phase::Finishing {
                    return Ok(());
                }
                // A wake during the poll is kept (a stored permit), so none is lost.
                let woken = wake.notified();
                match bus.poll(&consumer, &mut at).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(consumer = %consumer.name, error = format!("{err:#}"), "event log poll failed");
                        at.next_retry_ms = Some(now_ms() + 1_000);
                    }
                }
                let until_retry = at.next_retry_ms.map(|due| {
                    Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0))
                });
                let mut pause = until_retry.unwrap_or(IDLE_POLL).min(IDLE_POLL);
                if at.scanned > at.saved {
                    // Come back to write down the events skipped.
                    pause = pause.min(CURSOR_SAVE_EVERY);
                }
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(pause) => {
                        if let Err(err) = bus.read_head().await {
                            tracing::warn!(error = format!("{err:#}"), "reading the event log's head failed");
                        }
                    }
                    () = life.finishing() => return Ok(()),
                }
            }
        });
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        self.list_dead(limit).await
    }

    async fn dead_letter(&self, id: &str) -> anyhow::Result<Option<DeadLetter>> {
        self.find_dead(id).await
    }

    async fn dead_letter_count(&self) -> anyhow::Result<u64> {
        self.count_dead().await
    }

    async fn replay_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        self.replay_dead(id).await
    }

    async fn discard_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        self.discard_dead(id).await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        crate::db::ping(&self.reader).await
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn filters_become_globs_that_cover_them() {
        assert_eq!(glob("identity.>"), "identity.*");
        assert_eq!(glob("identity.customer.*.v1"), "identity.customer.*.v1");
        assert_eq!(glob("a.b"), "a.b");
    }
}
