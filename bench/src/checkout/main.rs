//! `mercato-bench-checkout`: how many purchases per second the shop completes, as a
//! fraction of how many times per second PostgreSQL can do a purchase's essential
//! writes on the same machine.
//!
//! It measures the ceiling first (pgbench: the stock reservation's conditional update
//! and the order and line inserts, in one transaction; see [`pgbench`]), then starts a
//! real Mercato in this process, prepares customers, shipping and products through the
//! public API, and runs `--concurrency` shoppers for `--seconds` after a warm-up, each
//! looping add to cart → checkout → pay → paid ([`scenario`]). It stops the shop and
//! measures the ceiling again, and reports checkouts per second, p50 and p99, and the
//! ratio of checkouts per second to the mean of the two ceiling runs.
//!
//! The ceiling runs while the shop is not: the shop's pools (up to ten connections per
//! service) plus pgbench's clients would otherwise crowd PostgreSQL's default
//! `max_connections` of 100, and nothing of the shop's competes with the ceiling for
//! the cores. The shop needs `--postgres` to run on PostgreSQL; without it, it runs on
//! SQLite, and the ceiling still needs a PostgreSQL server (`--ceiling`). This is a
//! measurement, not a test: it asserts nothing.

mod pgbench;
mod prepare;
mod scenario;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bench::shop::{Backend, Shop};
use clap::Parser;

use crate::pgbench::{Ceiling, Run};
use crate::scenario::{Outcome, Plan, STAGES};

/// The allocator the shipped binary uses (`crates/mercato`), so that the shop running
/// here holds memory as it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mercato-bench-checkout",
    about = "Checkouts (place → pay → paid) under load, as a fraction of PostgreSQL's \
             ceiling for the same writes measured with pgbench in the same run"
)]
struct Cli {
    /// Verified customers to prepare; each worker shops as its own share of them.
    #[arg(long, default_value_t = 200)]
    customers: usize,
    /// Products to buy from (one or two units of a random one per order).
    #[arg(long, default_value_t = 20)]
    products: usize,
    /// Concurrent shoppers, and pgbench's clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds, for the shop and for each ceiling run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Unmeasured seconds before the shop scenario and before the first ceiling run.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Look at the order this often while waiting for it to move, instead of long
    /// polls that the shop answers when the order changes.
    #[arg(long, value_name = "MS")]
    poll_ms: Option<u64>,
    /// Open loop: start this many purchases per second, whatever the shop's pace,
    /// instead of --concurrency shoppers each starting when their last purchase ended.
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Run the shop on this PostgreSQL server instead of SQLite, e.g.
    /// postgres://postgres@127.0.0.1:5432 (databases `mbench_<service>`, dropped before
    /// and after); the ceiling runs there too unless --ceiling says otherwise.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// NATS JetStream instead of the embedded event log (with --postgres), e.g.
    /// nats://127.0.0.1:4222; streams are namespaced `mbench`.
    #[arg(long, value_name = "URL", requires = "postgres")]
    nats: Option<String>,
    /// The PostgreSQL server pgbench measures the ceiling on (database `mbench_ceiling`,
    /// dropped before and after); defaults to --postgres.
    #[arg(long, value_name = "URL")]
    ceiling: Option<String>,
    /// The pgbench program.
    #[arg(long, value_name = "PATH", default_value = "pgbench")]
    pgbench: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mercato::allocator::install();
    let cli = Cli::parse();
    anyhow::ensure!(cli.products > 0, "--products must be at least 1");
    anyhow::ensure!(cli.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(cli.seconds > 0, "--seconds must be at least 1");
    // Customers sign in once, while preparing, and access tokens last 15 minutes at most.
    anyhow::ensure!(
        cli.warmup + cli.seconds <= 600,
        "--warmup and --seconds together must stay within 10 minutes: the shoppers' access \
         tokens expire after 15"
    );
    anyhow::ensure!(
        cli.customers >= cli.concurrency,
        "--customers ({}) must be at least --concurrency ({}): a customer shops in one \
         checkout at a time",
        cli.customers,
        cli.concurrency
    );
    let server = cli
        .ceiling
        .clone()
        .or_else(|| cli.postgres.clone())
        .context(
            "the ceiling is PostgreSQL's, measured with pgbench: pass --postgres URL (shop and \
         ceiling on PostgreSQL) or --ceiling URL (shop on SQLite, ceiling on PostgreSQL)",
        )?;
    // Before anything slow: a missing pgbench should not cost a whole preparation.
    let pgbench_version = pgbench::version(&cli.pgbench).await?;
    let backend = Backend::from_flags(cli.postgres.clone(), cli.nats.clone());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "mercato-bench-checkout: {cores} cores; shop: {}; ceiling: {} at {}",
        backend.describe(),
        pgbench_version,
        platform::db::redact(&server)
    );
    if cli.postgres.is_none() {
        println!(
            "note: the shop is on SQLite and the ceiling on PostgreSQL; the ratio compares \
             the engines as well as the code"
        );
    }

    let ceiling = Ceiling::create(&cli.pgbench, &server, cli.products, cli.customers).await?;
    eprintln!("warming the ceiling up for {} s…", cli.warmup);
    if cli.warmup > 0 {
        ceiling.run(cli.concurrency, cli.warmup).await?;
    }
    eprintln!("measuring the ceiling, before…");
    let before = ceiling.run(cli.concurrency, cli.seconds).await?;

    let shop = Shop::start(backend).await?;
    let started_rss = bench::cpu::rss();
    let prepared = prepare::prepare(&shop, cli.products, cli.customers).await?;
    println!(
        "prepared {} customers and {} products in {:.1} s ({} registering at once)",
        prepared.customers.len(),
        prepared.product_ids.len(),
        prepared.took.as_secs_f64(),
        prepare::REGISTERING,
    );
    // Checkout needs orders' replicas of the customers and addresses, and shipping's of
    // the products: wait until every event of the preparation has been handled.
    let settled = shop.settle(Duration::from_secs(300)).await?;
    println!(
        "events of the preparation handled {:.1} s after it",
        settled.as_secs_f64()
    );
    if let (Some(started), Some(now)) = (started_rss, bench::cpu::rss()) {
        println!(
            "memory: {:.0} MiB once the shop started, {:.0} MiB after preparing",
            started as f64 / 1048576.0,
            now as f64 / 1048576.0
        );
    }
    let plan = Plan {
        concurrency: cli.concurrency,
        warmup: Duration::from_secs(cli.warmup),
        duration: Duration::from_secs(cli.seconds),
        poll: cli.poll_ms.map(Duration::from_millis),
        rate: cli.rate,
    };
    match cli.rate {
        None => println!(
            "{} shoppers and {} pgbench clients, {} s warm-up, {} s measured",
            cli.concurrency, cli.concurrency, cli.warmup, cli.seconds
        ),
        Some(rate) => println!(
            "open loop: {rate} purchases started per second; {} pgbench clients, {} s warm-up, {} s measured",
            cli.concurrency, cli.warmup, cli.seconds
        ),
    }
    eprintln!("measuring checkouts…");
    let outcome = scenario::run(
        &shop.base_url,
        prepared.product_ids,
        &prepared.customers,
        plan,
    )
    .await?;
    // What the run left in flight (mails, sold counts, replicas) says whether the event
    // pipeline kept up; it also must not run during the second ceiling measurement.
    let drained = shop.settle(Duration::from_secs(300)).await?;
    println!(
        "events of the run handled {:.1} s after it",
        drained.as_secs_f64()
    );
    shop.stop().await?;

    eprintln!("measuring the ceiling, after…");
    let after = ceiling.run(cli.concurrency, cli.seconds).await?;
    ceiling.remove().await?;

    println!();
    report(&before, &after, &outcome, plan);
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn ms(d: Duration) -> String {
    format!("{:>8.2} ms", d.as_secs_f64() * 1000.0)
}

/// The table, the ratio, where a checkout's time goes, and what failed.
fn report(before: &Run, after: &Run, shop: &Outcome, plan: Plan) {
    let (poll, duration) = (plan.poll, plan.duration);
    for (name, run) in [("ceiling, before", before), ("ceiling, after", after)] {
        println!(
            "{name:<17} {:>9.0} tx/s        p50 {}  p99 {}  (pgbench average {})  failed {} of {}",
            run.tps,
            ms(run.p50),
            ms(run.p99),
            ms(run.average).trim_start(),
            run.failed,
            run.transactions + run.failed,
        );
    }
    println!(
        "{:<17} {:>9.1} checkouts/s   p50 {}  p99 {}  failed {} of {}",
        "checkout",
        shop.per_second,
        ms(shop.p50),
        ms(shop.p99),
        shop.failed(),
        shop.completed + shop.failed(),
    );
    let ceiling = (before.tps + after.tps) / 2.0;
    if ceiling > 0.0 {
        let ratio = shop.per_second / ceiling;
        println!(
            "ratio: {:.1} checkouts/s ÷ {ceiling:.0} tx/s (mean ceiling) = {ratio:.4} ({:.2}%)",
            shop.per_second,
            ratio * 100.0
        );
        println!(
            "ceiling: its two runs differ by {:.0}%",
            (before.tps - after.tps).abs() / ceiling * 100.0
        );
    }
    println!("a checkout's time from sending it (p50 / p99):");
    for (stage, (p50, p99)) in STAGES.iter().zip(&shop.stages) {
        println!("  {stage:<22} {} / {}", ms(*p50), ms(*p99));
    }
    match poll {
        Some(poll) => println!(
            "latencies include polling granularity: the order is polled every {} ms, so each \
             of the two waits can add up to that",
            poll.as_millis()
        ),
        None => println!("waits are long polls, answered when the order changes"),
    }
    let completed = shop.completed.max(1) as f64;
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / completed;
    println!(
        "CPU per completed checkout: {:.2} ms of the machine (shop, databases, broker), \
         {:.2} ms in the shop, {:.2} ms in the load client; machine {:.0}% busy",
        per(shop.cpu.machine),
        per(shop.cpu.shop()),
        per(shop.cpu.client),
        shop.cpu.machine.as_secs_f64() / duration.as_secs_f64() / cores() as f64 * 100.0,
    );
    if let (Some(peak), Some(before)) = (shop.peak_rss, shop.rss_before) {
        println!(
            "memory (shop and load client): {:.0} MiB at the start of the window, peak {:.0} MiB",
            before as f64 / 1048576.0,
            peak as f64 / 1048576.0
        );
    }
    // The polling is load too: slow stages mean more look-ups competing for the cores.
    let attempted = shop.completed + shop.failed();
    println!(
        "order look-ups while waiting: {:.0}/s, {:.1} per checkout",
        shop.polls as f64 / duration.as_secs_f64(),
        shop.polls as f64 / attempted.max(1) as f64
    );
    if !shop.hops.is_empty() {
        println!(
            "saga hops in the window, event committed → handled or published (p50 / p99, to the bucket):"
        );
        for hop in &shop.hops {
            println!(
                "  {:<40} {:>7} events  {:>7.1} / {:>7.1} ms",
                hop.name, hop.count, hop.p50_ms, hop.p99_ms
            );
        }
    }
    for (kind, (n, detail)) in &shop.failures {
        let detail: String = detail.chars().take(200).collect();
        println!("failed: {n} × {kind} (first: {detail})");
    }
}
