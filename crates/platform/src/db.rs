//! Connecting to a service's own database, SQLite or PostgreSQL, chosen by URL.

use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
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

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes cannot wait
/// for a concurrent writer and fails with "database is locked", whereas an immediate
/// one queues behind it for the busy timeout. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
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
