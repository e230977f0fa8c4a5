//! Waiting for the shop to go quiet after loading. Every product created queues an
//! event in the catalog's outbox; the relay publishes it, and consumers (the catalog's
//! own cache invalidation among them) handle it. Measuring before all of that is done
//! would measure the event pipeline along with the reads, and invalidations arriving
//! mid-run would empty the caches the reads are meant to find.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::TryStreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// How far behind the event pipeline is: unpublished outbox rows plus events the
/// consumers have not handled yet (or are retrying).
async fn backlog(databases: &[DatabaseConnection], bus: &Bus) -> anyhow::Result<u64> {
    let mut behind = 0;
    for db in databases {
        behind += count(db, "SELECT COUNT(*) AS n FROM outbox").await?;
    }
    behind += match bus {
        // Per consumer, the events past its cursor that its filter reads (every
        // consumer's filter is `<service>.>`, which `<service>.*` globs exactly), plus
        // retries; a consumer writes its cursor once it has handled what it read.
        Bus::Embedded(log) => {
            count(
                log,
                "SELECT (SELECT COUNT(*) FROM bus_consumers c JOIN bus_events e \
                           ON e.seq > c.cursor \
                          AND e.subject GLOB REPLACE(c.filter, '>', '*')) \
                      + (SELECT COUNT(*) FROM bus_retries WHERE dead_at IS NULL) AS n",
            )
            .await?
        }
        Bus::JetStream { js, prefix } => {
            let mut pending = 0;
            let mut names = js.stream_names();
            while let Some(name) = names.try_next().await.context("listing streams")? {
                if !name.starts_with(prefix.as_str()) {
                    continue;
                }
                let stream = js.get_stream(&name).await.context("reading a stream")?;
                let mut consumers = stream.consumers();
                while let Some(c) = consumers.try_next().await.context("listing consumers")? {
                    pending += c.num_pending + c.num_ack_pending as u64;
                }
            }
            pending
        }
    };
    Ok(behind)
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .with_context(|| format!("running {sql}"))?
        .context("a count returned no row")?;
    let n: i64 = row.try_get("", "n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Where the consumers keep their place.
enum Bus {
    /// The embedded event log: a cursor per consumer in `events.db`.
    Embedded(DatabaseConnection),
    /// JetStream: pending counts per consumer of the namespace's streams.
    JetStream {
        js: async_nats::jetstream::Context,
        prefix: String,
    },
}

/// Waits until nothing is left in any outbox or consumer, for at most `limit`.
pub async fn wait(
    databases: &[DatabaseConnection],
    data_dir: &Path,
    nats: Option<(&str, &str)>,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let bus = match nats {
        None => {
            let url = format!("sqlite://{}?mode=ro", data_dir.join("events.db").display());
            Bus::Embedded(
                sea_orm::Database::connect(url.as_str())
                    .await
                    .context("opening the event log")?,
            )
        }
        Some((url, namespace)) => Bus::JetStream {
            js: async_nats::jetstream::new(
                async_nats::connect(url)
                    .await
                    .with_context(|| format!("connecting to NATS at {url}"))?,
            ),
            prefix: format!("{}_", namespace.to_ascii_uppercase()),
        },
    };
    loop {
        let behind = backlog(databases, &bus).await?;
        if behind == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            bail!("{behind} events still in flight after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
