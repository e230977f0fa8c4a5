//! Filling the shop through its public API, as inventory staff would: a staff member
//! made the way `mercato admin create-staff` makes one, a sign-in, ten categories, then
//! N products posted by 16 concurrent loaders.
//!
//! Names and descriptions are drawn from a generated vocabulary with a skew (a few words
//! are in most products, most words in a few), so a search for a random word ranks
//! anything from a handful to thousands of matches, as real searches do. The content is
//! seeded, so every run loads the same catalog.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::api::{create, staff_token};
use bench::shop::Shop;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

/// Concurrent product writers while loading.
pub const LOADERS: usize = 16;
const VOCABULARY: usize = 500;
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ra", "ven", "tor", "sa", "bel", "dun", "fi", "gor", "ha", "ish", "jo",
    "ken", "lu", "mar", "nor", "pe", "quin", "ros", "ta", "ul", "zed",
];
/// Categories shown on the home page (with their top products).
const HOME_CATEGORIES: usize = 3;

const CATEGORIES: [&str; 10] = [
    "Clothing", "Footwear", "Kitchen", "Garden", "Toys", "Books", "Tools", "Sports", "Beauty",
    "Office",
];
/// Fixed, so every run loads the same catalog.
const SEED: u64 = 2024;

/// What was loaded, for the load generator and the report.
pub struct Loaded {
    pub product_ids: Vec<Uuid>,
    /// Every word that occurs in the catalog; searches pick from these.
    pub words: Vec<String>,
    /// Products containing a word: the least, the median and the most, over all words.
    pub matches: (usize, usize, usize),
    pub took: Duration,
}

/// Made-up words of two or three syllables: no stop words, no accidental English.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    let mut words: Vec<String> = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let syllables = rng.gen_range(2..=3);
        let word: String = (0..syllables)
            .map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())])
            .collect();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// A word index, skewed towards the start of the vocabulary.
fn skewed(rng: &mut StdRng) -> usize {
    let u: f64 = rng.r#gen();
    ((u * u) * VOCABULARY as f64) as usize
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One product's body, and the vocabulary indices it contains.
fn product(
    i: usize,
    words: &[String],
    categories: &[Uuid],
    rng: &mut StdRng,
) -> (Value, Vec<usize>) {
    let mut used: Vec<usize> = (0..3).map(|_| skewed(rng)).collect();
    let name = used
        .iter()
        .map(|&w| capitalised(&words[w]))
        .collect::<Vec<_>>()
        .join(" ");
    let description_words: Vec<usize> = (0..rng.gen_range(12..=30)).map(|_| skewed(rng)).collect();
    let description = format!(
        "{}.",
        capitalised(
            &description_words
                .iter()
                .map(|&w| words[w].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        )
    );
    used.extend(description_words);
    used.sort_unstable();
    used.dedup();
    let mut category_ids = vec![categories[i % categories.len()]];
    if rng.gen_bool(0.3) {
        category_ids.push(categories[(i + 3) % categories.len()]);
    }
    let body = json!({
        "name": name,
        // Names can repeat; the slug must not.
        "slug": format!("bench-{i}"),
        "description": description,
        "price": rng.gen_range(199..=99_999),
        "currency": "USD",
        "weight_grams": rng.gen_range(50..=20_000),
        "length_mm": rng.gen_range(10..=1_000),
        "width_mm": rng.gen_range(10..=800),
        "height_mm": rng.gen_range(5..=500),
        "category_ids": category_ids,
        "stock": rng.gen_range(0..=500),
    });
    (body, used)
}

/// Loads `count` products into `shop`.
pub async fn load(shop: &Shop, count: usize) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(LOADERS)
        .build()
        .context("building the loader client")?;
    let token = staff_token(shop, &client, "inventory").await?;
    let mut categories = Vec::with_capacity(CATEGORIES.len());
    let url = format!("{}/api/v1/categories", shop.base_url);
    for (i, name) in CATEGORIES.iter().enumerate() {
        // The first few are on the home page, as a shop would have them.
        let body = json!({"name": name, "show_on_home": i < HOME_CATEGORIES});
        categories.push(create(&client, &url, &token, &body).await?);
    }

    let mut rng = StdRng::seed_from_u64(SEED);
    let words = vocabulary(&mut rng);
    let mut bodies = Vec::with_capacity(count);
    let mut contains = vec![0usize; VOCABULARY];
    for i in 0..count {
        let (body, used) = product(i, &words, &categories, &mut rng);
        for w in used {
            contains[w] += 1;
        }
        bodies.push(body);
    }

    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(format!("{}/api/v1/products", shop.base_url));
    let token = Arc::new(token);
    let mut loaders = Vec::with_capacity(LOADERS);
    for _ in 0..LOADERS {
        let (client, bodies, next, url, token) = (
            client.clone(),
            bodies.clone(),
            next.clone(),
            url.clone(),
            token.clone(),
        );
        loaders.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return anyhow::Ok(ids);
                };
                ids.push(create(&client, &url, &token, body).await?);
            }
        }));
    }
    let mut product_ids = Vec::with_capacity(count);
    for loader in loaders {
        product_ids.extend(loader.await.context("a loader task failed")??);
    }

    // Only words that made it into the catalog: a search for an absent word is cheap
    // and would flatter the figure.
    let present: Vec<(String, usize)> = words
        .into_iter()
        .zip(contains)
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut counts: Vec<usize> = present.iter().map(|(_, n)| *n).collect();
    counts.sort_unstable();
    let matches = match (counts.first(), counts.get(counts.len() / 2), counts.last()) {
        (Some(&min), Some(&median), Some(&max)) => (min, median, max),
        _ => (0, 0, 0),
    };
    Ok(Loaded {
        product_ids,
        words: present.into_iter().map(|(w, _)| w).collect(),
        matches,
        took: started.elapsed(),
    })
}
