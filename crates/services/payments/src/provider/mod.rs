//! Payment providers behind one interface: open a payment, read a webhook, ask for a
//! refund. What a provider says happened reaches a payment only through a verified
//! webhook, never through the answer to a call we made.

pub mod midtrans;
pub mod sandbox;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Outcome;
use crate::store::{Payment, Refund};

/// A payment to open at the provider.
#[derive(Clone, Debug)]
pub struct Opening {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount: i64,
    pub currency: String,
}

/// Where the customer pays, and the provider's reference when it gives one.
#[derive(Clone, Debug)]
pub struct Opened {
    pub checkout_url: String,
    pub provider_ref: Option<String>,
}

/// What a verified webhook says.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    Payment {
        payment_id: Uuid,
        outcome: Outcome,
        /// The amount and currency the provider took, when it says.
        amount: Option<(i64, String)>,
    },
    Refund {
        payment_id: Uuid,
        refund_id: Uuid,
        succeeded: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The provider's id for this event: applied once, whatever is redelivered.
    pub event_id: String,
    /// The provider's name for the event, for the record.
    pub kind: String,
    pub notice: Notice,
}

/// Why a webhook was refused; a refused webhook changes nothing.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// No signature, or one that does not match.
    Signature,
    /// A valid signature on a timestamp outside the tolerance: a replay.
    Stale,
    /// Signed, but not something we understand.
    Malformed(String),
}

#[async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Opens a payment; called again with the same payment after a crash, so the
    /// provider must treat the payment id as the idempotency key.
    async fn open(&self, opening: &Opening) -> anyhow::Result<Opened>;
    /// Whether `open` answers without calling anyone (the sandbox). Such a payment is
    /// opened in the transaction that records it; one that calls out is opened by the
    /// sweep, so that a provider that is down holds up no event.
    fn opens_locally(&self) -> bool {
        false
    }
    /// Checks a webhook's signature and freshness and reads it.
    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Notification, Refusal>;
    /// Asks the provider to give back `refund.amount`; the outcome arrives by webhook.
    /// Called again after a crash, so the refund id is the idempotency key.
    async fn refund(&self, payment: &Payment, refund: &Refund) -> anyhow::Result<()>;
}

/// The providers this shop can use, and the one new payments go to.
#[derive(Clone)]
pub struct Providers {
    by_name: BTreeMap<&'static str, Arc<dyn Provider>>,
    default: &'static str,
}

impl Providers {
    pub fn new(providers: Vec<Arc<dyn Provider>>, default: &str) -> anyhow::Result<Self> {
        let by_name: BTreeMap<_, _> = providers.into_iter().map(|p| (p.name(), p)).collect();
        let default = by_name
            .keys()
            .copied()
            .find(|n| *n == default)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "payments.provider {default:?} is not one of {:?}",
                    by_name.keys().collect::<Vec<_>>()
                )
            })?;
        Ok(Self { by_name, default })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.by_name.get(name)
    }

    pub fn default_provider(&self) -> &Arc<dyn Provider> {
        &self.by_name[self.default]
    }
}
