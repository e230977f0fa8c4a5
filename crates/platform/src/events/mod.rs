//! The event spine: a transactional outbox per service, a relay that publishes it, two
//! interchangeable buses with at-least-once delivery, and an inbox that makes consumers
//! idempotent.
//!
//! Delivery contract, identical on both buses and checked by the shared conformance
//! suite (`tests/bus_conformance.rs`):
//! - publishing the same envelope id twice delivers it once;
//! - a durable consumer sees every event published on its subject filter, also those
//!   published while it was down;
//! - a handler error redelivers the event after a growing delay;
//! - after `max_deliveries` failed attempts the event is dead-lettered, listed by
//!   [`EventBus::dead_letters`], and the consumer moves on.

pub mod embedded;
pub mod inbox;
pub mod jetstream;
pub mod lanes;
pub mod migration;
pub mod outbox;
mod subject;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
pub use contracts::Envelope;
use serde::Serialize;

pub use subject::subject_matches;

/// Something that reacts to events. An error means "try again later".
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()>;

    /// How many aggregates' events it handles at once ([`lanes`]). One for a handler
    /// whose work is heavy and bounded elsewhere (image processing), where more at once
    /// would only hold more memory.
    fn lanes(&self) -> usize {
        lanes::LANES
    }

    /// How many events a replica takes from JetStream ahead of handling them. Each one
    /// taken starts its ack wait (30 s), after which it goes to another replica: a slow
    /// handler takes few, so none waits that long behind the others.
    fn prefetch(&self) -> usize {
        256
    }
}

/// A durable subscription: the bus remembers how far `name` got across restarts.
#[derive(Clone)]
pub struct Consumer {
    /// Durable name, unique per consuming service and source, e.g. `notifications-identity`.
    pub name: String,
    /// Event-type filter with NATS wildcards: `identity.>` or `identity.customer.*.v1`.
    /// One filter per consumer, because NATS 2.9 allows only one.
    pub filter: String,
    pub handler: Arc<dyn Handler>,
}

/// An event a consumer gave up on, for an operator to inspect.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    /// The bus's name for it, to replay or discard it by.
    pub id: String,
    pub consumer: String,
    pub event_id: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: String,
    pub dead_at: DateTime<Utc>,
}

/// What carries events between services.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes an envelope; publishing the same id again is harmless.
    async fn publish(&self, envelope: &Envelope) -> anyhow::Result<()>;
    /// Publishes `envelopes` in order and answers how many of them, from the first, the
    /// bus now holds, with the error that stopped the rest. Buses override it to send a
    /// batch in one go.
    async fn publish_batch(&self, envelopes: &[Envelope]) -> (usize, Option<anyhow::Error>) {
        for (i, envelope) in envelopes.iter().enumerate() {
            if let Err(err) = self.publish(envelope).await {
                return (i, Some(err));
            }
        }
        (envelopes.len(), None)
    }
    /// Starts delivering to `consumer` in the background until the bus is dropped or the
    /// returned task set is aborted.
    async fn subscribe(
        &self,
        consumer: Consumer,
        tasks: &crate::tasks::Tasks,
    ) -> anyhow::Result<()>;
    /// Events given up on, newest first.
    async fn dead_letters(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>>;
    /// Dead letter `id`, if there is one.
    async fn dead_letter(&self, id: &str) -> anyhow::Result<Option<DeadLetter>>;
    /// How many events are given up on.
    async fn dead_letter_count(&self) -> anyhow::Result<u64>;
    /// Hands dead letter `id` back to its consumer, with a full set of attempts; false
    /// when there is no such dead letter (replayed or discarded meanwhile).
    async fn replay_dead_letter(&self, id: &str) -> anyhow::Result<bool>;
    /// Drops dead letter `id` for good; false when there is none.
    async fn discard_dead_letter(&self, id: &str) -> anyhow::Result<bool>;
    /// Whether the bus is reachable, for `/readyz`.
    async fn ping(&self) -> anyhow::Result<()>;
}

pub type SharedBus = Arc<dyn EventBus>;

/// Hands one event to a consumer's handler, under the request id it was caused by, and
/// records how long after it occurred it was handled.
async fn deliver(consumer: &Consumer, envelope: &Envelope) -> anyhow::Result<()> {
    let request_id = envelope
        .request_id
        .clone()
        .unwrap_or_else(|| envelope.id.to_string());
    let result =
        crate::context::with_request_id(request_id, consumer.handler.handle(envelope)).await;
    if result.is_ok() {
        let delay = (Utc::now() - envelope.occurred_at)
            .to_std()
            .unwrap_or_default();
        metrics::histogram!("bus_handling_delay_seconds", "consumer" => consumer.name.clone())
            .record(delay.as_secs_f64());
    }
    result
}
