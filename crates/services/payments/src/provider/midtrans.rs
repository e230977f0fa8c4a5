//! Midtrans, the Indonesian provider: a Snap transaction per payment (the customer pays
//! on Midtrans' page at `redirect_url`), HTTP notifications signed with
//! `SHA-512(order_id + status_code + gross_amount + server_key)`, and refunds through
//! the Core API. Midtrans' `order_id` is our payment id, which makes opening the same
//! payment twice harmless: Midtrans refuses a second transaction for it and the first
//! one's page is asked for again.
//!
//! Midtrans amounts are whole rupiah (`gross_amount: 10000`, notifications
//! `"10000.00"`); ours are minor units (sen), so only IDR amounts that are whole rupiah
//! can be sent.

use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use platform::crypto::{constant_time_eq, sha512_hex};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Notice, Notification, Opened, Opening, Provider, Refusal};
use crate::domain::Outcome;
use crate::store::{Payment, Refund};

pub const NAME: &str = "midtrans";

pub struct Midtrans {
    server_key: SecretString,
    /// `https://app.sandbox.midtrans.com` or `https://app.midtrans.com`.
    snap_url: String,
    /// `https://api.sandbox.midtrans.com` or `https://api.midtrans.com`.
    api_url: String,
    http: reqwest::Client,
}

/// A notification as Midtrans posts it (only the fields we read).
#[derive(Debug, Deserialize)]
struct MidtransNotification {
    order_id: String,
    status_code: String,
    gross_amount: String,
    signature_key: String,
    transaction_status: String,
    #[serde(default)]
    transaction_id: String,
    #[serde(default)]
    fraud_status: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    refunds: Vec<RefundNotice>,
}

#[derive(Debug, Deserialize)]
struct RefundNotice {
    #[serde(default)]
    refund_key: Option<String>,
}

impl Midtrans {
    pub fn new(server_key: SecretString, snap_url: &str, api_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            server_key,
            snap_url: snap_url.trim_end_matches('/').to_owned(),
            api_url: api_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }

    /// The documented notification signature.
    pub fn signature(
        order_id: &str,
        status_code: &str,
        gross_amount: &str,
        server_key: &str,
    ) -> String {
        sha512_hex(format!("{order_id}{status_code}{gross_amount}{server_key}").as_bytes())
    }
}

/// Minor units (sen) as whole rupiah.
fn rupiah(amount: i64, currency: &str) -> anyhow::Result<i64> {
    anyhow::ensure!(currency == "IDR", "Midtrans takes IDR only, not {currency}");
    anyhow::ensure!(
        amount % 100 == 0,
        "Midtrans takes whole rupiah; {amount} sen is not"
    );
    Ok(amount / 100)
}

/// `"10000.00"` (rupiah) as minor units.
fn sen(gross_amount: &str) -> Option<i64> {
    let (whole, fraction) = gross_amount.split_once('.').unwrap_or((gross_amount, "00"));
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").get(..2)?.parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

#[async_trait]
impl Provider for Midtrans {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn open(&self, opening: &Opening) -> anyhow::Result<Opened> {
        let gross = rupiah(opening.amount, &opening.currency)?;
        let res = self
            .http
            .post(format!("{}/snap/v1/transactions", self.snap_url))
            .basic_auth(self.server_key.expose_secret(), Some(""))
            .header("accept", "application/json")
            .json(&json!({
                "transaction_details": {"order_id": opening.payment_id, "gross_amount": gross},
                "custom_field1": opening.order_id,
            }))
            .send()
            .await?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        anyhow::ensure!(
            status.is_success(),
            "Midtrans refused the transaction ({status}): {body}"
        );
        let url = body["redirect_url"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("Midtrans answered without redirect_url: {body}"))?;
        Ok(Opened {
            checkout_url: url.to_owned(),
            provider_ref: body["token"].as_str().map(str::to_owned),
        })
    }

    fn verify(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Notification, Refusal> {
        // Midtrans signs the body's fields rather than the request, so read it first.
        let n: MidtransNotification =
            serde_json::from_slice(body).map_err(|_| Refusal::Signature)?;
        let expected = Self::signature(
            &n.order_id,
            &n.status_code,
            &n.gross_amount,
            self.server_key.expose_secret(),
        );
        if !constant_time_eq(
            expected.as_bytes(),
            n.signature_key.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(Refusal::Signature);
        }
        let payment_id: Uuid = n
            .order_id
            .parse()
            .map_err(|_| Refusal::Malformed(format!("order_id {:?} is not ours", n.order_id)))?;
        let amount =
            sen(&n.gross_amount).map(|a| (a, n.currency.clone().unwrap_or_else(|| "IDR".into())));
        let outcome = |o: Outcome| Notice::Payment {
            payment_id,
            outcome: o,
            amount: amount.clone(),
        };
        let notice = match n.transaction_status.as_str() {
            "capture" if n.fraud_status.as_deref() == Some("challenge") => {
                outcome(Outcome::Processing)
            }
            "capture" if n.fraud_status.as_deref() == Some("deny") => {
                outcome(Outcome::Failed("fraud_denied".into()))
            }
            "capture" | "settlement" => outcome(Outcome::Succeeded),
            "pending" => outcome(Outcome::Processing),
            "deny" => outcome(Outcome::Failed("card_declined".into())),
            "expire" => outcome(Outcome::Failed("expired".into())),
            "cancel" | "failure" => outcome(Outcome::Failed(n.transaction_status.clone())),
            "refund" | "partial_refund" => {
                let refund_id = n
                    .refunds
                    .iter()
                    .rev()
                    .find_map(|r| r.refund_key.as_deref()?.parse::<Uuid>().ok())
                    .ok_or_else(|| Refusal::Malformed("a refund without our refund_key".into()))?;
                Notice::Refund {
                    payment_id,
                    refund_id,
                    succeeded: true,
                }
            }
            other => {
                return Err(Refusal::Malformed(format!(
                    "unknown transaction_status {other:?}"
                )));
            }
        };
        // Midtrans has no event id: a status of a transaction (and, for refunds, which
        // refund) happens once.
        let refund = match &notice {
            Notice::Refund { refund_id, .. } => refund_id.to_string(),
            Notice::Payment { .. } => String::new(),
        };
        Ok(Notification {
            event_id: format!(
                "{}:{}:{}:{refund}",
                n.transaction_id, n.transaction_status, n.status_code
            ),
            kind: n.transaction_status,
            notice,
        })
    }

    async fn refund(&self, payment: &Payment, refund: &Refund) -> anyhow::Result<()> {
        let amount = rupiah(refund.amount, &payment.currency)?;
        let res = self
            .http
            .post(format!("{}/v2/{}/refund", self.api_url, payment.id))
            .basic_auth(self.server_key.expose_secret(), Some(""))
            .header("accept", "application/json")
            // The refund key makes a repeated request the same refund.
            .json(&json!({"refund_key": refund.id, "amount": amount, "reason": refund.reason}))
            .send()
            .await?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let code = body["status_code"].as_str().unwrap_or_default();
        anyhow::ensure!(
            status.is_success() && code.starts_with('2'),
            "Midtrans refused the refund ({status}): {body}"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_follows_midtrans_docs() {
        // SHA-512 over the concatenation, lowercase hex, 128 characters.
        let s = Midtrans::signature("order-1", "200", "10000.00", "SB-Mid-server-key");
        assert_eq!(s.len(), 128);
        assert_eq!(s, sha512_hex(b"order-120010000.00SB-Mid-server-key"));
        assert_ne!(
            s,
            Midtrans::signature("order-1", "200", "10000.01", "SB-Mid-server-key")
        );
    }

    #[test]
    fn rupiah_and_sen_convert_both_ways() {
        assert_eq!(rupiah(1_000_000, "IDR").unwrap(), 10_000);
        assert!(rupiah(1_000_050, "IDR").is_err());
        assert!(rupiah(1000, "USD").is_err());
        assert_eq!(sen("10000.00"), Some(1_000_000));
        assert_eq!(sen("10000"), Some(1_000_000));
        assert_eq!(sen("10000.5"), Some(1_000_050));
        assert_eq!(sen("ten"), None);
    }
}
