//! The ceiling: PostgreSQL doing the writes a checkout cannot do without, and nothing
//! else, driven by `pgbench` at the same concurrency as the shop scenario. One
//! transaction reserves the stock with the same conditional `UPDATE` catalog runs and
//! inserts the order and its line in the shape orders stores them; no HTTP, no JSON, no
//! events, no second database. Whatever the shop does per checkout beyond that (the
//! timeline, the idempotency key, outbox and inbox rows, the payment, the webhook, the
//! pay half) is what the ratio to this ceiling prices.
//!
//! It runs in a scratch database, [`DATABASE`], on the given server, created empty and
//! dropped afterwards, with the shop's column types (UUID keys, big integers, JSON
//! address) so rows and index entries are the same size. Products have stock that
//! cannot run out, so every update succeeds, as every reservation does in the scenario.
//! Statements are prepared (`-M prepared`), as the shop's database driver prepares and
//! caches its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use bench::load::percentile;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use tokio::process::Command;

/// The scratch database; the `mbench_` prefix is the shop bench's, so one clean-up
/// policy covers both.
pub const DATABASE: &str = "mbench_ceiling";

const SCHEMA: &str = r#"
CREATE TABLE products (
    id UUID PRIMARY KEY, slug VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL,
    description TEXT NOT NULL, price BIGINT NOT NULL, currency VARCHAR NOT NULL,
    weight_grams BIGINT NOT NULL, active BOOLEAN NOT NULL, on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL, stock_version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, version BIGINT NOT NULL
);
CREATE INDEX products_price ON products (price, id);
CREATE TABLE orders (
    id UUID PRIMARY KEY, customer_id UUID NOT NULL, status VARCHAR NOT NULL,
    currency VARCHAR NOT NULL, subtotal BIGINT NOT NULL, shipping BIGINT NOT NULL,
    total BIGINT NOT NULL, shipping_service VARCHAR NOT NULL,
    shipping_carrier VARCHAR NOT NULL, shipping_address JSON NOT NULL,
    tracking_number VARCHAR, placed_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, version BIGINT NOT NULL
);
CREATE INDEX orders_customer_placed ON orders (customer_id, placed_at);
CREATE TABLE order_lines (
    order_id UUID NOT NULL, product_id UUID NOT NULL, name VARCHAR NOT NULL,
    unit_price BIGINT NOT NULL, quantity BIGINT NOT NULL, weight_grams BIGINT NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
"#;

/// The transaction; `{products}` and `{customers}` are filled in. Ids are UUIDs made
/// from the drawn numbers (pgbench only draws integers). No `:name` may appear inside
/// the JSON literal: pgbench would take it for a variable.
const SCRIPT: &str = r#"\set product random(1, {products})
\set quantity random(1, 2)
\set customer random(1, {customers})
BEGIN;
UPDATE products SET reserved = reserved + :quantity, stock_version = stock_version + 1, updated_at = now() WHERE id = md5('product ' || :product)::uuid AND active AND on_hand - reserved >= :quantity;
INSERT INTO orders (id, customer_id, status, currency, subtotal, shipping, total, shipping_service, shipping_carrier, shipping_address, tracking_number, placed_at, updated_at, version) VALUES (gen_random_uuid(), md5('customer ' || :customer)::uuid, 'pending', 'USD', 1999 * :quantity, 500, 1999 * :quantity + 500, 'standard', 'Mercato Post', '{"label": "Home", "recipient_name": "Bench Customer", "phone": "+62 812-3456-7890", "line1": "Jl. Sudirman 1", "city": "Jakarta", "postal_code": "10220", "country": "ID"}', NULL, now(), now(), 1) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, weight_grams) VALUES (:order_id, md5('product ' || :product)::uuid, 'Bench mug', 1999, :quantity, 300);
END;
"#;

/// What one pgbench run measured.
#[derive(Clone, Debug)]
pub struct Run {
    pub tps: f64,
    /// pgbench's own average.
    pub average: Duration,
    /// From its per-transaction log.
    pub p50: Duration,
    pub p99: Duration,
    pub transactions: u64,
    pub failed: u64,
}

/// A scratch database ready for pgbench.
pub struct Ceiling {
    pgbench: PathBuf,
    /// The server's URL, without a database.
    server: String,
    /// The script lives here.
    dir: TempDir,
}

/// pgbench's version line; a clear error when it is not installed.
pub async fn version(pgbench: &Path) -> anyhow::Result<String> {
    match Command::new(pgbench).arg("--version").output().await {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Ok(out) => bail!(
            "`{} --version` failed: {}",
            pgbench.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "pgbench not found (looked for `{}`): the ceiling is measured with it; install \
             PostgreSQL's client programs (Debian: apt install postgresql-client) or pass \
             --pgbench PATH",
            pgbench.display()
        ),
        Err(e) => Err(e).with_context(|| format!("running {}", pgbench.display())),
    }
}

impl Ceiling {
    /// Creates [`DATABASE`] on `server` (dropping what an earlier run left) with
    /// `products` products and a script drawing from them and `customers` customers.
    pub async fn create(
        pgbench: &Path,
        server: &str,
        products: usize,
        customers: usize,
    ) -> anyhow::Result<Self> {
        let server = server.trim_end_matches('/').to_owned();
        drop_database(&server).await?;
        let admin = connect(&format!("{server}/postgres")).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{DATABASE}\""))
            .await
            .context("creating the ceiling database")?;
        admin.close().await.ok();
        let db = connect(&format!("{server}/{DATABASE}")).await?;
        db.execute_unprepared(SCHEMA)
            .await
            .context("creating the ceiling tables")?;
        db.execute_unprepared(&format!(
            "INSERT INTO products SELECT md5('product ' || g)::uuid, 'bench-mug-' || g, \
             'Bench mug ' || g, 'A mug for the checkout benchmark.', 1999, 'USD', 300, true, \
             1000000000000000, 0, 0, now(), 1 FROM generate_series(1, {products}) g"
        ))
        .await
        .context("adding the ceiling's products")?;
        db.close().await.ok();

        let dir = tempfile::tempdir().context("creating a directory for the pgbench script")?;
        let script = SCRIPT
            .replace("{products}", &products.to_string())
            .replace("{customers}", &customers.to_string());
        std::fs::write(dir.path().join("checkout.sql"), script)
            .context("writing the pgbench script")?;
        Ok(Self {
            pgbench: pgbench.to_path_buf(),
            server,
            dir,
        })
    }

    /// Runs the script on `clients` connections for `seconds`.
    pub async fn run(&self, clients: usize, seconds: u64) -> anyhow::Result<Run> {
        let logs = tempfile::tempdir().context("creating a directory for pgbench's log")?;
        let out = Command::new(&self.pgbench)
            .args(["-n", "-M", "prepared"])
            .args(["-c", &clients.to_string()])
            // -j cannot exceed -c.
            .args(["-j", &clients.min(2).to_string()])
            .args(["-T", &seconds.to_string()])
            .arg("-f")
            .arg(self.dir.path().join("checkout.sql"))
            // A line per transaction with its latency: the percentiles come from these.
            .arg("-l")
            .arg("--log-prefix")
            .arg(logs.path().join("tx"))
            .arg(format!("{}/{DATABASE}", self.server))
            .output()
            .await
            .with_context(|| format!("running {}", self.pgbench.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "pgbench failed ({}): {}\n{}",
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let mut latencies = transaction_latencies(logs.path())?;
        latencies.sort_unstable();
        let number = |prefix: &str| {
            summary_value(&stdout, prefix)
                .with_context(|| format!("no `{prefix}` in pgbench's output:\n{stdout}"))
        };
        let processed = number("number of transactions actually processed: ")?;
        Ok(Run {
            tps: number("tps = ")?.parse().context("reading tps")?,
            average: Duration::from_secs_f64(
                number("latency average = ")?
                    .parse::<f64>()
                    .context("reading the average latency")?
                    / 1000.0,
            ),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            // "N" after -T; "N/M" after -t.
            transactions: processed
                .split('/')
                .next()
                .unwrap_or_default()
                .parse()
                .context("reading the transaction count")?,
            // Only PostgreSQL 15 and later report it.
            failed: summary_value(&stdout, "number of failed transactions: ")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        })
    }

    /// Drops the scratch database.
    pub async fn remove(self) -> anyhow::Result<()> {
        drop_database(&self.server).await
    }
}

async fn connect(url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    Database::connect(url)
        .await
        .with_context(|| format!("connecting to {}", platform::db::redact(url)))
}

async fn drop_database(server: &str) -> anyhow::Result<()> {
    let admin = connect(&format!("{server}/postgres")).await?;
    admin
        .execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"{DATABASE}\" WITH (FORCE)"
        ))
        .await
        .context("dropping the ceiling database")?;
    admin.close().await.ok();
    Ok(())
}

/// The first word after `prefix` on the summary line that starts with it.
fn summary_value<'a>(stdout: &'a str, prefix: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
}

/// Every logged transaction's latency in µs. pgbench writes one file per thread
/// (`tx.<pid>`, `tx.<pid>.1`, …); a line is `client transaction latency_us script
/// epoch_s epoch_us`, and failed or skipped transactions have a word instead of a
/// latency, so only numbers are kept.
fn transaction_latencies(dir: &Path) -> anyhow::Result<Vec<u32>> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir).context("listing pgbench's log files")? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        latencies.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u32>().ok()),
        );
    }
    Ok(latencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_read_from_pgbench_15_output() {
        let out = "number of transactions actually processed: 10/10\n\
                   number of failed transactions: 0 (0.000%)\n\
                   latency average = 5.277 ms\n\
                   initial connection time = 23.283 ms\n\
                   tps = 378.974495 (without initial connection time)\n";
        assert_eq!(summary_value(out, "tps = "), Some("378.974495"));
        assert_eq!(summary_value(out, "latency average = "), Some("5.277"));
        assert_eq!(
            summary_value(out, "number of transactions actually processed: "),
            Some("10/10")
        );
        assert_eq!(summary_value(out, "nothing = "), None);
    }
}
