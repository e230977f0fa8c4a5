//! `mercato`: the one binary. Parses the command line and configuration, then hands
//! over to the composition in `lib.rs`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mercato::app::{self, AppOptions, ServiceName};
use platform::clock::SystemClock;
use platform::config::Settings;
use platform::service::Topology;

/// mimalloc rather than glibc's allocator: see `mercato::allocator`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mercato",
    version,
    about = "Mercato: an e-commerce platform of event-driven services"
)]
struct Cli {
    /// TOML configuration file; `MERCATO_*` environment variables override it.
    #[arg(long, global = true, env = "MERCATO_CONFIG")]
    config: Option<PathBuf>,
    /// Where the single-process topology keeps its data (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the shop. Without --services: every service in one process on embedded
    /// back-ends (SQLite files, an embedded event log, the dev mailbox).
    #[command(long_about = SERVE_HELP)]
    Serve {
        /// Address to listen on (overrides http.listen).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Run only these services (comma-separated), in the distributed topology;
        /// `web` is the storefront pages.
        #[arg(long, value_delimiter = ',')]
        services: Option<Vec<String>>,
    },
    /// Apply every service's database migrations (also done on start).
    Migrate {
        #[arg(long, value_delimiter = ',')]
        services: Option<Vec<ServiceName>>,
    },
    /// Fill the shop with demo data; running it again changes nothing.
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Staff administration from the shell.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Inspect the event bus.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Print which service answers each path (for the entry point's routing tables).
    Routes {
        /// `plain` for people, `json` for tools.
        #[arg(long, value_enum, default_value_t = RoutesFormat::Plain)]
        format: RoutesFormat,
    },
    /// Exit 0 when the server at --url answers ready; for container and Kubernetes probes.
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoutesFormat {
    Plain,
    Json,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff account; the first admin made this way cannot be disabled.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, inventory or finance.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// A category tree and 200 products with prices, sizes and stock.
    Demo,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// List events that consumers gave up on, newest first.
    DeadLetters {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

const SERVE_HELP: &str = "Run the shop.

Without --services every service runs in one process on embedded back-ends: a SQLite
file per service and an event log under the data directory, rate limits in memory,
and mail in the dev mailbox (GET /api/v1/dev/mailbox, for clients on this machine
only). The token signing key is generated into DATA_DIR/keys on first start. On an
address other machines can reach, set mail.smtp_url (or mail.dev_mailbox = true).

With --services (e.g. --services identity) only those services run, against the
database, bus and Redis named in the configuration: the distributed topology.

Settings (TOML keys; environment variables MERCATO_<KEY> with __ for nesting):
  data_dir                        ./data
  http.listen                     127.0.0.1:8080
  http.public_url                 http://localhost:8080 (links in mails)
  http.body_limit_bytes           65536
  http.request_timeout_secs       30
  http.trust_forwarded_for        false (true only behind nginx or another proxy that sets it)
  http.secure_cookies             true
  http.header_read_timeout_secs   10 (a connection must send its request head within this)
  http.max_header_bytes           32768 (larger request heads get 431)
  http.body_read_timeout_secs     10 (longest pause inside a request body, then 408)
  http.max_concurrent_requests    512 (then 503 with Retry-After)
  http.metrics_listen             unset = /metrics on the main listener, this machine only
  http.shutdown_delay_ms          0 (on SIGTERM, /readyz fails this long before the listener closes)
  http.shutdown_timeout_secs      30 (then requests and event batches in hand have this long)
  database.url                    empty = SQLite per service; e.g. postgres://u@h/mercato_{service}
  database.max_connections        10
  bus.kind                        embedded | nats
  bus.nats_url                    nats://127.0.0.1:4222
  bus.namespace                   mercato (prefix of NATS subjects and streams)
  bus.max_deliveries              8 (then the event is dead-lettered)
  bus.retry_base_ms               500 (first redelivery delay; doubles per attempt)
  bus.retry_max_ms                60000
  bus.relay_interval_ms           5000 (commits wake the relay; this is the fallback look)
  bus.relay_enabled               true
  redis_url                       unset = in-memory rate limits; e.g. redis://127.0.0.1:6379
  auth.issuer                     mercato
  auth.access_ttl_secs            900 (at most 900)
  auth.session_ttl_hours          12
  auth.remember_me_days           30
  auth.signing_key                Ed25519 PKCS#8 PEM; required for identity when distributed
  auth.jwks_url                   for services without identity
  auth.hash_concurrency           0 = one password hash per core at once (19 MiB each)
  auth.hash_queue                 32 hashes waiting; then 503 with Retry-After
  auth.staff_2fa                  optional | required (every staff member enrols TOTP at next sign-in)
  rate_limits.enabled             true (false turns every limit off, e.g. for load tests)
  rate_limits.login_per_client    { limit = 30, window_secs = 900 } sign-in attempts per address
  rate_limits.login_per_account_client { limit = 5, window_secs = 900 } per account and address
  rate_limits.login_per_account   { limit = 20, window_secs = 3600 } failures from anywhere; then
                                  unknown clients wait, doubling up to login_delay_max_secs
  rate_limits.login_delay_max_secs 300
  rate_limits.verify_per_client   { limit = 20, window_secs = 900 } wrong codes
  rate_limits.mail_per_client     { limit = 20, window_secs = 3600 } registrations, resends, resets
  rate_limits.mail_per_recipient  { limit = 5, window_secs = 3600 } mails a visitor makes one address get
  rate_limits.email_change_per_account { limit = 5, window_secs = 3600 }
  mail.from                       Mercato <no-reply@mercato.local>
  mail.smtp_url                   smtps://user:pass@host:465 or smtp://host:587?tls=required
  mail.dev_mailbox                unset = on in the single process without smtp_url on a
                                  loopback address; answers clients on this machine only
  mail.max_attempts               6
  media.storage_url               unset = <data_dir>/media; a directory or s3://bucket[/prefix] (AWS_* variables)
  media.max_upload_bytes          10485760
  media.max_pixels                24000000 (checked from the header, before decoding)
  media.webp_quality              80.0
  media.decode_memory_bytes       268435456 (images decoded at once share this memory)
  media.max_concurrent_uploads    4 (then 503 with Retry-After)
  services.shipping_url           unset = in-process; the shipping service's URL when it runs elsewhere
  services.api_url                the entry point, for web pages running without the services
  orders.payment_timeout_mins     30 (unpaid orders are then cancelled, stock released)
  orders.expiry_sweep_secs        30
  payments.provider               sandbox | midtrans (the result arrives by signed webhook)
  payments.webhook_secret         HMAC-SHA256 key; generated into DATA_DIR/keys, required when distributed
  payments.webhook_tolerance_secs 300 (older or future-dated webhooks are refused)
  payments.sandbox_webhook_url    unset = this process's /api/v1/payments/webhooks/sandbox
  payments.midtrans_server_key    unset = Midtrans not offered
  payments.midtrans_snap_url      https://app.sandbox.midtrans.com
  payments.midtrans_api_url       https://api.sandbox.midtrans.com
  payments.provider_retry_ms      2000 (a failed provider is asked again, without end)
  log.filter                      info,sqlx=warn,sea_orm=warn (RUST_LOG wins)
  log.format                      auto | json | pretty";

fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(cli.config.as_deref()).context("reading configuration")?;
    if let Some(dir) = &cli.data_dir {
        settings.data_dir = dir.clone();
    }
    Ok(settings)
}

#[tokio::main]
async fn main() -> ExitCode {
    mercato::allocator::install();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "mercato stopped");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Needs no configuration, and prints only the table (no log lines on stdout).
    if let Command::Routes { format } = cli.command {
        let table = mercato::routes::table().await?;
        match format {
            RoutesFormat::Plain => print!("{}", mercato::routes::plain(&table)),
            RoutesFormat::Json => println!("{}", serde_json::to_string_pretty(&table)?),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut settings = load_settings(&cli)?;
    platform::telemetry::init(&settings.log);
    match cli.command {
        Command::Serve { listen, services } => {
            if let Some(listen) = listen {
                settings.http.listen = listen;
            }
            let (topology, services, web) = match services {
                Some(list) => {
                    let web = list.iter().any(|s| s.trim() == "web");
                    let services = list
                        .iter()
                        .filter(|s| s.trim() != "web")
                        .map(|s| s.parse::<ServiceName>())
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    (Topology::Distributed, services, web)
                }
                None => (Topology::SingleProcess, ServiceName::ALL.to_vec(), true),
            };
            let app = app::build(AppOptions {
                settings,
                topology,
                services,
                web,
                clock: Arc::new(SystemClock),
            })
            .await?;
            tracing::info!(address = %app.local_addr(), "Mercato is listening on http://{}", app.local_addr());
            app.run(platform::http::shutdown_signal()).await?;
        }
        Command::Migrate { services } => {
            for service in services.unwrap_or_else(|| ServiceName::ALL.to_vec()) {
                app::connect_database(&settings, service).await?;
                println!("{}: migrations applied", service.as_str());
            }
        }
        Command::Seed {
            command: SeedCommand::Demo,
        } => {
            let db = app::connect_database(&settings, ServiceName::Catalog).await?;
            let report = catalog::seed::demo(&db, &SystemClock).await?;
            println!(
                "demo shop: {} categories and {} products created (existing ones kept)",
                report.categories_created, report.products_created
            );
            let products: Vec<_> = report
                .products
                .into_iter()
                .map(|p| media::seed::DemoProduct {
                    id: p.id,
                    name: p.name,
                    rgb: p.rgb,
                })
                .collect();
            const BANNER_COLOURS: [[u8; 3]; 3] = [[32, 90, 160], [200, 90, 40], [40, 130, 90]];
            let banners: Vec<_> = report
                .departments
                .into_iter()
                .zip(BANNER_COLOURS)
                .map(|((name, slug), rgb)| media::seed::DemoBanner {
                    title: format!("New in {name}"),
                    link: format!("/categories/{slug}"),
                    rgb,
                })
                .collect();
            let db = app::connect_database(&settings, ServiceName::Media).await?;
            let pictures =
                media::seed::demo(&settings, &db, &SystemClock, &products, &banners).await?;
            println!(
                "demo pictures: {} product images and {} banners created; the shop renders their WebP variants when it runs",
                pictures.images_created, pictures.banners_created
            );
            let db = app::connect_database(&settings, ServiceName::Shipping).await?;
            let shipping = shipping::seed::demo(&db, &SystemClock).await?;
            println!(
                "demo shipping: {} zones and {} rates created",
                shipping.zones_created, shipping.rates_created
            );
        }
        Command::Admin {
            command:
                AdminCommand::CreateStaff {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            anyhow::ensure!(
                password_stdin,
                "pass --password-stdin and write the password to standard input"
            );
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let db = app::connect_database(&settings, ServiceName::Identity).await?;
            let id = identity::bootstrap::create_staff(
                &db,
                &SystemClock,
                &email,
                &name,
                &role,
                &password,
            )
            .await?;
            println!("created staff member {id} ({email}, {role})");
        }
        Command::Events {
            command: EventsCommand::DeadLetters { limit },
        } => {
            let bus = app::connect_bus(&settings).await?;
            let letters = bus.dead_letters(limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for l in letters {
                println!(
                    "{}  {}  {}  event {}  after {} attempts: {}",
                    l.dead_at, l.consumer, l.event_type, l.event_id, l.attempts, l.last_error
                );
            }
        }
        // Answered before the settings were loaded.
        Command::Routes { .. } => {}
        Command::Healthcheck { url } => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?;
            return Ok(match client.get(&url).send().await {
                Ok(res) if res.status().is_success() => ExitCode::SUCCESS,
                Ok(res) => {
                    eprintln!("{url} answered {}", res.status());
                    ExitCode::FAILURE
                }
                Err(err) => {
                    eprintln!("{url} did not answer: {err}");
                    ExitCode::FAILURE
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
