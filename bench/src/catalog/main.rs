//! `mercato-bench`: how fast the catalog answers reads, as a fraction of what this
//! machine can answer at all.
//!
//! It starts a real Mercato in this process (every service, a fresh data directory,
//! SQLite by default or PostgreSQL with `--postgres`), loads it with `--products`
//! products through the staff API, waits for their events to be published, then drives
//! each scenario at `--connections` keep-alive connections for `--seconds`, after a
//! warm-up:
//!
//! 1. `GET /api/v1/products/{id}` for random loaded ids;
//! 2. `GET /api/v1/products?q=<word>&limit=20` for random words of the catalog;
//! 3. the storefront's home page, a search listing page and a product page (HTML, as a
//!    browser without a session gets them, uncompressed);
//! 4. the ceiling: a bare axum route answering the same product JSON, measured before
//!    the shop scenarios and again after them.
//!
//! It also reports what a product page weighs compressed: HTML, CSS and JavaScript.
//!
//! Absolute requests per second say more about the machine than about the code: the
//! load generator shares the cores with the server, and a laptop and a CI runner differ
//! several times over. So the shop's figures are reported as a fraction of the ceiling
//! measured in the same run, on the same machine, by the same client (the mean of its
//! two runs). This is a measurement, not a test: it asserts nothing.

mod ceiling;
mod pages;
mod seed;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bench::load::{self, Load, Outcome, Target};
use bench::shop::{Backend, Shop};
use clap::Parser;
use rand::Rng;
use serde_json::Value;

use crate::ceiling::Ceiling;

/// The allocator the shipped binary uses (`crates/mercato`), so that the shop running
/// here holds memory as it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mercato-bench",
    about = "Catalog reads under load, as a fraction of a bare axum ceiling measured in the same run"
)]
struct Cli {
    /// Products to load before measuring.
    #[arg(long, default_value_t = 10_000)]
    products: usize,
    /// Concurrent keep-alive connections, each sending requests back to back.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Unmeasured seconds before each scenario (connections open, caches fill).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// PostgreSQL server instead of SQLite, e.g. postgres://postgres@127.0.0.1:5432;
    /// the bench uses (and first drops) the databases `mbench_<service>` there.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// NATS JetStream instead of the embedded event log (with --postgres), e.g.
    /// nats://127.0.0.1:4222; streams are namespaced `mbench`.
    #[arg(long, value_name = "URL", requires = "postgres")]
    nats: Option<String>,
}

/// One measured scenario.
struct Row {
    name: &'static str,
    /// The bare axum route rather than the shop.
    is_ceiling: bool,
    outcome: Outcome,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mercato::allocator::install();
    let cli = Cli::parse();
    anyhow::ensure!(cli.products > 0, "--products must be at least 1");
    anyhow::ensure!(cli.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(cli.seconds > 0, "--seconds must be at least 1");
    let backend = Backend::from_flags(cli.postgres.clone(), cli.nats.clone());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "mercato-bench: {cores} cores; back-end: {}",
        backend.describe()
    );

    let shop = Shop::start(backend).await?;
    let loaded = seed::load(&shop, cli.products).await?;
    println!(
        "loaded {} products in {:.1} s ({:.0} products/s, {} loaders)",
        loaded.product_ids.len(),
        loaded.took.as_secs_f64(),
        loaded.product_ids.len() as f64 / loaded.took.as_secs_f64(),
        seed::LOADERS,
    );
    let settled = shop.settle(Duration::from_secs(300)).await?;
    println!(
        "events of the loading published and handled {:.1} s after it",
        settled.as_secs_f64()
    );
    let (min, median, max) = loaded.matches;
    println!(
        "search words: {}; products containing one: min {min}, median {median}, max {max} (prefix matching finds a few more)",
        loaded.words.len()
    );

    let sample = sample_product(&shop, &loaded).await?;
    let ceiling = Ceiling::start(sample.clone()).await?;
    let load = Load {
        connections: cli.connections,
        warmup: Duration::from_secs(cli.warmup),
        duration: Duration::from_secs(cli.seconds),
    };
    println!(
        "{} connections, {} s warm-up, {} s measured per scenario; answer body {} bytes (both)",
        load.connections,
        cli.warmup,
        cli.seconds,
        serde_json::to_vec(&sample).map_or(0, |b| b.len()),
    );

    let ids = Arc::new(loaded.product_ids);
    let words = Arc::new(loaded.words);
    let ceiling_target: Target = {
        let url = format!("{}{}", ceiling.base_url, ceiling::PATH);
        Arc::new(move |_| url.clone())
    };
    // The ceiling runs first and last: on a shared machine its figure drifts, and the
    // difference between the two says how far the fractions can be trusted.
    let mut scenarios: Vec<(&'static str, bool, Target)> = vec![
        ("ceiling, before", true, ceiling_target.clone()),
        ("product by id", false, {
            let base = shop.base_url.clone();
            Arc::new(move |rng| {
                let id = ids[rng.gen_range(0..ids.len())];
                format!("{base}/api/v1/products/{id}")
            })
        }),
        ("search listing", false, {
            let base = shop.base_url.clone();
            let words = words.clone();
            Arc::new(move |rng| {
                let word = &words[rng.gen_range(0..words.len())];
                format!("{base}/api/v1/products?q={word}&limit=20")
            })
        }),
    ];
    for (name, target) in pages::targets(&shop.base_url, cli.products, words) {
        scenarios.push((name, false, target));
    }
    scenarios.push(("ceiling, after", true, ceiling_target));
    let mut rows = Vec::with_capacity(scenarios.len());
    for (name, is_ceiling, target) in scenarios {
        eprintln!("measuring {name}…");
        let outcome = load::run(target, load).await?;
        rows.push(Row {
            name,
            is_ceiling,
            outcome,
        });
    }
    // Measured after the load, so a failure here costs no scenario its figures.
    let weight = pages::product_page_weight(&shop.base_url).await;
    ceiling.stop();
    shop.stop().await?;

    println!();
    report(&rows);
    match weight {
        Ok(w) => println!(
            "product page over the wire: HTML {:.1} KB + CSS {:.1} KB + JS {:.1} KB = {:.1} KB compressed (images aside)",
            kb(w.html),
            kb(w.css),
            kb(w.js),
            kb(w.total()),
        ),
        Err(e) => eprintln!("the product page's weight could not be measured: {e:#}"),
    }
    Ok(())
}

/// A loaded product as an anonymous shopper gets it: the ceiling answers the same JSON.
async fn sample_product(shop: &Shop, loaded: &seed::Loaded) -> anyhow::Result<Value> {
    let id = loaded
        .product_ids
        .first()
        .context("no product was loaded")?;
    let url = format!("{}/api/v1/products/{id}", shop.base_url);
    let res = reqwest::get(&url)
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = res.status();
    anyhow::ensure!(status.is_success(), "GET {url} answered {status}");
    res.json().await.context("reading a product")
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

fn ms(d: Duration) -> String {
    format!("{:>7.2} ms", d.as_secs_f64() * 1000.0)
}

/// The table, each shop scenario as a fraction of the mean ceiling, then the ceiling.
fn report(rows: &[Row]) {
    let ceilings: Vec<f64> = rows
        .iter()
        .filter(|r| r.is_ceiling)
        .map(|r| r.outcome.per_second)
        .collect();
    let ceiling = ceilings.iter().sum::<f64>() / ceilings.len().max(1) as f64;
    for row in rows {
        let o = &row.outcome;
        let mut line = format!(
            "{:<16} {:>8.0} req/s  p50 {}  p99 {}  errors {} of {}",
            row.name,
            o.per_second,
            ms(o.p50),
            ms(o.p99),
            o.errors,
            o.ok + o.errors,
        );
        if !row.is_ceiling && ceiling > 0.0 {
            let fraction = o.per_second / ceiling;
            line.push_str(&format!(
                "  = {fraction:.3} of ceiling ({:.1}%)",
                fraction * 100.0
            ));
        }
        println!("{line}");
    }
    let (low, high) = ceilings
        .iter()
        .fold((f64::MAX, 0.0_f64), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    if ceiling > 0.0 {
        println!(
            "ceiling: mean {ceiling:.0} req/s; its two runs differ by {:.0}%",
            (high - low) / ceiling * 100.0
        );
    }
}
