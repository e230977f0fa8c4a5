//! Building a running process from settings: back-ends, services, routes and the HTTP
//! kernel around them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use platform::auth::{SigningKey, TokenVerifier};
use platform::cache::{Cache, CacheStore, MemoryCache, RedisCache};
use platform::clock::{Clock, SystemClock};
use platform::config::{BusKind, Settings};
use platform::events::SharedBus;
use platform::events::embedded::EmbeddedBus;
use platform::events::jetstream::JetStreamBus;
use platform::events::outbox::Relay;
use platform::http::{ConnectionLimits, KernelOptions, Probe, Readiness, Server};
use platform::ratelimit::{RateLimiter, RedisStore};
use platform::service::{ServiceContext, ServiceParts, Topology};
use platform::tasks::Tasks;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;

/// How long a cached public answer may be served. Writers invalidate what they change;
/// this bounds staleness when an invalidation is lost.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// The services this binary can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceName {
    Identity,
    Notifications,
    Catalog,
    Media,
    Shipping,
    Payments,
    Orders,
}

impl ServiceName {
    pub const ALL: [ServiceName; 7] = [
        ServiceName::Identity,
        ServiceName::Notifications,
        ServiceName::Catalog,
        ServiceName::Media,
        ServiceName::Shipping,
        ServiceName::Payments,
        ServiceName::Orders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => identity::NAME,
            Self::Notifications => notifications::NAME,
            Self::Catalog => catalog::NAME,
            Self::Media => media::NAME,
            Self::Shipping => shipping::NAME,
            Self::Payments => payments::NAME,
            Self::Orders => orders::NAME,
        }
    }
}

impl FromStr for ServiceName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s.trim())
            .with_context(|| {
                format!("unknown service {s:?}; known: identity, notifications, catalog, media, shipping, payments, orders")
            })
    }
}

/// Everything that decides what a process runs.
pub struct AppOptions {
    pub settings: Settings,
    pub topology: Topology,
    pub services: Vec<ServiceName>,
    /// Serve the storefront pages too.
    pub web: bool,
    pub clock: Arc<dyn Clock>,
}

impl AppOptions {
    /// Every service, one process, the given settings.
    pub fn single_process(settings: Settings) -> Self {
        Self {
            settings,
            topology: Topology::SingleProcess,
            services: ServiceName::ALL.to_vec(),
            web: true,
            clock: Arc::new(SystemClock),
        }
    }
}

/// One path of the API and the service whose handlers answer it, as registered by the
/// handlers themselves (`#[utoipa::path]`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Route {
    /// As the OpenAPI document writes it: `/api/v1/products/{id}`.
    pub path: String,
    pub methods: Vec<&'static str>,
    pub service: &'static str,
}

impl Route {
    fn all_of(service: ServiceName, openapi: &utoipa::openapi::OpenApi) -> Vec<Self> {
        openapi
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, has)| has.then_some(m))
                .collect();
                Self {
                    path: path.clone(),
                    methods,
                    service: service.as_str(),
                }
            })
            .collect()
    }
}

/// A process ready to serve: bound, migrated, background tasks running.
pub struct App {
    server: Server,
    router: axum::Router,
    limits: ConnectionLimits,
    /// `/metrics` on its own listener, when `http.metrics_listen` asks for one.
    metrics: Option<Server>,
    tasks: Tasks,
    /// Failing `/readyz` before the listener closes, then the bound on what follows.
    shutdown_delay: Duration,
    shutdown_timeout: Duration,
    pub bus: SharedBus,
    pub databases: Vec<(ServiceName, DatabaseConnection)>,
    /// The API paths this process's services answer.
    pub routes: Vec<Route>,
}

impl App {
    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` resolves, then shuts down in order: `/readyz` fails for
    /// `http.shutdown_delay_ms`; the listener closes and long waits answer; requests in
    /// flight finish, then consumers and relays finish what they hold, all within
    /// `http.shutdown_timeout_secs`; the rest is aborted.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let tasks = self.tasks.clone();
        let deadline = Arc::new(std::sync::OnceLock::new());
        let stop = {
            let (tasks, deadline) = (tasks.clone(), deadline.clone());
            let (delay, timeout) = (self.shutdown_delay, self.shutdown_timeout);
            async move {
                shutdown.await;
                tracing::info!(?delay, ?timeout, "shutting down: no longer ready");
                tasks.drain();
                tokio::time::sleep(delay).await;
                tasks.stop();
                *deadline.get_or_init(|| tokio::time::Instant::now() + timeout)
            }
        };
        if let Some(metrics) = self.metrics {
            let limits = self.limits;
            tasks.spawn("metrics-listener", async move {
                metrics
                    .serve(
                        platform::http::metrics_router(),
                        limits,
                        std::future::pending::<tokio::time::Instant>(),
                    )
                    .await
            });
        }
        let result = self.server.serve(self.router, self.limits, stop).await;
        let left = deadline.get().map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
        });
        tasks.finish(left).await;
        tracing::info!("shut down");
        result
    }

    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }
}

/// A service's part of the API document, without running it. Notifications has none:
/// its one endpoint, the dev mailbox, is a development aid documented by the process
/// that serves it.
fn document_of(service: ServiceName, settings: &Settings) -> Option<utoipa::openapi::OpenApi> {
    Some(match service {
        ServiceName::Identity => identity::openapi(),
        ServiceName::Catalog => catalog::openapi(),
        ServiceName::Media => media::openapi(settings),
        ServiceName::Shipping => shipping::openapi(),
        ServiceName::Payments => payments::openapi(),
        ServiceName::Orders => orders::openapi(),
        ServiceName::Notifications => return None,
    })
}

/// Opens the bus the settings name.
pub async fn connect_bus(settings: &Settings) -> anyhow::Result<SharedBus> {
    Ok(match settings.bus.kind {
        BusKind::Embedded => {
            let url = format!(
                "sqlite://{}?mode=rwc",
                settings.data_dir.join("events.db").display()
            );
            EmbeddedBus::open(&url, settings.bus.clone()).await?
        }
        BusKind::Nats => Arc::new(JetStreamBus::connect(settings.bus.clone()).await?),
    })
}

/// Opens (and migrates) one service's database.
pub async fn connect_database(
    settings: &Settings,
    service: ServiceName,
) -> anyhow::Result<DatabaseConnection> {
    let url = settings
        .database
        .url_for(&settings.data_dir, service.as_str());
    let max = settings.database.max_connections;
    match service {
        ServiceName::Identity => platform::db::connect::<identity::Migrator>(&url, max).await,
        ServiceName::Notifications => {
            platform::db::connect::<notifications::Migrator>(&url, max).await
        }
        ServiceName::Catalog => platform::db::connect::<catalog::Migrator>(&url, max).await,
        ServiceName::Media => platform::db::connect::<media::Migrator>(&url, max).await,
        ServiceName::Shipping => platform::db::connect::<shipping::Migrator>(&url, max).await,
        ServiceName::Payments => platform::db::connect::<payments::Migrator>(&url, max).await,
        ServiceName::Orders => platform::db::connect::<orders::Migrator>(&url, max).await,
    }
}

/// The key that signs access tokens: from configuration, or generated into the data
/// directory on first start of a single-process shop.
pub fn signing_key(settings: &Settings, topology: Topology) -> anyhow::Result<SigningKey> {
    if let Some(pem) = &settings.auth.signing_key {
        return SigningKey::from_pem(pem.expose_secret()).context("reading auth.signing_key");
    }
    match topology {
        Topology::SingleProcess => SigningKey::load_or_generate(
            &settings.data_dir.join("keys").join("token-signing-key.pem"),
        ),
        Topology::Distributed => bail!(
            "the identity service needs auth.signing_key (MERCATO_AUTH__SIGNING_KEY, an Ed25519 PKCS#8 PEM) in the distributed topology"
        ),
    }
}

/// A URL this process can reach itself at: the bound address, with a wildcard host
/// replaced by loopback.
fn self_url(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// The key payment webhooks are signed with: from configuration, or generated into the
/// data directory on first start of a single-process shop.
pub fn webhook_secret(settings: &Settings, topology: Topology) -> anyhow::Result<SecretString> {
    if let Some(secret) = &settings.payments.webhook_secret {
        return Ok(secret.clone());
    }
    match topology {
        Topology::SingleProcess => platform::crypto::load_or_generate_secret(
            &settings
                .data_dir
                .join("keys")
                .join("payments-webhook-secret"),
        ),
        Topology::Distributed => bail!(
            "the payments service needs payments.webhook_secret (MERCATO_PAYMENTS__WEBHOOK_SECRET) in the distributed topology"
        ),
    }
}

/// Shipping quotes for orders: shipping's own function when it runs in this process,
/// its HTTP endpoint otherwise.
async fn shipping_client(
    settings: &Settings,
    services: &[ServiceName],
    databases: &[(ServiceName, DatabaseConnection)],
) -> anyhow::Result<Arc<dyn orders::shipping_client::ShippingQuotes>> {
    if services.contains(&ServiceName::Shipping) {
        let db = match databases.iter().find(|(n, _)| *n == ServiceName::Shipping) {
            Some((_, db)) => db.clone(),
            None => connect_database(settings, ServiceName::Shipping).await?,
        };
        return Ok(Arc::new(InProcessShipping { db }));
    }
    match &settings.services.shipping_url {
        Some(url) => Ok(Arc::new(orders::shipping_client::HttpShipping::new(url)?)),
        None => bail!(
            "orders without shipping in the same process needs services.shipping_url (MERCATO_SERVICES__SHIPPING_URL)"
        ),
    }
}

/// Shipping quotes asked of the shipping service's code directly (single process).
struct InProcessShipping {
    db: DatabaseConnection,
}

#[async_trait::async_trait]
impl orders::shipping_client::ShippingQuotes for InProcessShipping {
    async fn quote(
        &self,
        req: &contracts::shipping::QuoteRequest,
    ) -> Result<contracts::shipping::Quote, orders::shipping_client::QuoteFailure> {
        use orders::shipping_client::QuoteFailure;
        shipping::quote::quote(&self.db, req)
            .await
            .map_err(|e| match e {
                shipping::quote::QuoteError::UnknownProducts(at) => {
                    QuoteFailure::UnknownProducts(at)
                }
                shipping::quote::QuoteError::Db(e) => QuoteFailure::Unavailable(e.to_string()),
            })
    }
}

pub async fn build(opts: AppOptions) -> anyhow::Result<App> {
    let settings = Arc::new(opts.settings);
    if opts.topology == Topology::Distributed
        && settings.bus.kind == BusKind::Embedded
        && opts.services.len() < ServiceName::ALL.len()
    {
        bail!(
            "the embedded event bus only connects services in one process; set bus.kind = \"nats\" (MERCATO_BUS__KIND=nats)"
        );
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;

    let tasks = Tasks::new();
    let bus = connect_bus(&settings).await?;
    let mut readiness = Readiness::default();
    readiness.follow(&tasks);
    {
        let bus = bus.clone();
        // Reported, not required: requests write their events to the outboxes, which
        // wait for the bus to come back.
        readiness.add(Probe::informational("bus", move || {
            let bus = bus.clone();
            async move { bus.ping().await }
        }));
    }
    let cache_store: Arc<dyn CacheStore> = match &settings.redis_url {
        Some(url) => Arc::new(RedisCache::connect(url).await?),
        None => Arc::new(MemoryCache::new(50_000, CACHE_TTL)),
    };
    let cache = Cache::new(
        cache_store,
        format!("{}:cache", settings.bus.namespace),
        CACHE_TTL,
    );
    let limiter = match &settings.redis_url {
        Some(url) => {
            let store = Arc::new(RedisStore::connect(url, &settings.bus.namespace).await?);
            let probe_store = store.clone();
            readiness.add(Probe::new("redis", move || {
                let s = probe_store.clone();
                async move { s.ping().await }
            }));
            RateLimiter::new(store, settings.rate_limits.enabled)
        }
        None => RateLimiter::in_memory(settings.rate_limits.enabled),
    };

    let key = if opts.services.contains(&ServiceName::Identity) {
        Some(Arc::new(signing_key(&settings, opts.topology)?))
    } else {
        None
    };
    let verifier = match (&key, &settings.auth.jwks_url) {
        (Some(key), _) => TokenVerifier::from_jwks(settings.auth.issuer.clone(), &key.jwks()),
        (None, Some(url)) => TokenVerifier::remote(settings.auth.issuer.clone(), url.clone()),
        (None, None) => bail!(
            "services without identity need auth.jwks_url (MERCATO_AUTH__JWKS_URL) to verify tokens"
        ),
    };

    // Bound before the services start, so they know where this process listens (the
    // sandbox payment provider calls back here); requests wait until it serves.
    let server = Server::bind(settings.http.listen).await?;
    let self_url = self_url(server.local_addr());
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi());
    let mut databases = Vec::new();
    let mut routes = Vec::new();
    for service in &opts.services {
        let db = connect_database(&settings, *service).await?;
        databases.push((*service, db.clone()));
        let ctx = ServiceContext {
            name: service.as_str(),
            settings: settings.clone(),
            topology: opts.topology,
            relay: Relay::new(
                db.clone(),
                bus.clone(),
                Duration::from_millis(settings.bus.relay_interval_ms),
            ),
            db,
            bus: bus.clone(),
            clock: opts.clock.clone(),
            limiter: limiter.clone(),
            cache: cache.scoped(service.as_str()),
            verifier: verifier.clone(),
            tasks: tasks.clone(),
        };
        let parts: ServiceParts = match service {
            ServiceName::Identity => {
                identity::start(ctx, key.clone().context("identity without a key")?).await?
            }
            ServiceName::Notifications => notifications::start(ctx).await?,
            ServiceName::Catalog => catalog::start(ctx).await?,
            ServiceName::Media => media::start(ctx).await?,
            ServiceName::Shipping => shipping::start(ctx).await?,
            ServiceName::Payments => {
                let secret = webhook_secret(&settings, opts.topology)?;
                payments::start(ctx, secret, &self_url).await?
            }
            ServiceName::Orders => {
                let shipping = shipping_client(&settings, &opts.services, &databases).await?;
                orders::start(ctx, shipping).await?
            }
        };
        routes.extend(Route::all_of(*service, parts.router.get_openapi()));
        api = api.merge(parts.router);
        for probe in parts.probes {
            readiness.add(probe);
        }
        tracing::info!(service = service.as_str(), "service started");
    }
    let (router, mut openapi) = api.split_for_parts();
    // Every process serves the whole document, whichever services it runs, so the entry
    // point can send /api/v1/openapi.json and /docs to any of them.
    for other in ServiceName::ALL
        .iter()
        .filter(|s| !opts.services.contains(s))
    {
        if let Some(part) = document_of(*other, &settings) {
            openapi.merge(part);
        }
    }
    let router = if opts.web {
        let client = if opts.services.len() == ServiceName::ALL.len() {
            web::Api::in_process(router.clone())
        } else {
            let url = settings.services.api_url.as_deref().context(
                "the web pages without every service in this process need services.api_url (MERCATO_SERVICES__API_URL), the entry point's URL",
            )?;
            web::Api::http(url)?
        };
        router.merge(web::router(web::WebState::new(client, &settings)))
    } else {
        router
    };
    let router = platform::http::kernel(
        router,
        openapi,
        readiness,
        &settings.http,
        KernelOptions {
            upload_limit_bytes: settings.media.upload_body_limit(),
            not_found_page: opts
                .web
                .then_some(web::not_found_page as fn() -> axum::response::Response),
        },
    );
    let metrics = match settings.http.metrics_listen {
        Some(addr) => Some(Server::bind(addr).await?),
        None => None,
    };
    Ok(App {
        server,
        router,
        limits: ConnectionLimits::from(&settings.http),
        metrics,
        tasks,
        shutdown_delay: Duration::from_millis(settings.http.shutdown_delay_ms),
        shutdown_timeout: Duration::from_secs(settings.http.shutdown_timeout_secs),
        bus,
        databases,
        routes,
    })
}
