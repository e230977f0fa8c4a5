//! `TestApp`: a running app and one helper per endpoint the suites use.

use std::sync::Arc;

use mercato::app::{self, AppOptions, ServiceName};
use platform::clock::OffsetClock;
use platform::config::Settings;
use platform::service::Topology;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

use crate::shop_client::{ShopClient, StaffDesk};
use uuid::Uuid;

use crate::backend::{self, Backend};

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    /// The `errors[].field` names of a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_problem(&self) -> bool {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"))
    }

    /// Asserts a problem+json answer with `status`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert!(
            self.is_problem(),
            "expected problem+json, got {:?}: {}",
            self.headers.get("content-type"),
            self.text
        );
        assert_eq!(self.body["status"], status, "problem status field");
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// A mail from the dev mailbox.
#[derive(Clone, Debug, Deserialize)]
pub struct MailMessage {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailMessage {
    /// The `token=` value of the first link in the mail.
    pub fn link_token(&self) -> Option<String> {
        let start = self.text.find("token=")? + "token=".len();
        Some(
            self.text[start..]
                .split(|c: char| c.is_whitespace())
                .next()?
                .to_owned(),
        )
    }

    /// The 6-digit code in the mail.
    pub fn code(&self) -> Option<String> {
        let start = self.text.find("code: ")? + "code: ".len();
        Some(self.text[start..start + 6].to_owned())
    }
}

/// A running app with fresh databases.
pub struct TestApp {
    /// Its address and client, and every request helper (through `Deref`).
    pub http: ShopClient,
    pub backend: Backend,
    pub settings: Settings,
    pub clock: Arc<OffsetClock>,
    pub identity_db: sea_orm::DatabaseConnection,
    /// The app's event bus, for what only an operator sees (dead letters).
    pub bus: platform::events::SharedBus,
    tag: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Sending on it (or dropping it) begins a graceful shutdown, as SIGTERM does.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    tasks: platform::tasks::Tasks,
    /// Every service's pool, closed on restart so a restarted app does not hold twice
    /// the connections.
    databases: Vec<sea_orm::DatabaseConnection>,
    _data_dir: TempDir,
}

/// Runs `app` until the returned sender is used or dropped.
fn serve(
    app: mercato::app::App,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    (stop, server)
}

fn init_logs() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts an app after `tweak` adjusts its settings.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        init_logs();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let tag = Uuid::now_v7().simple().to_string()[20..].to_owned();
        let mut settings = backend::settings(backend, data_dir.path(), &tag);
        tweak(&mut settings);
        let clock = Arc::new(OffsetClock::default());
        let opts = AppOptions {
            settings: settings.clone(),
            topology: Topology::SingleProcess,
            services: ServiceName::ALL.to_vec(),
            web: true,
            clock: clock.clone(),
        };
        let app = app::build(opts).await.expect("the app starts");
        let address = format!("http://{}", app.local_addr());
        let identity_db = app
            .databases
            .iter()
            .find(|(n, _)| *n == ServiceName::Identity)
            .map(|(_, db)| db.clone())
            .expect("identity runs");
        let tasks = app.tasks().clone();
        let databases = app.databases.iter().map(|(_, db)| db.clone()).collect();
        let bus = app.bus.clone();
        let (stop, server) = serve(app);
        let staff = StaffDesk::Database {
            db: identity_db.clone(),
            clock: clock.clone(),
        };
        Self {
            http: ShopClient::new(address, staff),
            backend,
            settings,
            clock,
            identity_db,
            bus,
            tag,
            server,
            stop: Some(stop),
            tasks,
            databases,
            _data_dir: data_dir,
        }
    }

    /// Shuts the app down as SIGTERM would and waits until it has; what `run` returned.
    pub async fn shut_down(&mut self) -> anyhow::Result<()> {
        drop(self.stop.take());
        (&mut self.server).await?
    }

    /// Stops the app as a crash would (no graceful shutdown: whatever was committed
    /// stays, whatever was in flight is lost) and starts it again on the same data,
    /// after `tweak` adjusts its settings.
    pub async fn restart(&mut self, tweak: impl FnOnce(&mut Settings)) {
        self.server.abort();
        self.tasks.abort_all();
        let _ = (&mut self.server).await;
        for db in self.databases.drain(..) {
            let _ = db.close_by_ref().await;
        }
        tweak(&mut self.settings);
        let opts = AppOptions {
            settings: self.settings.clone(),
            topology: Topology::SingleProcess,
            services: ServiceName::ALL.to_vec(),
            web: true,
            clock: self.clock.clone(),
        };
        let app = app::build(opts).await.expect("the app restarts");
        self.identity_db = app
            .databases
            .iter()
            .find(|(n, _)| *n == ServiceName::Identity)
            .map(|(_, db)| db.clone())
            .expect("identity runs");
        let staff = StaffDesk::Database {
            db: self.identity_db.clone(),
            clock: self.clock.clone(),
        };
        self.http = ShopClient::new(format!("http://{}", app.local_addr()), staff);
        self.tasks = app.tasks().clone();
        self.databases = app.databases.iter().map(|(_, db)| db.clone()).collect();
        self.bus = app.bus.clone();
        let (stop, server) = serve(app);
        (self.stop, self.server) = (Some(stop), server);
    }

    /// Publishes an event no consumer can read (a verification request without its fields), as
    /// a buggy producer would: notifications fails on it every time, so it ends as a dead
    /// letter of `notifications-identity`. Returns its id.
    pub async fn publish_unreadable_event(&self) -> Uuid {
        let envelope = contracts::Envelope {
            id: Uuid::now_v7(),
            event_type: "identity.customer.verification_requested.v1".into(),
            schema_version: 1,
            occurred_at: chrono::Utc::now(),
            aggregate_id: Uuid::now_v7().to_string(),
            aggregate_version: 1,
            request_id: None,
            trace_id: None,
            payload: serde_json::json!({"unreadable": true}),
        };
        self.bus.publish(&envelope).await.expect("publish");
        envelope.id
    }

    /// Events committed by any service and not yet published: the outboxes' rows.
    pub async fn outbox_rows(&self) -> i64 {
        let mut rows = 0;
        for db in &self.databases {
            rows += outbox_rows_in(db).await;
        }
        rows
    }

    /// The secret payment webhooks are signed with.
    pub fn webhook_secret(&self) -> String {
        use secrecy::ExposeSecret;
        self.settings
            .payments
            .webhook_secret
            .as_ref()
            .expect("tests set a webhook secret")
            .expose_secret()
            .to_owned()
    }

    /// Reads a response the way every helper does.
    pub async fn read(res: reqwest::Response) -> TestResponse {
        ShopClient::read(res).await
    }

    /// Moves the app's clock forward, to expire tokens.
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }
}

/// The rows waiting in one service database's outbox.
pub async fn outbox_rows_in(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::ConnectionTrait;
    let count = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox",
        ))
        .await
        .expect("counting an outbox")
        .expect("a count");
    count.try_get::<i64>("", "n").expect("n")
}

impl std::ops::Deref for TestApp {
    type Target = ShopClient;

    fn deref(&self) -> &ShopClient {
        &self.http
    }
}

impl Drop for TestApp {
    /// Stops the app and, on the distributed back-end, drops its databases and streams
    /// so repeated runs do not fill the servers.
    fn drop(&mut self) {
        self.server.abort();
        self.tasks.abort_all();
        if self.backend != Backend::Distributed {
            return;
        }
        drop_distributed_resources(&self.tag, &self.settings.bus.namespace);
    }
}

/// Drops the PostgreSQL databases `mtest_<tag>_<service>` and the JetStream streams of
/// `namespace`. Blocking, so it can run from `Drop`.
pub fn drop_distributed_resources(tag: &str, namespace: &str) {
    let (tag, namespace) = (tag.to_owned(), namespace.to_owned());
    crate::block_on_own_thread(async move { cleanup(&tag, &namespace).await });
}

async fn cleanup(tag: &str, namespace: &str) {
    use sea_orm::ConnectionTrait;
    if let Ok(admin) =
        sea_orm::Database::connect(format!("{}/postgres", backend::postgres_url())).await
    {
        for service in ServiceName::ALL {
            let sql = format!(
                "DROP DATABASE IF EXISTS \"mtest_{tag}_{}\" WITH (FORCE)",
                service.as_str()
            );
            let _ = admin.execute_unprepared(&sql).await;
        }
        let _ = admin.close().await;
    }
    if let Ok(client) = async_nats::connect(backend::nats_url()).await {
        let js = async_nats::jetstream::new(client);
        let prefix = namespace.to_ascii_uppercase();
        let names: Vec<String> = {
            use futures::StreamExt;
            js.stream_names()
                .filter_map(|n| async move { n.ok() })
                .collect()
                .await
        };
        for name in names
            .into_iter()
            .filter(|n| n.starts_with(&format!("{prefix}_")))
        {
            let _ = js.delete_stream(name).await;
        }
    }
}
