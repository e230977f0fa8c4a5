//! One service's context without the app around it, on a real database: for tests of
//! an event handler fed events in an order (or at a moment) the bus would rarely
//! produce on its own. Nothing runs in the background: what the handler publishes
//! stays in the service's outbox, where the test reads it.

use std::sync::Arc;
use std::time::Duration;

use platform::auth::{SigningKey, TokenVerifier};
use platform::cache::{Cache, MemoryCache};
use platform::clock::SystemClock;
use platform::events::embedded::EmbeddedBus;
use platform::events::outbox::Relay;
use platform::ratelimit::RateLimiter;
use platform::service::{ServiceContext, Topology};
use platform::tasks::Tasks;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;

use crate::backend::{self, Backend};
use crate::process::ProcessTag;

/// A service's context on a fresh database of `backend`; dropped with it.
pub struct ServiceDb {
    pub ctx: ServiceContext,
    url: String,
    _dir: tempfile::TempDir,
    _tag: ProcessTag,
}

impl ServiceDb {
    /// The context of `service` (as `ServiceName` spells it) on a new database migrated
    /// by `M`.
    pub async fn new<M: MigratorTrait>(service: &'static str, backend: Backend) -> Self {
        let tag = ProcessTag::new(backend);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let settings = Arc::new(backend::settings(backend, dir.path(), &tag.tag));
        let url = match backend {
            Backend::Embedded => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join(format!("{service}.db")).display()
            ),
            Backend::Distributed => {
                format!("{}/mtest_{}_{service}", backend::postgres_url(), tag.tag)
            }
        };
        let db = platform::db::connect::<M>(&url, 8)
            .await
            .expect("the service's database");
        let events = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("events.db").display()
        );
        let bus = EmbeddedBus::open(&events, settings.bus.clone())
            .await
            .expect("an event log");
        let key = SigningKey::generate().expect("a signing key");
        let ctx = ServiceContext {
            name: service,
            settings: settings.clone(),
            topology: Topology::SingleProcess,
            relay: Relay::new(db.clone(), bus.clone(), Duration::from_secs(3600)),
            db,
            bus,
            clock: Arc::new(SystemClock),
            limiter: RateLimiter::in_memory(false),
            cache: Cache::new(
                Arc::new(MemoryCache::new(1_000, Duration::from_secs(60))),
                format!("test:{service}"),
                Duration::from_secs(60),
            ),
            verifier: TokenVerifier::from_jwks(settings.auth.issuer.clone(), &key.jwks()),
            tasks: Tasks::new(),
        };
        Self {
            ctx,
            url,
            _dir: dir,
            _tag: tag,
        }
    }

    /// The context another replica of the service would have: its own connections to
    /// the same database.
    pub async fn replica(&self) -> ServiceContext {
        let db = platform::db::open(&self.url, 8)
            .await
            .expect("another pool on the database");
        ServiceContext {
            relay: Relay::new(db.clone(), self.ctx.bus.clone(), Duration::from_secs(3600)),
            db,
            ..self.ctx.clone()
        }
    }

    /// The types of the events waiting in the outbox, oldest first.
    pub async fn published(&self) -> Vec<String> {
        published_in(&self.ctx.db).await
    }
}

/// The types of the events waiting in `db`'s outbox, oldest first.
pub async fn published_in(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT event_type FROM outbox ORDER BY id",
    ))
    .await
    .expect("reading the outbox")
    .into_iter()
    .map(|row| row.try_get::<String>("", "event_type").expect("a type"))
    .collect()
}
