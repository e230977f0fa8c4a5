//! Waiting on the server for one record to change, instead of a client polling for it.
//!
//! A writer calls [`Changes::committed`] after committing a change to a record (an
//! order); a reader that wants the next change takes a [`Watch`] on the record *before*
//! reading it, reads, and awaits [`Watch::changed`] only if what it read is not new
//! enough. Taking the watch first closes the race: a change committed after the read
//! wakes it, and one committed before is in what was read. A wake is a hint ("read
//! again"), never data, so a spurious one costs one read and a lost one costs at most the
//! reader's timeout.
//!
//! In one process the hint goes straight to the waiters. On PostgreSQL it goes through
//! `NOTIFY` on the service's database, which every replica of the service `LISTEN`s on,
//! so a long poll served by one replica wakes when another replica commits the change.
//! While the listening connection is down, waiters are woken every time it is
//! re-established (they may have missed a notification) and keep their timeouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::watch;
use uuid::Uuid;

use crate::tasks::Tasks;

type Waiters = Arc<Mutex<HashMap<Uuid, watch::Sender<()>>>>;

/// Change hints for one kind of record of one service.
#[derive(Clone)]
pub struct Changes {
    waiters: Waiters,
    /// Where hints go when they must reach other processes: the service's database and
    /// the channel name, on PostgreSQL.
    postgres: Option<(DatabaseConnection, String)>,
    /// Waits end when the process stops, so that shutdown need not outwait them.
    tasks: Tasks,
}

impl Changes {
    /// Hints for `kind` (e.g. `orders`) among the processes sharing `db`: direct in one
    /// process on SQLite, through `LISTEN`/`NOTIFY` on PostgreSQL (the listener runs in
    /// `tasks`).
    pub fn new(db: &DatabaseConnection, kind: &str, tasks: &Tasks) -> Self {
        let waiters = Waiters::default();
        let postgres = (db.get_database_backend() == DbBackend::Postgres).then(|| {
            let channel = format!("{kind}_changed");
            let pool = db.get_postgres_connection_pool().clone();
            tasks.spawn(
                "changes-listener",
                listen(pool, channel.clone(), waiters.clone()),
            );
            (db.clone(), channel)
        });
        Self {
            waiters,
            postgres,
            tasks: tasks.clone(),
        }
    }

    /// Hints in this process only; for tests of the mechanism.
    pub fn local() -> Self {
        Self {
            waiters: Waiters::default(),
            postgres: None,
            tasks: Tasks::new(),
        }
    }

    /// Starts watching `id`. Take the watch before reading the record.
    pub fn watch(&self, id: Uuid) -> Watch {
        let rx = lock(&self.waiters)
            .entry(id)
            .or_insert_with(|| watch::channel(()).0)
            .subscribe();
        Watch {
            id,
            rx: Some(rx),
            waiters: self.waiters.clone(),
            tasks: self.tasks.clone(),
        }
    }

    /// Whether the process is stopping: a long wait answers now, a stream ends.
    pub fn closing(&self) -> bool {
        self.tasks.is_stopping()
    }

    /// Tells whoever watches `id` that a change to it was committed. A failure to reach
    /// other processes is logged, not returned: the change itself is safe, and waiters
    /// elsewhere fall back to their timeouts.
    pub async fn committed(&self, id: Uuid) {
        match &self.postgres {
            None => wake(&self.waiters, id),
            Some((db, channel)) => {
                let notify = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [channel.clone().into(), id.to_string().into()],
                );
                if let Err(err) = db.execute_raw(notify).await {
                    tracing::warn!(error = %err, channel, "could not send a change hint");
                    wake(&self.waiters, id);
                }
            }
        }
    }

    /// How many records are being watched, for tests that check watches are cleaned up.
    pub fn watched(&self) -> usize {
        lock(&self.waiters).len()
    }
}

/// A wait for the next change to one record, from the moment it was taken.
pub struct Watch {
    id: Uuid,
    rx: Option<watch::Receiver<()>>,
    waiters: Waiters,
    tasks: Tasks,
}

impl Watch {
    /// Returns when a change was committed since the watch was taken or since the last
    /// return, or at once when the process is stopping. Put a timeout around it.
    pub async fn changed(&mut self) {
        let Some(rx) = &mut self.rx else { return };
        tokio::select! {
            changed = rx.changed() => if changed.is_err() {
                // The sender only goes away with the last watch, which is this one.
                std::future::pending::<()>().await;
            },
            () = self.tasks.stopping() => {}
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.rx.take());
        let mut waiters = lock(&self.waiters);
        if waiters
            .get(&self.id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            waiters.remove(&self.id);
        }
    }
}

fn lock(waiters: &Waiters) -> MutexGuard<'_, HashMap<Uuid, watch::Sender<()>>> {
    waiters.lock().unwrap_or_else(|p| p.into_inner())
}

fn wake(waiters: &Waiters, id: Uuid) {
    if let Some(tx) = lock(waiters).get(&id) {
        tx.send_replace(());
    }
}

fn wake_all(waiters: &Waiters) {
    for tx in lock(waiters).values() {
        tx.send_replace(());
    }
}

/// Relays `NOTIFY`s on `channel` to this process's waiters, reconnecting as needed.
async fn listen(
    pool: sea_orm::sqlx::PgPool,
    channel: String,
    waiters: Waiters,
) -> anyhow::Result<()> {
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!(error = %err, channel, "cannot listen for change hints; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = listener.listen(&channel).await {
            tracing::warn!(error = %err, channel, "LISTEN failed; retrying");
            tokio::time::sleep(pause).await;
            continue;
        }
        pause = std::time::Duration::from_millis(100);
        // Anything committed while nobody listened went unheard: everyone reads again.
        wake_all(&waiters);
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) => match note.payload().parse::<Uuid>() {
                    Ok(id) => wake(&waiters, id),
                    Err(_) => tracing::warn!(channel, "a change hint that is not an id"),
                },
                // The connection was lost; the listener reconnects on the next call.
                Ok(None) => wake_all(&waiters),
                Err(err) => {
                    tracing::warn!(error = %err, channel, "change hints interrupted");
                    wake_all(&waiters);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_change_after_the_watch_wakes_it_and_watches_are_cleaned_up() {
        let changes = Changes::local();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut watch = changes.watch(a);
        changes.committed(b).await;
        let early = tokio::time::timeout(Duration::from_millis(50), watch.changed()).await;
        assert!(early.is_err(), "a change to another record woke the watch");
        changes.committed(a).await;
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("the change woke the watch");
        let again = tokio::time::timeout(Duration::from_millis(50), watch.changed()).await;
        assert!(again.is_err(), "one change woke the watch twice");
        let second = changes.watch(a);
        assert_eq!(changes.watched(), 1);
        drop(watch);
        assert_eq!(changes.watched(), 1, "another watch still waits on a");
        drop(second);
        assert_eq!(changes.watched(), 0);
    }

    #[tokio::test]
    async fn a_change_before_the_wait_still_counts() {
        let changes = Changes::local();
        let id = Uuid::now_v7();
        let mut watch = changes.watch(id);
        changes.committed(id).await;
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("a change between taking the watch and waiting is not lost");
    }
}
