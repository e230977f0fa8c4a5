//! Settings: a TOML file overridden by `MERCATO_*` environment variables.
//!
//! Nested keys use a double underscore in the environment: `[http] listen` is
//! `MERCATO_HTTP__LISTEN`. Every setting has a default that gives a working
//! single-process shop, so an empty file (or none) is a valid configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Everything a Mercato process can be told.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the single-process topology keeps its SQLite files, event log, signing key
    /// and media. `MERCATO_DATA_DIR`.
    pub data_dir: PathBuf,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    /// Redis for rate limits and caches when set (`redis://127.0.0.1:6379`); in memory
    /// otherwise. `MERCATO_REDIS_URL`.
    pub redis_url: Option<String>,
    pub auth: AuthSettings,
    pub rate_limits: RateLimitSettings,
    pub mail: MailSettings,
    pub media: MediaSettings,
    pub services: ServiceUrls,
    pub orders: OrderSettings,
    pub payments: PaymentSettings,
    pub log: LogSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http: HttpSettings::default(),
            database: DatabaseSettings::default(),
            bus: BusSettings::default(),
            redis_url: None,
            auth: AuthSettings::default(),
            rate_limits: RateLimitSettings::default(),
            mail: MailSettings::default(),
            media: MediaSettings::default(),
            services: ServiceUrls::default(),
            orders: OrderSettings::default(),
            payments: PaymentSettings::default(),
            log: LogSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on. `MERCATO_HTTP__LISTEN`.
    pub listen: SocketAddr,
    /// The URL customers reach the shop at; used in mailed links.
    pub public_url: String,
    /// Largest accepted JSON body in bytes (uploads have their own limit).
    pub body_limit_bytes: usize,
    /// A request still running after this many seconds is answered 408.
    pub request_timeout_secs: u64,
    /// Trust the left-most `X-Forwarded-For` entry as the client address. Only turn on
    /// behind a proxy (the gateway) that sets it, or clients can spoof rate-limit keys.
    pub trust_forwarded_for: bool,
    /// Mark auth cookies `Secure`. Browsers accept Secure cookies on http://localhost.
    pub secure_cookies: bool,
    /// A connection that has not sent a whole request head within this many seconds is
    /// closed, so slow clients cannot hold connections open a byte at a time.
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers) in bytes; larger ones get 431.
    pub max_header_bytes: usize,
    /// Longest pause, in seconds, between two pieces of a request body before the
    /// request is answered 408.
    pub body_read_timeout_secs: u64,
    /// Requests handled at once by this process; past it a request is answered 503
    /// with `Retry-After` at once instead of queueing until the machine is overrun.
    pub max_concurrent_requests: usize,
    /// Serve `/metrics` on this separate address (e.g. `0.0.0.0:9090` for a scraper).
    /// Unset: `/metrics` is on the main listener and answers loopback clients only.
    pub metrics_listen: Option<SocketAddr>,
    /// On SIGTERM, milliseconds spent failing `/readyz` and answering with
    /// `Connection: close` while still serving, so a balancer that probes readiness
    /// stops sending requests, and one that keeps connections (nginx) lets them go,
    /// before the listener closes. Behind nginx, longer than its upstream keepalive
    /// timeout (4 s in deploy/nginx). 0 where something else waits (a Kubernetes
    /// preStop pause).
    pub shutdown_delay_ms: u64,
    /// Then, at most this many seconds for requests in flight and the background work in
    /// hand (event batches, the outbox) to finish; what remains is cut off.
    pub shutdown_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://localhost:8080".into(),
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 30,
            trust_forwarded_for: false,
            secure_cookies: true,
            header_read_timeout_secs: 10,
            max_header_bytes: 32 * 1024,
            body_read_timeout_secs: 10,
            max_concurrent_requests: 512,
            metrics_listen: None,
            shutdown_delay_ms: 0,
            shutdown_timeout_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Database URL with `{service}` standing for the service name, so each service
    /// gets its own database: `postgres://user@host/mercato_{service}`. Empty means a
    /// SQLite file per service under the data directory. `MERCATO_DATABASE__URL`.
    pub url: String,
    /// Connection pool size per service.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
        }
    }
}

impl DatabaseSettings {
    /// The URL for one service's database.
    pub fn url_for(&self, data_dir: &Path, service: &str) -> String {
        if self.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join(format!("{service}.db")).display()
            )
        } else {
            self.url.replace("{service}", service)
        }
    }
}

/// Which event bus carries events between services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// A durable log in a SQLite file under the data directory.
    Embedded,
    /// NATS JetStream at `bus.nats_url`.
    Nats,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusSettings {
    /// `embedded` or `nats`. `MERCATO_BUS__KIND`.
    pub kind: BusKind,
    /// `MERCATO_BUS__NATS_URL`.
    pub nats_url: String,
    /// Prefix of every subject and stream, so several shops (or test runs) can share
    /// one NATS server.
    pub namespace: String,
    /// Deliveries of one event to one consumer before it is dead-lettered.
    pub max_deliveries: u32,
    /// First redelivery delay; doubles per attempt up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// How often the outbox relay looks for unpublished events when nothing woke it:
    /// every commit with events wakes it, so this only bounds how long a row written
    /// by another program on the same database (`mercato seed`) waits.
    pub relay_interval_ms: u64,
    /// Turns the outbox relay off. For crash tests and maintenance only: events pile
    /// up in the outbox and are published when it is turned back on.
    pub relay_enabled: bool,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            kind: BusKind::Embedded,
            nats_url: "nats://127.0.0.1:4222".into(),
            namespace: "mercato".into(),
            max_deliveries: 8,
            retry_base_ms: 500,
            retry_max_ms: 60_000,
            relay_interval_ms: 5_000,
            relay_enabled: true,
        }
    }
}

impl BusSettings {
    /// Delay before delivery attempt `attempt + 1` after `attempt` failures.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry_base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        Duration::from_millis(exp.min(self.retry_max_ms))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `iss` of access tokens.
    pub issuer: String,
    /// Access-token lifetime; capped at 900 (15 minutes).
    pub access_ttl_secs: u64,
    /// Lifetime of a session without remember-me.
    pub session_ttl_hours: u64,
    /// Lifetime of a remembered session.
    pub remember_me_days: u64,
    /// Ed25519 private key (PKCS#8 PEM) that signs access tokens. Required for the
    /// identity service in the distributed topology; generated into the data directory
    /// in the single-process topology. `MERCATO_AUTH__SIGNING_KEY`.
    #[serde(skip_serializing)]
    pub signing_key: Option<SecretString>,
    /// Where services that do not host identity fetch the verification keys, e.g.
    /// `http://identity:8080/.well-known/jwks.json`.
    pub jwks_url: Option<String>,
    /// Password hashes computed at once (each takes 19 MiB and a core for tens of
    /// milliseconds); 0 means one per core.
    pub hash_concurrency: usize,
    /// Hashes that may wait for a turn; past that a sign-in or registration is
    /// answered 503 with `Retry-After` before any memory is taken.
    pub hash_queue: usize,
    /// Staff sign-in's second factor (TOTP): `optional` lets each member choose,
    /// `required` makes every member without one enrol at their next sign-in before
    /// they can do anything else. `MERCATO_AUTH__STAFF_2FA`.
    pub staff_2fa: StaffTwoFactor,
}

/// Whether staff must sign in with a second factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffTwoFactor {
    #[default]
    Optional,
    Required,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "mercato".into(),
            access_ttl_secs: 900,
            session_ttl_hours: 12,
            remember_me_days: 30,
            signing_key: None,
            jwks_url: None,
            hash_concurrency: 0,
            hash_queue: 32,
            staff_2fa: StaffTwoFactor::Optional,
        }
    }
}

impl AuthSettings {
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_secs.clamp(30, 900))
    }
}

/// One rate limit: at most `limit` hits per `window_secs`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub limit: u32,
    pub window_secs: u64,
}

impl Limit {
    pub const fn new(limit: u32, window_secs: u64) -> Self {
        Self { limit, window_secs }
    }
}

/// Limits on what one client or one account can make the shop do. Sign-in limits are
/// keyed so that a stranger cannot aim them at someone else: the strict one counts one
/// client's attempts at one account, and the account-wide one only delays clients that
/// never signed in to that account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Set false to turn every limit off (load tests). `MERCATO_RATE_LIMITS__ENABLED`.
    pub enabled: bool,
    /// Sign-in attempts from one client address, whatever the account.
    pub login_per_client: Limit,
    /// Sign-in attempts at one account from one client address; a success starts over.
    pub login_per_account_client: Limit,
    /// Failed sign-ins at one account from anywhere before each further attempt from a
    /// client that never signed in to it waits: 1 s, doubling per failure up to
    /// `login_delay_max_secs`. Clients that signed in before are not delayed.
    pub login_per_account: Limit,
    pub login_delay_max_secs: u64,
    /// Wrong verification codes per client address.
    pub verify_per_client: Limit,
    /// Registrations, resends and reset requests per client address.
    pub mail_per_client: Limit,
    /// Mails one address receives because a visitor asked for them (verification and
    /// reset links, "someone tried to register with your address" notices); past it
    /// the request is answered as usual and no mail is sent.
    pub mail_per_recipient: Limit,
    /// Email changes one customer may start (each mails the new address).
    pub email_change_per_account: Limit,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            login_per_client: Limit::new(30, 15 * 60),
            login_per_account_client: Limit::new(5, 15 * 60),
            login_per_account: Limit::new(20, 60 * 60),
            login_delay_max_secs: 300,
            verify_per_client: Limit::new(20, 15 * 60),
            mail_per_client: Limit::new(20, 60 * 60),
            mail_per_recipient: Limit::new(5, 60 * 60),
            email_change_per_account: Limit::new(5, 60 * 60),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Sender address of every mail.
    pub from: String,
    /// `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or plain `smtp://host:25` for a relay on the same host. `MERCATO_MAIL__SMTP_URL`.
    #[serde(skip_serializing)]
    pub smtp_url: Option<SecretString>,
    /// Keep mail in the dev mailbox (`GET /api/v1/dev/mailbox`) instead of sending it.
    /// Unset: on in the single-process topology unless `smtp_url` is set, off otherwise.
    pub dev_mailbox: Option<bool>,
    /// Sending attempts before a mail is marked failed.
    pub max_attempts: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "Mercato <no-reply@mercato.local>".into(),
            smtp_url: None,
            dev_mailbox: None,
            max_attempts: 6,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaSettings {
    /// Where image blobs live: unset for `<data_dir>/media`, a directory path, or
    /// `s3://bucket[/prefix]` with credentials, region and endpoint from the standard
    /// `AWS_*` variables (`AWS_ENDPOINT` for S3-compatible stores). `MERCATO_MEDIA__STORAGE_URL`.
    pub storage_url: Option<String>,
    /// Largest accepted upload.
    pub max_upload_bytes: usize,
    /// Largest accepted image in pixels (width × height), checked from the header before
    /// anything is decoded, so a small file that would inflate to gigabytes is refused.
    pub max_pixels: u64,
    /// Lossy WebP quality of the variants, 0–100.
    pub webp_quality: f32,
    /// Memory, in bytes, that decoding and rendering images may take at once. Each
    /// image is charged by its pixel count before it is decoded; an image that would
    /// take more than all of it is refused, and one that would take more than what is
    /// left waits for its turn.
    pub decode_memory_bytes: u64,
    /// Uploads read and checked at once; past it an upload is answered 503 with
    /// `Retry-After` before its body is read.
    pub max_concurrent_uploads: usize,
}

impl MediaSettings {
    /// The largest multipart body an upload may be: the file and its framing.
    pub fn upload_body_limit(&self) -> usize {
        self.max_upload_bytes + 64 * 1024
    }
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            storage_url: None,
            max_upload_bytes: 10 * 1024 * 1024,
            max_pixels: 24_000_000,
            webp_quality: 80.0,
            decode_memory_bytes: 256 * 1024 * 1024,
            max_concurrent_uploads: 4,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderSettings {
    /// An order not paid this many minutes after its stock was reserved is cancelled
    /// and its stock released.
    pub payment_timeout_mins: u64,
    /// How often unpaid orders are looked for.
    pub expiry_sweep_secs: u64,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            payment_timeout_mins: 30,
            expiry_sweep_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// Who takes new payments: `sandbox` (test cards, no money moves) or `midtrans`.
    pub provider: String,
    /// The key webhooks are signed with (HMAC-SHA256). Generated into
    /// `<data_dir>/keys` on first start of a single-process shop; required when
    /// distributed (`MERCATO_PAYMENTS__WEBHOOK_SECRET`).
    #[serde(skip_serializing)]
    pub webhook_secret: Option<SecretString>,
    /// How old a webhook's signed timestamp may be, either way, before it is refused as
    /// a replay.
    pub webhook_tolerance_secs: u64,
    /// Where the sandbox provider delivers its webhooks; unset = this process's own
    /// `/api/v1/payments/webhooks/sandbox`.
    pub sandbox_webhook_url: Option<String>,
    /// Midtrans' server key; Midtrans is offered only when it is set
    /// (`MERCATO_PAYMENTS__MIDTRANS_SERVER_KEY`). Its notifications go to
    /// `/api/v1/payments/webhooks/midtrans`.
    #[serde(skip_serializing)]
    pub midtrans_server_key: Option<SecretString>,
    /// Snap's base URL: the sandbox by default, `https://app.midtrans.com` in production.
    pub midtrans_snap_url: String,
    /// The Core API's base URL (refunds): `https://api.midtrans.com` in production.
    pub midtrans_api_url: String,
    /// How often, in milliseconds, a provider that failed is asked again to open a
    /// payment or send a refund. Nothing is given up: asking goes on until it answers.
    pub provider_retry_ms: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            provider: "sandbox".into(),
            webhook_secret: None,
            webhook_tolerance_secs: 300,
            sandbox_webhook_url: None,
            midtrans_server_key: None,
            midtrans_snap_url: "https://app.sandbox.midtrans.com".into(),
            midtrans_api_url: "https://api.sandbox.midtrans.com".into(),
            provider_retry_ms: 2000,
        }
    }
}

/// Where services that call another synchronously find it when it runs in another
/// process. Unset when the callee runs in the same process (it is then called directly).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceUrls {
    /// Base URL of the shipping service, for quotes at checkout:
    /// `MERCATO_SERVICES__SHIPPING_URL=http://shipping:8080`.
    pub shipping_url: Option<String>,
    /// Where the web pages call the API when they run without the services, through
    /// the entry point: `MERCATO_SERVICES__API_URL=http://nginx:8080`.
    pub api_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: String,
    /// `auto` (JSON unless stdout is a terminal), `json` or `pretty`.
    pub format: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info,sqlx=warn,sea_orm=warn".into(),
            format: "auto".into(),
        }
    }
}

impl Settings {
    /// Defaults, then the TOML file when given, then `MERCATO_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            fig = fig.merge(Toml::file_exact(path));
        }
        // MERCATO_CONFIG names the file itself (read by the command line), not a setting.
        fig.merge(Env::prefixed("MERCATO_").ignore(&["CONFIG"]).split("__"))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let bus = BusSettings {
            retry_base_ms: 100,
            retry_max_ms: 1000,
            ..Default::default()
        };
        assert_eq!(bus.backoff(1), Duration::from_millis(100));
        assert_eq!(bus.backoff(2), Duration::from_millis(200));
        assert_eq!(bus.backoff(4), Duration::from_millis(800));
        assert_eq!(bus.backoff(30), Duration::from_millis(1000));
    }

    #[test]
    fn sqlite_is_the_default_database_and_urls_name_the_service() {
        let db = DatabaseSettings::default();
        assert!(
            db.url_for(Path::new("/d"), "identity")
                .starts_with("sqlite:///d/identity.db")
        );
        let pg = DatabaseSettings {
            url: "postgres://h/m_{service}".into(),
            ..db
        };
        assert_eq!(
            pg.url_for(Path::new("/d"), "orders"),
            "postgres://h/m_orders"
        );
    }
}
