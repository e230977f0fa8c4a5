//! The storefront's pages under the same load as the API reads, and what a product page
//! weighs: its HTML, CSS and JavaScript as a browser downloads them, compressed.

use std::sync::Arc;

use anyhow::Context;
use bench::load::Target;
use rand::Rng;

/// The pages the bench drives: the home page, a search listing, a product page.
pub fn targets(
    base: &str,
    products: usize,
    words: Arc<Vec<String>>,
) -> [(&'static str, Target); 3] {
    let home = {
        let url = format!("{base}/");
        Arc::new(move |_: &mut rand::rngs::StdRng| url.clone()) as Target
    };
    let listing = {
        let base = base.to_owned();
        Arc::new(move |rng: &mut rand::rngs::StdRng| {
            let word = &words[rng.gen_range(0..words.len())];
            format!("{base}/search?q={word}")
        }) as Target
    };
    let product = {
        let base = base.to_owned();
        // The loader gives product i the slug `bench-i`.
        Arc::new(move |rng: &mut rand::rngs::StdRng| {
            format!("{base}/products/bench-{}", rng.gen_range(0..products))
        }) as Target
    };
    [
        ("home page", home),
        ("listing page", listing),
        ("product page", product),
    ]
}

/// A product page's bytes over the wire, each part as the shop sends it to a browser
/// that accepts brotli.
pub struct Weight {
    pub html: usize,
    pub css: usize,
    pub js: usize,
}

impl Weight {
    pub fn total(&self) -> usize {
        self.html + self.css + self.js
    }
}

/// Downloads `/products/bench-0` and the stylesheet and script it links to, without
/// decompressing (this client has no brotli decoder), and counts their bytes.
pub async fn product_page_weight(base: &str) -> anyhow::Result<Weight> {
    let client = reqwest::Client::new();
    let fetch = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let res = client
                .get(&url)
                .header("accept-encoding", "br, gzip")
                .header("accept", "text/html")
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            anyhow::ensure!(
                res.status().is_success(),
                "GET {url} answered {}",
                res.status()
            );
            let compressed = res
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v == "br" || v == "gzip");
            anyhow::ensure!(compressed, "GET {url} came back uncompressed");
            Ok::<_, anyhow::Error>(res.bytes().await?.to_vec())
        }
    };
    let html_bytes = fetch("/products/bench-0".into()).await?;
    // The page itself, uncompressed, to find what it links to.
    let page = reqwest::get(format!("{base}/products/bench-0"))
        .await?
        .text()
        .await?;
    let linked = |ext: &str| -> anyhow::Result<String> {
        let end = page
            .find(ext)
            .with_context(|| format!("the product page links no {ext}"))?
            + ext.len();
        let start = page[..end]
            .rfind("/assets/")
            .with_context(|| format!("the {ext} is not under /assets/"))?;
        Ok(page[start..end].to_owned())
    };
    let css = fetch(linked(".css")?).await?;
    let js = fetch(linked(".js")?).await?;
    Ok(Weight {
        html: html_bytes.len(),
        css: css.len(),
        js: js.len(),
    })
}
