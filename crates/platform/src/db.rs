//! Connecting to a service's own database, SQLite or PostgreSQL, chosen by URL.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// Opens a pool to `url` and applies the service's migrations.
///
/// SQLite gets WAL (readers never block the writer), a busy timeout (writers queue
/// instead of failing), foreign keys and `synchronous=NORMAL` (durable across process
/// crashes, which is the failure WAL mode protects against). A PostgreSQL database that
/// does not exist yet is created, so each service can own a fresh database without a
/// manual step.
pub async fn connect<M: MigratorTrait>(
    url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let db = open(url, max_connections).await?;
    M::up(&db, None)
        .await
        .with_context(|| format!("migrating {}", redact(url)))?;
    Ok(db)
}

/// How long a pooled connection may sit unused before it is closed (down to one).
const IDLE_CONNECTION: Duration = Duration::from_secs(30);

/// Opens a pool without migrating.
pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("postgres") {
        ensure_postgres_database(url).await?;
    } else if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(path).parent()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        // Connections a burst opened are closed once it is over: each holds a page
        // cache (and, on SQLite, a thread of its own) that an idle shop does not need.
        .idle_timeout(IDLE_CONNECTION)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    Database::connect(opts)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Creates the database named in a PostgreSQL URL when it is missing, connecting to the
/// server's `postgres` database to do so.
pub async fn ensure_postgres_database(url: &str) -> anyhow::Result<()> {
    let (server, name) = split_postgres_url(url)?;
    let admin = Database::connect(
        ConnectOptions::new(format!("{server}/postgres"))
            .sqlx_logging(false)
            .to_owned(),
    )
    .await
    .with_context(|| format!("connecting to PostgreSQL at {}", redact(&server)))?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    if !exists {
        // Identifiers cannot be bound as parameters; the name is checked to be plain.
        let sql = format!("CREATE DATABASE \"{name}\"");
        if let Err(err) = admin.execute_unprepared(&sql).await {
            // Another process may have created it in between; that is fine.
            if !err.to_string().contains("already exists") {
                return Err(err).context("creating database");
            }
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// Splits `postgres://user@host:port/name?opts` into the server part and the name.
pub fn split_postgres_url(url: &str) -> anyhow::Result<(String, String)> {
    let without_query = url.split('?').next().unwrap_or(url);
    let (server, name) = without_query
        .rsplit_once('/')
        .filter(|(s, _)| s.contains("://"))
        .context("a PostgreSQL URL must name its database")?;
    anyhow::ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "database names may only use letters, digits, '_' and '-'"
    );
    Ok((server.to_owned(), name.to_owned()))
}

/// Hides a password in a database URL before it is logged.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Begins a transaction that will write.
///
/// On SQLite it first takes the database's write turn in this process, then the write
/// lock at `BEGIN` (`BEGIN IMMEDIATE`). SQLite has one writer at a time; without the
/// turn, concurrent writers would find the lock taken and sleep in SQLite's busy handler
/// (1, 2, 5, 10… ms between tries), which under load costs more than the writes. With
/// it they queue in the process and each starts the moment the last one commits. The
/// immediate lock is still needed: a deferred transaction that reads and then writes
/// could not upgrade past a writer outside the turn (an autocommit statement) and would
/// fail with "database is locked". PostgreSQL takes neither.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = match db.get_database_backend() {
        DbBackend::Sqlite => Some(write_turn(db).lock_owned().await),
        _ => None,
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// The in-process write turn of the SQLite file `db` opens, shared by every pool on it.
fn write_turn(db: &DatabaseConnection) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: Mutex<BTreeMap<PathBuf, Weak<tokio::sync::Mutex<()>>>> =
        Mutex::new(BTreeMap::new());
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let mut turns = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    turns.retain(|_, turn| turn.strong_count() > 0);
    if let Some(turn) = turns.get(&file).and_then(Weak::upgrade) {
        return turn;
    }
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    turns.insert(file, Arc::downgrade(&turn));
    turn
}

/// A transaction from [`begin_write`], holding its SQLite write turn until it commits
/// or is dropped (rolled back). Use it as the transaction it derefs to.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

/// `$first, $first+1, …` for `count` bound values: the inside of an `IN (…)` list that
/// reads the same on SQLite and PostgreSQL.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the database answers, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared("SELECT 1")
        .await
        .map(|_| ())
        .context("database did not answer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn urls_are_split_and_redacted() {
        let (server, name) =
            split_postgres_url("postgres://u:pw@h:5432/mercato_identity?x=1").unwrap();
        assert_eq!(
            (server.as_str(), name.as_str()),
            ("postgres://u:pw@h:5432", "mercato_identity")
        );
        assert!(split_postgres_url("postgres://h/bad\"name").is_err());
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
