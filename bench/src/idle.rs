//! `mercato-bench-idle`: what a shop with no traffic costs. It starts a real shop in
//! this process (every service and the web pages, as `mercato serve` runs them), waits
//! `--settle` seconds for start-up work to end, then measures `--seconds` in which
//! nothing asks anything of it: the share of one core it used, its resident memory,
//! and which of its threads spent the time (tokio's workers, SQLite's connection
//! threads, the bus client). The goal (issue 11) is at most 0.5 % of one core and
//! 30 MB resident. This is a measurement, not a test: it asserts nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bench::cpu;
use bench::shop::{Backend, Shop};
use clap::Parser;

/// The allocator the shipped binary uses, so the shop holds memory as in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mercato-bench-idle",
    about = "CPU and memory of a shop that nobody uses, and which threads spend them"
)]
struct Cli {
    /// Measured seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Unmeasured seconds after start-up.
    #[arg(long, default_value_t = 10)]
    settle: u64,
    /// Run the services on this PostgreSQL server instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// With `--postgres`, carry events over NATS JetStream at this URL.
    #[arg(long)]
    nats: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mercato::allocator::install();
    let cli = Cli::parse();
    let backend = Backend::from_flags(cli.postgres, cli.nats);
    println!("mercato-bench-idle: {}", backend.describe());
    let shop = Shop::start(backend).await?;
    tokio::time::sleep(Duration::from_secs(cli.settle)).await;

    let (before, threads_before) = (cpu::snapshot("-"), cpu::thread_ticks());
    let rss_before = cpu::rss();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(cli.seconds)).await;
    let wall = started.elapsed();
    let (after, threads_after) = (cpu::snapshot("-"), cpu::thread_ticks());
    let rss_after = cpu::rss();
    // What of it the allocator holds freed, rather than the shop holding live.
    mercato::allocator::release_freed_memory();
    let rss_live = cpu::rss();

    let spent = before.until(&after);
    let share = spent.process.as_secs_f64() / wall.as_secs_f64() * 100.0;
    println!(
        "\nidle {:.0} s: {:.2} % of one core ({} ms of CPU), the whole machine {:.2} % of one core",
        wall.as_secs_f64(),
        share,
        spent.process.as_millis(),
        spent.machine.as_secs_f64() / wall.as_secs_f64() * 100.0,
    );
    let mib = |b: Option<u64>| b.map_or("?".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
    println!(
        "resident: {} at the start, {} at the end, {} once the allocator gave back what it held freed",
        mib(rss_before),
        mib(rss_after),
        mib(rss_live)
    );

    // Threads by name (digits dropped, so a pool's threads add up under one name).
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (tid, (name, ticks)) in &threads_after {
        let earlier = threads_before.get(tid).map_or(0, |(_, t)| *t);
        let group: String = name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
            .into();
        *by_name.entry(group).or_default() += ticks.saturating_sub(earlier);
    }
    let mut rows: Vec<_> = by_name.into_iter().filter(|(_, t)| *t > 0).collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    println!("\n| threads | CPU ms |\n|---|---:|");
    for (name, ticks) in rows {
        println!("| {name} | {} |", cpu::ticks_to_ms(ticks));
    }
    shop.stop().await
}
