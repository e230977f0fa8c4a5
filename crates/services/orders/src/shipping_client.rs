//! The typed client orders uses to quote shipping at checkout: in-process when shipping
//! runs in the same process (the composition provides that implementation), over HTTP
//! otherwise. Either way the caller bounds it with a timeout.

use std::time::Duration;

use async_trait::async_trait;
use contracts::shipping::{Quote, QuoteRequest};
use serde_json::json;

/// How long checkout waits for a quote.
pub const QUOTE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub enum QuoteFailure {
    /// Shipping does not know (or no longer sells) the items at these positions yet.
    UnknownProducts(Vec<usize>),
    /// Shipping could not be asked or did not answer.
    Unavailable(String),
}

#[async_trait]
pub trait ShippingQuotes: Send + Sync + 'static {
    async fn quote(&self, req: &QuoteRequest) -> Result<Quote, QuoteFailure>;
}

/// Asks a shipping service at `base_url` through its public quote endpoint.
pub struct HttpShipping {
    client: reqwest::Client,
    base_url: String,
}

impl HttpShipping {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder().timeout(QUOTE_TIMEOUT).build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }
}

#[async_trait]
impl ShippingQuotes for HttpShipping {
    async fn quote(&self, req: &QuoteRequest) -> Result<Quote, QuoteFailure> {
        let body = json!({
            "destination": {"country": req.country, "postal_code": req.postal_code},
            "items": req.items,
        });
        let res = self
            .client
            .post(format!("{}/api/v1/shipping/quote", self.base_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| QuoteFailure::Unavailable(e.to_string()))?;
        let status = res.status();
        let answer: serde_json::Value = res
            .json()
            .await
            .map_err(|e| QuoteFailure::Unavailable(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_value(answer)
                .map_err(|e| QuoteFailure::Unavailable(e.to_string()));
        }
        // A 422 naming `items[i].product_id` means shipping has not heard of a product.
        let unknown: Vec<usize> = answer["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str())
            .filter_map(|f| {
                f.strip_prefix("items[")?
                    .strip_suffix("].product_id")?
                    .parse()
                    .ok()
            })
            .collect();
        if status.as_u16() == 422 && !unknown.is_empty() {
            Err(QuoteFailure::UnknownProducts(unknown))
        } else {
            Err(QuoteFailure::Unavailable(format!(
                "shipping answered {status}"
            )))
        }
    }
}
