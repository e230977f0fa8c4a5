//! A closed-loop load generator: C tasks, each with its own keep-alive HTTP/1.1
//! connection, each sending its next request as soon as the previous answer is read
//! whole. Requests started during the warm-up are not counted; latencies of the rest
//! are kept in microseconds, so percentiles are exact rather than bucketed. The
//! checkout bench keeps its latencies the same way and uses [`percentile`] too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Makes the URL of the next request.
pub type Target = Arc<dyn Fn(&mut StdRng) -> String + Send + Sync>;

/// How hard and how long.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one scenario measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Successful (2xx) answers to requests started in the measured window.
    pub ok: u64,
    /// Non-2xx answers and transport failures in the measured window.
    pub errors: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Runs `target` at `load` and measures the window after the warm-up.
pub async fn run(target: Target, load: Load) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let until = measure_from + load.duration;
    let mut workers = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        // One client per task with a pool of one: each task owns exactly one
        // connection and no task waits on another's pool lock.
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .context("building a load client")?;
        let target = target.clone();
        workers.push(tokio::spawn(async move {
            worker(client, target, measure_from, until).await
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (lat, err) = w.await.context("a load task failed")?;
        latencies.extend(lat);
        errors += err;
    }
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    Ok(Outcome {
        ok,
        errors,
        per_second: ok as f64 / load.duration.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}

/// Sends requests back to back until `until`; returns the latencies (µs) of the
/// successful ones started after `measure_from`, and how many failed in that window.
async fn worker(
    client: reqwest::Client,
    target: Target,
    measure_from: Instant,
    until: Instant,
) -> (Vec<u32>, u64) {
    let mut rng = StdRng::from_entropy();
    let mut latencies = Vec::with_capacity(64 * 1024);
    let mut errors = 0;
    loop {
        let sent = Instant::now();
        if sent >= until {
            return (latencies, errors);
        }
        let url = target(&mut rng);
        let ok = match client.get(&url).send().await {
            Ok(res) => {
                let status = res.status();
                // The body is part of the answer: read it all before stopping the clock.
                res.bytes().await.is_ok() && status.is_success()
            }
            Err(_) => false,
        };
        let took = sent.elapsed();
        let measured = sent >= measure_from;
        if ok && measured {
            latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        } else if !ok {
            errors += u64::from(measured);
            // A refused connection fails in microseconds; do not spin on it.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The nearest-rank percentile of sorted microsecond latencies; every report in the
/// bench uses it, so their percentiles mean the same thing.
pub fn percentile(sorted: &[u32], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Duration::from_micros(u64::from(sorted[rank - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&[7], 0.99), Duration::from_micros(7));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
