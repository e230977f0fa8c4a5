//! The sandbox provider: test cards, no money moves, and — like a real provider — the
//! result is only told through signed webhooks, delivered over HTTP with retries.
//!
//! It keeps its own books in the payments database (`sandbox_charges`,
//! `sandbox_deliveries`) the way a provider would on its side: one charge per payment,
//! and the webhooks it still owes. Webhooks carry
//! `Mercato-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use platform::clock::Clock;
use platform::crypto::{constant_time_eq, hmac_sha256_hex};
use platform::tasks::Left;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{Notice, Notification, Opened, Opening, Provider, Refusal};
use crate::domain::Outcome;
use crate::store::{Payment, Refund};

pub const NAME: &str = "sandbox";
pub const SIGNATURE_HEADER: &str = "mercato-signature";

/// How many payments' webhooks are delivered at once.
const PARALLEL_DELIVERIES: usize = 16;

/// What a test card does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    Succeeds,
    Declined,
    InsufficientFunds,
}

impl Card {
    /// The card behind a number, as API.md lists them; `None` for any other number.
    pub fn from_number(number: &str) -> Option<Self> {
        match number {
            "4242424242424242" => Some(Self::Succeeds),
            "4000000000000002" => Some(Self::Declined),
            "4000000000009995" => Some(Self::InsufficientFunds),
            _ => None,
        }
    }

    fn failure(self) -> Option<&'static str> {
        match self {
            Self::Succeeds => None,
            Self::Declined => Some("card_declined"),
            Self::InsufficientFunds => Some("insufficient_funds"),
        }
    }
}

/// Reads a `Mercato-Signature` header: `t=<unix seconds>,v1=<hex HMAC>`, in any order,
/// other parts ignored. `None` when either is missing or the time is not a number.
pub fn parse_signature_header(header: &str) -> Option<(i64, &str)> {
    let (mut timestamp, mut given) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = Some(v),
            _ => {}
        }
    }
    Some((timestamp?, given?))
}

/// Checks a webhook's `Mercato-Signature` header against `body`: the HMAC must match
/// (compared in constant time) and the signed time be within `tolerance` of `now`.
pub fn check_signature(
    secret: &str,
    tolerance: chrono::Duration,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let (timestamp, given) = parse_signature_header(header).ok_or(Refusal::Signature)?;
    let expected = signature(secret, timestamp, body);
    let expected = expected.rsplit_once("v1=").map_or("", |(_, v)| v);
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(Refusal::Signature);
    }
    let sent = DateTime::from_timestamp(timestamp, 0).ok_or(Refusal::Signature)?;
    // Saturating: a signed time at the edge of the calendar must not overflow the
    // subtraction (it is refused as stale).
    let age = now.signed_duration_since(sent);
    if age > tolerance || age < -tolerance {
        return Err(Refusal::Stale);
    }
    Ok(())
}

/// The `Mercato-Signature` header value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "t={timestamp},v1={}",
        hmac_sha256_hex(secret.as_bytes(), &signed)
    )
}

/// A webhook as the sandbox sends it.
#[derive(Debug, Serialize, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Serialize, Deserialize)]
struct EventData {
    payment_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund_id: Option<Uuid>,
}

pub struct Sandbox {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    secret: SecretString,
    tolerance: chrono::Duration,
    public_url: String,
    webhook_url: String,
    http: reqwest::Client,
    wake: Notify,
}

impl Sandbox {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        secret: SecretString,
        tolerance_secs: u64,
        public_url: &str,
        webhook_url: String,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            clock,
            secret,
            tolerance: chrono::Duration::seconds(i64::try_from(tolerance_secs)?),
            public_url: public_url.trim_end_matches('/').to_owned(),
            webhook_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            wake: Notify::new(),
        })
    }

    /// Takes `card` for `payment` and owes two webhooks: processing, then the result.
    /// Runs in the caller's transaction, so the charge and its webhooks commit together.
    pub async fn charge<C: ConnectionTrait>(
        &self,
        txn: &C,
        payment: &Payment,
        card: Card,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let data = |failure_code: Option<&str>| EventData {
            payment_id: payment.id,
            amount: Some(payment.amount),
            currency: Some(payment.currency.clone()),
            failure_code: failure_code.map(str::to_owned),
            refund_id: None,
        };
        owe(txn, None, "payment.processing", data(None), now).await?;
        match card.failure() {
            None => owe(txn, None, "payment.succeeded", data(None), now).await?,
            Some(code) => owe(txn, None, "payment.failed", data(Some(code)), now).await?,
        }
        Ok(())
    }

    /// Wakes the delivery loop after a charge or refund committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers owed webhooks in the order they were owed, retrying failures with a
    /// growing pause, for as long as the process runs; asleep while nothing is owed.
    pub async fn deliver(self: Arc<Self>) -> anyhow::Result<()> {
        let every = Duration::from_millis(500);
        platform::tasks::sweep("sandbox webhooks", &self.db, &self.wake, every, || {
            self.deliver_due()
        })
        .await
    }

    /// Delivers what is due: one payment's webhooks one after another, in the order they
    /// were owed (as a provider would), different payments' side by side. Answers
    /// whether any is still owed.
    async fn deliver_due(&self) -> anyhow::Result<Left> {
        let now = self.clock.now();
        let db = &self.db;
        let due = db
            .query_all_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT event_id, body, attempts FROM sandbox_deliveries \
                 WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at, event_id LIMIT 200",
                [now.into()],
            ))
            .await?;
        self.deliver_all(due).await?;
        // Owed and not yet due, or just failed: looked at again shortly, as before.
        let owed = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT 1 AS one FROM sandbox_deliveries WHERE delivered_at IS NULL LIMIT 1",
            ))
            .await?;
        Ok(if owed.is_some() {
            Left::Retry
        } else {
            Left::Nothing
        })
    }

    async fn deliver_all(&self, due: Vec<sea_orm::QueryResult>) -> anyhow::Result<()> {
        let mut per_payment: BTreeMap<Uuid, Vec<Owed>> = BTreeMap::new();
        for row in due {
            let owed = Owed {
                event_id: row.try_get("", "event_id")?,
                body: row.try_get("", "body")?,
                attempts: row.try_get("", "attempts")?,
            };
            let payment = serde_json::from_str::<Event>(&owed.body)
                .map(|e| e.data.payment_id)
                .unwrap_or_default();
            per_payment.entry(payment).or_default().push(owed);
        }
        futures::stream::iter(per_payment.into_values())
            .for_each_concurrent(PARALLEL_DELIVERIES, |owed| async move {
                for o in owed {
                    if let Err(e) = self.deliver_one(o).await {
                        tracing::warn!(error = %e, "recording a sandbox webhook delivery failed");
                    }
                }
            })
            .await;
        Ok(())
    }

    async fn deliver_one(&self, owed: Owed) -> anyhow::Result<()> {
        let Owed {
            event_id,
            body,
            attempts,
        } = owed;
        let db = &self.db;
        let sent_at = self.clock.now();
        let header = signature(
            self.secret.expose_secret(),
            sent_at.timestamp(),
            body.as_bytes(),
        );
        let delivered = match self
            .http
            .post(&self.webhook_url)
            .header(SIGNATURE_HEADER, header)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
        {
            Ok(res) if res.status().is_success() => true,
            Ok(res) => {
                tracing::warn!(event_id, status = %res.status(), "sandbox webhook refused");
                false
            }
            Err(e) => {
                tracing::warn!(event_id, error = %e, "sandbox webhook not delivered");
                false
            }
        };
        let (sql, next) = if delivered {
            (
                "UPDATE sandbox_deliveries SET delivered_at = $1, attempts = attempts + 1 WHERE event_id = $2",
                sent_at,
            )
        } else {
            let pause = chrono::Duration::seconds(1 << attempts.clamp(0, 6));
            (
                "UPDATE sandbox_deliveries SET next_attempt_at = $1, attempts = attempts + 1 WHERE event_id = $2",
                sent_at + pause,
            )
        };
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [next.into(), event_id.into()],
        ))
        .await?;
        Ok(())
    }
}

/// A webhook the sandbox still owes.
struct Owed {
    event_id: String,
    body: String,
    attempts: i32,
}

/// Records a webhook the sandbox owes.
async fn owe<C: ConnectionTrait>(
    txn: &C,
    id: Option<String>,
    kind: &str,
    data: EventData,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let event = Event {
        id: id.unwrap_or_else(|| format!("evt_{}", Uuid::now_v7().simple())),
        kind: kind.to_owned(),
        data,
    };
    let body = serde_json::to_string(&event).map_err(|e| DbErr::Custom(e.to_string()))?;
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "INSERT INTO sandbox_deliveries (event_id, body, attempts, next_attempt_at, delivered_at, created_at) \
         VALUES ($1, $2, 0, $3, NULL, $3) ON CONFLICT (event_id) DO NOTHING",
        [event.id.into(), body.into(), now.into()],
    ))
    .await?;
    Ok(())
}

#[async_trait]
impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        NAME
    }

    fn opens_locally(&self) -> bool {
        true
    }

    async fn open(&self, opening: &Opening) -> anyhow::Result<Opened> {
        Ok(Opened {
            checkout_url: format!(
                "{}/api/v1/payments/{}/sandbox/pay",
                self.public_url, opening.payment_id
            ),
            provider_ref: None,
        })
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Notification, Refusal> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(Refusal::Signature)?;
        check_signature(
            self.secret.expose_secret(),
            self.tolerance,
            header,
            body,
            now,
        )?;
        let event: Event =
            serde_json::from_slice(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let d = event.data;
        let amount = d.amount.zip(d.currency);
        let notice = match event.kind.as_str() {
            "payment.processing" => Notice::Payment {
                payment_id: d.payment_id,
                outcome: Outcome::Processing,
                amount,
            },
            "payment.succeeded" => Notice::Payment {
                payment_id: d.payment_id,
                outcome: Outcome::Succeeded,
                amount,
            },
            "payment.failed" => Notice::Payment {
                payment_id: d.payment_id,
                outcome: Outcome::Failed(d.failure_code.unwrap_or_else(|| "failed".into())),
                amount,
            },
            "refund.succeeded" | "refund.failed" => Notice::Refund {
                payment_id: d.payment_id,
                refund_id: d
                    .refund_id
                    .ok_or_else(|| Refusal::Malformed("a refund event needs refund_id".into()))?,
                succeeded: event.kind == "refund.succeeded",
            },
            other => return Err(Refusal::Malformed(format!("unknown event type {other:?}"))),
        };
        Ok(Notification {
            event_id: event.id,
            kind: event.kind,
            notice,
        })
    }

    async fn refund(&self, payment: &Payment, refund: &Refund) -> anyhow::Result<()> {
        let data = EventData {
            payment_id: payment.id,
            amount: Some(refund.amount),
            currency: Some(payment.currency.clone()),
            failure_code: None,
            refund_id: Some(refund.id),
        };
        // The event id derives from the refund id, so asking twice owes one webhook.
        let id = format!("evt_refund_{}", refund.id.simple());
        owe(
            &self.db,
            Some(id),
            "refund.succeeded",
            data,
            self.clock.now(),
        )
        .await?;
        self.wake();
        Ok(())
    }
}

/// The sandbox's answer to a charge, kept so a retried request gets it again.
pub fn charge_response(payment_id: Uuid, last4: &str) -> serde_json::Value {
    json!({"payment_id": payment_id, "card_last4": last4, "status": "accepted"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_cards_do_what_api_md_says() {
        assert_eq!(Card::from_number("4242424242424242"), Some(Card::Succeeds));
        assert_eq!(Card::from_number("4000000000000002"), Some(Card::Declined));
        assert_eq!(
            Card::from_number("4000000000009995"),
            Some(Card::InsufficientFunds)
        );
        assert_eq!(Card::from_number("5555555555554444"), None);
        assert_eq!(Card::Declined.failure(), Some("card_declined"));
    }

    #[test]
    fn a_signature_checks_only_within_the_tolerance_and_for_its_body() {
        let now = Utc::now();
        let tolerance = chrono::Duration::seconds(300);
        let header = signature("k", now.timestamp(), b"{}");
        assert!(check_signature("k", tolerance, &header, b"{}", now).is_ok());
        assert!(matches!(
            check_signature("k", tolerance, &header, b"{ }", now),
            Err(Refusal::Signature)
        ));
        assert!(matches!(
            check_signature("other", tolerance, &header, b"{}", now),
            Err(Refusal::Signature)
        ));
        let old = signature("k", now.timestamp() - 301, b"{}");
        assert!(matches!(
            check_signature("k", tolerance, &old, b"{}", now),
            Err(Refusal::Stale)
        ));
        let edge = signature("k", i64::MAX, b"{}");
        assert!(check_signature("k", tolerance, &edge, b"{}", now).is_err());
    }

    proptest::proptest! {
        /// Webhook headers and bodies come from anyone: refused or accepted, never a panic.
        #[test]
        fn any_signature_header_is_checked_without_panicking(
            header in "\\PC{0,120}",
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let _ = check_signature("k", chrono::Duration::seconds(300), &header, &body, Utc::now());
        }
    }

    #[test]
    fn a_signature_covers_the_timestamp_and_the_body() {
        let a = signature("k", 100, b"{}");
        assert!(a.starts_with("t=100,v1="));
        assert_ne!(a, signature("k", 101, b"{}"));
        assert_ne!(a, signature("k", 100, b"{ }"));
        assert_ne!(a, signature("other", 100, b"{}"));
    }
}
