//! `TestApp`: a running app and one helper per endpoint the suites use.

use std::sync::Arc;
use std::time::Duration;

use mercato::app::{self, AppOptions, ServiceName};
use platform::clock::OffsetClock;
use platform::config::Settings;
use platform::service::Topology;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;
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
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub settings: Settings,
    pub clock: Arc<OffsetClock>,
    pub identity_db: sea_orm::DatabaseConnection,
    tag: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    tasks: platform::tasks::Tasks,
    /// Every service's pool, closed on restart so a restarted app does not hold twice
    /// the connections.
    databases: Vec<sea_orm::DatabaseConnection>,
    _data_dir: TempDir,
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
        let server = tokio::spawn(app.run(std::future::pending()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            client,
            backend,
            settings,
            clock,
            identity_db,
            tag,
            server,
            tasks,
            databases,
            _data_dir: data_dir,
        }
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
        self.address = format!("http://{}", app.local_addr());
        self.identity_db = app
            .databases
            .iter()
            .find(|(n, _)| *n == ServiceName::Identity)
            .map(|(_, db)| db.clone())
            .expect("identity runs");
        self.tasks = app.tasks().clone();
        self.databases = app.databases.iter().map(|(_, db)| db.clone()).collect();
        self.server = tokio::spawn(app.run(std::future::pending()));
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Sends a request with extra headers (`If-Match`, `If-None-Match`, `Cookie`, …).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn read(res: reqwest::Response) -> TestResponse {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Method::DELETE, path, token, None).await
    }

    /// Posts raw bytes with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        let res = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent");
        Self::read(res).await
    }

    /// Posts a multipart form: `file` (named `file_name`, sent as `content_type`) and
    /// text `fields`, the way a browser uploads.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        file: (&str, &str, Vec<u8>),
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let (file_name, content_type, bytes) = file;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(content_type)
            .expect("a valid content type");
        let mut form = reqwest::multipart::Form::new().part("file", part);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let mut req = self.client.post(self.url(path)).multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Fetches a path as bytes (images), with optional request headers.
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("request sent");
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.bytes().await.expect("body").to_vec();
        (status, headers, body)
    }

    /// The access token of a fresh staff member with `role` (`admin`, `inventory`,
    /// `finance`).
    pub async fn staff_token(&self, role: &str) -> String {
        let email = format!("{}@shop.test", crate::unique(role));
        let pair = self.staff_with_role(&email, role).await;
        pair["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The access token of a fresh, verified customer.
    pub async fn customer_token(&self) -> String {
        let email = format!("{}@example.test", crate::unique("shopper"));
        let pair = self
            .verified_customer(&email, "correct horse battery staple")
            .await;
        pair["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": password, "name": name}),
        )
        .await
    }

    /// Mails to `to`, newest first, as the dev mailbox lists them now.
    pub async fn mails_to(&self, to: &str) -> Vec<MailMessage> {
        let res = self
            .get(
                &format!("/api/v1/dev/mailbox?to={}&limit=100", urlencode(to)),
                None,
            )
            .await;
        res.assert_status(200);
        serde_json::from_value(res.body["items"].clone()).expect("mailbox items")
    }

    /// Waits (up to 45 s) until `to` has received at least `count` mails; newest first.
    pub async fn wait_for_mails(&self, to: &str, count: usize) -> Vec<MailMessage> {
        for _ in 0..450 {
            let mails = self.mails_to(to).await;
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{to} did not receive {count} mail(s) in time; has {:?}",
            self.mails_to(to)
                .await
                .iter()
                .map(|m| &m.subject)
                .collect::<Vec<_>>()
        );
    }

    /// Registers, reads the verification mail and verifies: a customer ready to shop.
    pub async fn verified_customer(&self, email: &str, password: &str) -> Value {
        self.register(email, password, "Test Customer")
            .await
            .assert_status(201);
        let mail = self.wait_for_mails(email, 1).await.remove(0);
        let token = mail.link_token().expect("a link token");
        self.post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await
            .assert_status(204);
        self.login(email, password).await
    }

    /// Signs a customer in; returns the token pair.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        res.assert_status(200);
        res.body
    }

    /// Creates a staff member the way `mercato admin create-staff` does and signs them in.
    pub async fn staff_with_role(&self, email: &str, role: &str) -> Value {
        let password = "staff password for tests";
        let clock: &dyn platform::clock::Clock = &*self.clock;
        identity::bootstrap::create_staff(
            &self.identity_db,
            clock,
            email,
            "Staff Member",
            role,
            password,
        )
        .await
        .expect("staff created");
        let res = self
            .post(
                "/api/v1/staff/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        res.assert_status(200);
        res.body
    }

    /// Moves the app's clock forward, to expire tokens.
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
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
