//! The saga's hops as the shop measures them: `/metrics` histograms of how long after an
//! event was committed each consumer handled it (`bus_handling_delay_seconds`) and each
//! relay published it (`outbox_publish_delay_seconds`). Buckets are cumulative counts,
//! so two scrapes, at the start and the end of a window, give that window's percentiles
//! (to the bucket's upper bound).

use std::collections::BTreeMap;

/// Cumulative bucket counts per series (metric and label), per upper bound.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    series: BTreeMap<String, Vec<(f64, u64)>>,
}

/// One series' percentiles over a window.
#[derive(Debug)]
pub struct Hop {
    pub name: String,
    pub count: u64,
    /// Upper bounds of the buckets holding the 50th and 99th percentile, in ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Reads the shop's `/metrics` (served to loopback clients).
pub async fn scrape(base_url: &str) -> anyhow::Result<Scrape> {
    let text = reqwest::get(format!("{base_url}/metrics"))
        .await?
        .text()
        .await?;
    Ok(parse(&text))
}

fn parse(text: &str) -> Scrape {
    let mut series: BTreeMap<String, Vec<(f64, u64)>> = BTreeMap::new();
    for line in text.lines() {
        let Some((metric, rest)) = line.split_once("_bucket{") else {
            continue;
        };
        if !(metric == "bus_handling_delay_seconds" || metric == "outbox_publish_delay_seconds") {
            continue;
        }
        let Some((labels, count)) = rest.rsplit_once("} ") else {
            continue;
        };
        let mut name = String::new();
        let mut le = None;
        for label in labels.split(',') {
            let Some((k, v)) = label.split_once('=') else {
                continue;
            };
            let v = v.trim_matches('"');
            if k == "le" {
                le = if v == "+Inf" {
                    Some(f64::INFINITY)
                } else {
                    v.parse().ok()
                };
            } else {
                name = format!(
                    "{}: {v}",
                    if metric.starts_with("bus") {
                        "handled by"
                    } else {
                        "published from"
                    }
                );
            }
        }
        if let (Some(le), Ok(count)) = (le, count.trim().parse::<u64>()) {
            series.entry(name).or_default().push((le, count));
        }
    }
    for buckets in series.values_mut() {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Scrape { series }
}

impl Scrape {
    /// Each series' percentiles between `self` (earlier) and `later`.
    pub fn until(&self, later: &Scrape) -> Vec<Hop> {
        let mut hops = Vec::new();
        for (name, buckets) in &later.series {
            let before = self.series.get(name);
            let counts: Vec<(f64, u64)> = buckets
                .iter()
                .map(|(le, n)| {
                    let was = before
                        .and_then(|b| b.iter().find(|(l, _)| l == le))
                        .map_or(0, |(_, n)| *n);
                    (*le, n.saturating_sub(was))
                })
                .collect();
            let total = counts.last().map_or(0, |(_, n)| *n);
            if total == 0 {
                continue;
            }
            let at = |q: f64| {
                let rank = (total as f64 * q).ceil() as u64;
                counts
                    .iter()
                    .find(|(_, n)| *n >= rank)
                    .map_or(f64::INFINITY, |(le, _)| le * 1000.0)
            };
            hops.push(Hop {
                name: name.clone(),
                count: total,
                p50_ms: at(0.50),
                p99_ms: at(0.99),
            });
        }
        hops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_the_difference_of_two_scrapes() {
        let before = parse(
            "bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"0.001\"} 5\n\
             bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"0.01\"} 10\n\
             bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"+Inf\"} 10\n",
        );
        let after = parse(
            "bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"0.001\"} 5\n\
             bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"0.01\"} 109\n\
             bus_handling_delay_seconds_bucket{consumer=\"a\",le=\"+Inf\"} 110\n",
        );
        let hops = before.until(&after);
        assert_eq!(hops.len(), 1);
        assert_eq!(hops[0].count, 100);
        assert_eq!(hops[0].p50_ms, 10.0);
        assert_eq!(hops[0].p99_ms, 10.0);
        assert!(hops[0].p99_ms.is_finite());
    }
}
