//! A real Mercato, started inside this process the way the black-box tests start one:
//! every service, a fresh data directory, a random port. Rate limits are off (64
//! connections from one address would trip them, and so would registering hundreds of
//! customers) and logs are quiet (`warn`), so what is measured is the shop's own request
//! path. The dev mailbox is on (the single-process default without SMTP), which is how
//! the checkout bench reads its customers' verification mails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mercato::app::{self, AppOptions, ServiceName};
use platform::clock::SystemClock;
use platform::config::{BusKind, Settings};
use platform::events::jetstream::JetStreamBus;
use platform::service::Topology;
use platform::tasks::Tasks;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// Databases and event streams of a PostgreSQL run carry this prefix, so a run can clear
/// what an earlier (perhaps interrupted) run left behind without touching anything else.
const NAMESPACE: &str = "mbench";

/// Where the shop keeps its data.
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQLite files and the embedded event log in a temporary directory.
    Embedded,
    /// A database per service on this PostgreSQL server, and NATS JetStream when a URL
    /// is given (otherwise the embedded event log).
    Postgres { url: String, nats: Option<String> },
}

impl Backend {
    /// The back-end the `--postgres URL` and `--nats URL` flags name.
    pub fn from_flags(postgres: Option<String>, nats: Option<String>) -> Self {
        match postgres {
            Some(url) => Self::Postgres { url, nats },
            None => Self::Embedded,
        }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded => "embedded (SQLite per service, embedded event log)".into(),
            Self::Postgres { url, nats: None } => format!(
                "PostgreSQL at {} (embedded event log)",
                platform::db::redact(url)
            ),
            Self::Postgres { url, nats: Some(n) } => format!(
                "PostgreSQL at {}, NATS JetStream at {n}",
                platform::db::redact(url)
            ),
        }
    }
}

/// A running shop.
pub struct Shop {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    pub identity_db: DatabaseConnection,
    /// Every service's database, for the outbox counts.
    databases: Vec<DatabaseConnection>,
    backend: Backend,
    server: JoinHandle<anyhow::Result<()>>,
    tasks: Tasks,
    /// The SQLite files and the signing key live here; deleted on drop.
    data_dir: TempDir,
}

fn settings(backend: &Backend, data_dir: &std::path::Path) -> Settings {
    let mut s = Settings {
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    };
    s.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    s.rate_limits.enabled = false;
    s.log.filter = "warn".into();
    if let Backend::Postgres { url, nats } = backend {
        s.database.url = format!("{}/{NAMESPACE}_{{service}}", url.trim_end_matches('/'));
        if let Some(nats) = nats {
            s.bus.kind = BusKind::Nats;
            s.bus.nats_url = nats.clone();
            s.bus.namespace = NAMESPACE.into();
        }
    }
    s
}

impl Shop {
    /// Starts every service on `backend`, after clearing what an earlier run left there.
    pub async fn start(backend: Backend) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir().context("creating a temporary data directory")?;
        let settings = settings(&backend, data_dir.path());
        platform::telemetry::init(&settings.log);
        clear(&backend, &settings).await?;
        let app = app::build(AppOptions {
            settings,
            topology: Topology::SingleProcess,
            services: ServiceName::ALL.to_vec(),
            web: true,
            clock: Arc::new(SystemClock),
        })
        .await
        .context("starting Mercato")?;
        let base_url = format!("http://{}", app.local_addr());
        let db = |name: ServiceName| {
            app.databases
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, db)| db.clone())
                .with_context(|| format!("the {} service is not running", name.as_str()))
        };
        let identity_db = db(ServiceName::Identity)?;
        let databases = app.databases.iter().map(|(_, db)| db.clone()).collect();
        let tasks = app.tasks().clone();
        let server = tokio::spawn(app.run(std::future::pending()));
        Ok(Self {
            base_url,
            identity_db,
            databases,
            backend,
            server,
            tasks,
            data_dir,
        })
    }

    /// Waits until every event of the loading has been published and handled; returns
    /// how long that took.
    pub async fn settle(&self, limit: Duration) -> anyhow::Result<Duration> {
        let nats = match &self.backend {
            Backend::Postgres {
                nats: Some(url), ..
            } => Some((url.as_str(), NAMESPACE)),
            _ => None,
        };
        crate::settle::wait(&self.databases, self.data_dir.path(), nats, limit).await
    }

    /// Stops the shop and drops what it made on shared servers.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.server.abort();
        self.tasks.abort_all();
        let settings = settings(&self.backend, self.data_dir.path());
        clear(&self.backend, &settings).await
    }
}

/// Drops the `mbench_*` databases and JetStream streams, so every run starts empty.
async fn clear(backend: &Backend, settings: &Settings) -> anyhow::Result<()> {
    let Backend::Postgres { url, nats } = backend else {
        return Ok(());
    };
    let admin_url = format!("{}/postgres", url.trim_end_matches('/'));
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .with_context(|| format!("connecting to {}", platform::db::redact(&admin_url)))?;
    for service in ServiceName::ALL {
        // Identifiers cannot be bound; these names are our own constants.
        let sql = format!(
            "DROP DATABASE IF EXISTS \"{NAMESPACE}_{}\" WITH (FORCE)",
            service.as_str()
        );
        admin
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .with_context(|| format!("dropping the {} bench database", service.as_str()))?;
    }
    admin.close().await.ok();
    if nats.is_some() {
        let bus = JetStreamBus::connect(settings.bus.clone())
            .await
            .context("connecting to NATS")?;
        let sources: Vec<&str> = ServiceName::ALL.iter().map(|s| s.as_str()).collect();
        bus.delete_namespace(&sources).await?;
    }
    Ok(())
}
