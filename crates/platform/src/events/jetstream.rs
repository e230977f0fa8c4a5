//! NATS JetStream: the distributed topology's bus.
//!
//! Each producing service has a stream (`<NS>_IDENTITY` holds `<ns>.identity.>`), created
//! by whoever touches it first, so start-up order does not matter. Publishing sets
//! `Nats-Msg-Id` to the envelope id, and the server drops duplicates inside its window.
//! Consumers are durable pull consumers with explicit acks and a single filter subject
//! (NATS 2.9 has no multi-filter consumers). A failed handler naks with a growing delay;
//! the last failure copies the event to the `<NS>_DEADLETTER` stream with the error in its
//! headers and terminates the message, so the consumer moves on and an operator can see
//! what was given up.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::stream::{self, Stream};
use async_nats::jetstream::{self, Context};
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use futures::StreamExt;

use super::{Consumer, DeadLetter, Envelope, EventBus};
use crate::config::BusSettings;
use crate::tasks::Tasks;

/// How long a delivery may stay unacknowledged (a crashed handler) before redelivery.
const ACK_WAIT: Duration = Duration::from_secs(30);

pub struct JetStreamBus {
    client: async_nats::Client,
    js: Context,
    settings: BusSettings,
}

impl JetStreamBus {
    pub async fn connect(settings: BusSettings) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("mercato")
            .connection_timeout(Duration::from_secs(5))
            .connect(&settings.nats_url)
            .await
            .with_context(|| format!("connecting to NATS at {}", settings.nats_url))?;
        let js = jetstream::new(client.clone());
        let bus = Self {
            client,
            js,
            settings,
        };
        bus.stream("deadletter").await?;
        Ok(bus)
    }

    fn subject(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.settings.namespace)
    }

    fn stream_name(&self, source: &str) -> String {
        format!("{}_{}", self.settings.namespace, source)
            .to_ascii_uppercase()
            .replace(['.', '-'], "_")
    }

    /// The stream holding every subject that starts with `source` (the producing service).
    async fn stream(&self, source: &str) -> anyhow::Result<Stream> {
        let name = self.stream_name(source);
        self.js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("{}.{source}.>", self.settings.namespace)],
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow!("creating JetStream stream {name}: {e}"))
    }

    /// Deletes every stream of this namespace. For tests that made a namespace of their own.
    pub async fn delete_namespace(&self, sources: &[&str]) -> anyhow::Result<()> {
        for source in sources.iter().chain(["deadletter"].iter()) {
            let _ = self.js.delete_stream(self.stream_name(source)).await;
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        consumer: &str,
        msg: &jetstream::Message,
        attempts: i64,
        err: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let mut headers = HeaderMap::new();
        headers.insert("Mercato-Consumer", consumer);
        headers.insert("Mercato-Subject", msg.subject.as_str());
        headers.insert("Mercato-Attempts", attempts.to_string().as_str());
        headers.insert(
            "Mercato-Error",
            format!("{err:#}").replace(['\r', '\n'], " ").as_str(),
        );
        self.js
            .publish_with_headers(
                format!("{}.deadletter.{consumer}", self.settings.namespace),
                headers,
                msg.payload.clone(),
            )
            .await
            .map_err(|e| anyhow!("dead-lettering: {e}"))?
            .await
            .map_err(|e| anyhow!("dead-letter not acknowledged: {e}"))?;
        Ok(())
    }

    async fn handle(&self, consumer: &Consumer, msg: jetstream::Message) -> anyhow::Result<()> {
        let attempts = msg.info().map(|i| i.delivered).unwrap_or(1);
        let result = match serde_json::from_slice::<Envelope>(&msg.payload) {
            Ok(envelope) => {
                let request_id = envelope
                    .request_id
                    .clone()
                    .unwrap_or_else(|| envelope.id.to_string());
                crate::context::with_request_id(request_id, consumer.handler.handle(&envelope))
                    .await
            }
            Err(err) => Err(anyhow!(err).context("decoding event")),
        };
        match result {
            Ok(()) => msg
                .double_ack()
                .await
                .map_err(|e| anyhow!("acknowledging: {e}")),
            Err(err) if attempts >= i64::from(self.settings.max_deliveries) => {
                tracing::error!(consumer = %consumer.name, subject = %msg.subject, attempts, error = format!("{err:#}"), "event dead-lettered");
                metrics::counter!("bus_dead_letters_total", "consumer" => consumer.name.clone())
                    .increment(1);
                self.dead_letter(&consumer.name, &msg, attempts, &err)
                    .await?;
                msg.ack_with(AckKind::Term)
                    .await
                    .map_err(|e| anyhow!("terminating: {e}"))
            }
            Err(err) => {
                tracing::warn!(consumer = %consumer.name, subject = %msg.subject, attempts, error = format!("{err:#}"), "event handling failed; will retry");
                let delay = self.settings.backoff(attempts as u32);
                msg.ack_with(AckKind::Nak(Some(delay)))
                    .await
                    .map_err(|e| anyhow!("nak: {e}"))
            }
        }
    }
}

#[async_trait]
impl EventBus for JetStreamBus {
    async fn publish(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let source = envelope.event_type.split('.').next().unwrap_or_default();
        let body = serde_json::to_vec(envelope)?;
        let publish = jetstream::context::Publish::build()
            .payload(body.into())
            .message_id(envelope.id.to_string());
        let ack = match self
            .js
            .send_publish(self.subject(&envelope.event_type), publish.clone())
            .await
        {
            Ok(ack) => ack.await,
            Err(err) => Err(err),
        };
        if ack.is_err() {
            // Most likely the stream does not exist yet: create it and try once more.
            self.stream(source).await?;
            self.js
                .send_publish(self.subject(&envelope.event_type), publish)
                .await
                .map_err(|e| anyhow!("publishing {}: {e}", envelope.event_type))?
                .await
                .map_err(|e| anyhow!("publish of {} not acknowledged: {e}", envelope.event_type))?;
        }
        Ok(())
    }

    async fn subscribe(&self, consumer: Consumer, tasks: &Tasks) -> anyhow::Result<()> {
        let source = consumer
            .filter
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let stream = self.stream(&source).await?;
        let js_consumer = stream
            .get_or_create_consumer(
                &consumer.name,
                pull::Config {
                    durable_name: Some(consumer.name.clone()),
                    filter_subject: self.subject(&consumer.filter),
                    ack_policy: AckPolicy::Explicit,
                    deliver_policy: DeliverPolicy::All,
                    ack_wait: ACK_WAIT,
                    // We dead-letter ourselves after max_deliveries; the server limit is
                    // only a backstop for a handler that keeps crashing the process.
                    max_deliver: i64::from(self.settings.max_deliveries) + 2,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow!("creating consumer {}: {e}", consumer.name))?;
        let bus = Self {
            client: self.client.clone(),
            js: self.js.clone(),
            settings: self.settings.clone(),
        };
        tasks.spawn("jetstream-consumer", async move {
            loop {
                let mut messages = match js_consumer.messages().await {
                    Ok(m) => m,
                    Err(err) => {
                        tracing::warn!(consumer = %consumer.name, error = %err, "cannot pull from JetStream; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                while let Some(next) = messages.next().await {
                    match next {
                        Ok(msg) => {
                            if let Err(err) = bus.handle(&consumer, msg).await {
                                tracing::warn!(consumer = %consumer.name, error = format!("{err:#}"), "could not settle a message; it will be redelivered");
                            }
                        }
                        Err(err) => {
                            tracing::warn!(consumer = %consumer.name, error = %err, "JetStream pull failed");
                            break;
                        }
                    }
                }
            }
        });
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let mut stream = self.stream("deadletter").await?;
        let info = stream
            .info()
            .await
            .map_err(|e| anyhow!("reading dead letters: {e}"))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut out = Vec::new();
        let mut seq = last;
        while seq >= first && seq > 0 && out.len() < limit {
            if let Ok(msg) = stream.get_raw_message(seq).await {
                let header = |name: &str| {
                    msg.headers
                        .get(name)
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default()
                };
                let envelope: Option<Envelope> = serde_json::from_slice(&msg.payload).ok();
                out.push(DeadLetter {
                    consumer: header("Mercato-Consumer"),
                    event_id: envelope
                        .as_ref()
                        .map(|e| e.id.to_string())
                        .unwrap_or_default(),
                    event_type: envelope
                        .map(|e| e.event_type)
                        .unwrap_or_else(|| header("Mercato-Subject")),
                    attempts: header("Mercato-Attempts").parse().unwrap_or(0),
                    last_error: header("Mercato-Error"),
                    dead_at: Utc
                        .timestamp_opt(msg.time.unix_timestamp(), 0)
                        .single()
                        .unwrap_or_else(Utc::now),
                });
            }
            seq -= 1;
        }
        Ok(out)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            anyhow::bail!("not connected to NATS");
        }
        // A JetStream round trip, not just a socket check: fetching a stream's info fails
        // when the server runs without JetStream or its storage is unavailable.
        self.stream("deadletter").await.map(|_| ())
    }
}
