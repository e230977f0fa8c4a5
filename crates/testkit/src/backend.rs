//! Which back-ends a test can use, and the settings that select them.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

use platform::config::{BusKind, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files, the embedded event log, in-memory rate limits.
    Embedded,
    /// PostgreSQL, NATS JetStream and Redis.
    Distributed,
}

pub(crate) fn postgres_url() -> String {
    std::env::var("TESTKIT_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub(crate) fn nats_url() -> String {
    std::env::var("TESTKIT_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

pub(crate) fn redis_url() -> String {
    std::env::var("TESTKIT_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn reachable(url: &str) -> bool {
    let host_port = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let host_port = host_port.split(['/', '?']).next().unwrap_or_default();
    let addrs: Vec<SocketAddr> = host_port
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).is_ok())
}

/// Whether the distributed half of the suites should run. `TESTKIT_BACKENDS=embedded`
/// turns it off on purpose; otherwise it runs when PostgreSQL, NATS and Redis answer. In
/// CI an unreachable service is a failure, never a silent skip.
pub fn distributed_backends_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var("TESTKIT_BACKENDS").is_ok_and(|v| v.trim() == "embedded") {
            eprintln!("TESTKIT_BACKENDS=embedded: skipping the PostgreSQL + NATS + Redis half of the suites");
            return false;
        }
        let missing: Vec<String> = [("PostgreSQL", postgres_url()), ("NATS", nats_url()), ("Redis", redis_url())]
            .into_iter()
            .filter(|(_, url)| !reachable(url))
            .map(|(name, url)| format!("{name} at {url}"))
            .collect();
        if missing.is_empty() {
            return true;
        }
        let list = missing.join(", ");
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI=true and the distributed back-ends are unreachable: {list}. Start them (see .ci/run); CI never skips them.");
        }
        eprintln!("SKIPPED distributed back-end tests: {list} not reachable (set CI=true to make this an error)");
        false
    })
}

/// Settings for one fresh app on `backend`; `tag` keeps its databases and subjects apart
/// from every other test's.
pub(crate) fn settings(backend: Backend, data_dir: &std::path::Path, tag: &str) -> Settings {
    let mut s = Settings {
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    };
    s.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    s.http.public_url = "http://shop.test".into();
    s.bus.retry_base_ms = 50;
    // Quick retries, but enough of them that a moment of database contention on a
    // loaded machine does not dead-letter a saga step.
    s.bus.retry_max_ms = 1000;
    s.bus.max_deliveries = 8;
    s.bus.relay_interval_ms = 200;
    s.log.filter = "warn".into();
    s.payments.webhook_secret = Some(format!("whsec-test-{tag}").into());
    s.payments.provider_retry_ms = 200;
    // Suites register dozens of customers at once to race them; the hashing bound is
    // tested on its own (the mercato crate's floods), so here every hash waits its turn.
    s.auth.hash_queue = 4096;
    if backend == Backend::Distributed {
        s.database.url = format!("{}/mtest_{tag}_{{service}}", postgres_url());
        s.database.max_connections = 5;
        s.bus.kind = BusKind::Nats;
        s.bus.nats_url = nats_url();
        s.bus.namespace = format!("mtest{tag}");
        s.redis_url = Some(redis_url());
    }
    s
}
