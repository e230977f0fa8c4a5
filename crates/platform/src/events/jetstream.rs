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

use super::{Consumer, DeadLetter, Envelope, EventBus, lanes};
use crate::config::BusSettings;
use crate::tasks::{Phase, Tasks};

/// Messages a consumer takes into one round of lanes.
const BATCH: usize = 256;
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
            .event_callback(|event| async move { connection_event(&event) })
            .connect(&settings.nats_url)
            .await
            .with_context(|| format!("connecting to NATS at {}", settings.nats_url))?;
        metrics::gauge!("bus_connected").set(1.0);
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

    /// Sends every envelope before awaiting any acknowledgement, then answers how many
    /// from the first were acknowledged.
    async fn send_together(&self, envelopes: &[Envelope]) -> usize {
        let mut acks = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let Ok(body) = serde_json::to_vec(envelope) else {
                break;
            };
            let publish = jetstream::context::Publish::build()
                .payload(body.into())
                .message_id(envelope.id.to_string());
            match self
                .js
                .send_publish(self.subject(&envelope.event_type), publish)
                .await
            {
                Ok(ack) => acks.push(ack),
                Err(_) => break,
            }
        }
        let acked =
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await;
        acked.iter().take_while(|ack| ack.is_ok()).count()
    }

    /// Handles one message and settles it: a plain ack on success (a lost ack means a
    /// redelivery, which the consumer's inbox absorbs), a delayed nak on failure, the
    /// dead-letter stream after the last attempt.
    async fn handle(
        &self,
        consumer: &Consumer,
        msg: jetstream::Message,
        decoded: Result<Envelope, serde_json::Error>,
    ) -> anyhow::Result<()> {
        let attempts = msg.info().map(|i| i.delivered).unwrap_or(1);
        let result = match decoded {
            Ok(envelope) => super::deliver(consumer, &envelope).await,
            Err(err) => Err(anyhow!(err).context("decoding event")),
        };
        match result {
            Ok(()) => msg.ack().await.map_err(|e| anyhow!("acknowledging: {e}")),
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

    async fn publish_batch(&self, envelopes: &[Envelope]) -> (usize, Option<anyhow::Error>) {
        let mut done = 0;
        while done < envelopes.len() {
            done += self.send_together(&envelopes[done..]).await;
            if done == envelopes.len() {
                break;
            }
            // The first one the server did not take, alone: `publish` creates its stream
            // when that was what was missing.
            if let Err(err) = self.publish(&envelopes[done]).await {
                return (done, Some(err));
            }
            done += 1;
        }
        (envelopes.len(), None)
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
        let life = tasks.clone();
        tasks.spawn_finishing("jetstream-consumer", async move {
            let mut failing = 0u32;
            loop {
                if life.phase() == Phase::Finishing {
                    return Ok(());
                }
                // A short heartbeat, so a pull the server forgot (it restarted) is
                // noticed, and a new one sent, within seconds.
                let pull = js_consumer
                    .stream()
                    .max_messages_per_batch(consumer.handler.prefetch().clamp(1, BATCH))
                    .heartbeat(Duration::from_secs(5))
                    .expires(Duration::from_secs(30))
                    .messages()
                    .await;
                let messages = match pull {
                    Ok(m) => {
                        failing = 0;
                        m
                    }
                    Err(err) => {
                        // Once, then every half minute: an outage is in the logs without
                        // a line per consumer per second.
                        if failing.is_multiple_of(30) {
                            tracing::warn!(consumer = %consumer.name, error = %err, "cannot pull from JetStream; retrying");
                        }
                        failing += 1;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Whatever has arrived, up to a batch, is handled in lanes by aggregate.
                let mut batches = messages.ready_chunks(BATCH);
                loop {
                    let batch = tokio::select! {
                        next = batches.next() => match next {
                            Some(batch) => batch,
                            None => break,
                        },
                        () = life.finishing() => {
                            give_back(&consumer.name, batches).await;
                            return Ok(());
                        }
                    };
                    let mut ready = Vec::with_capacity(batch.len());
                    let mut broken = false;
                    for next in batch {
                        match next {
                            Ok(msg) => {
                                let decoded = serde_json::from_slice::<Envelope>(&msg.payload);
                                ready.push((msg, decoded));
                            }
                            Err(err) => {
                                tracing::warn!(consumer = %consumer.name, error = %err, "JetStream pull failed");
                                broken = true;
                            }
                        }
                    }
                    let lane_of = |(_, decoded): &(jetstream::Message, Result<Envelope, _>)| {
                        decoded.as_ref().map(|e| e.aggregate_id.clone()).unwrap_or_default()
                    };
                    let width = consumer.handler.lanes();
                    let settle = |(msg, decoded)| bus.handle(&consumer, msg, decoded);
                    let settled = lanes::run(width, ready, lane_of, settle).await;
                    for err in settled.into_iter().filter_map(Result::err) {
                        tracing::warn!(consumer = %consumer.name, error = format!("{err:#}"), "could not settle a message; it will be redelivered");
                    }
                    if broken {
                        break;
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
                out.push(letter(seq, &msg));
            }
            seq -= 1;
        }
        Ok(out)
    }

    async fn dead_letter(&self, id: &str) -> anyhow::Result<Option<DeadLetter>> {
        let Some(seq) = id.parse::<u64>().ok().filter(|s| *s > 0) else {
            return Ok(None);
        };
        let stream = self.stream("deadletter").await?;
        Ok(stream
            .get_raw_message(seq)
            .await
            .ok()
            .map(|msg| letter(seq, &msg)))
    }

    async fn dead_letter_count(&self) -> anyhow::Result<u64> {
        let mut stream = self.stream("deadletter").await?;
        let info = stream
            .info()
            .await
            .map_err(|e| anyhow!("reading dead letters: {e}"))?;
        Ok(info.state.messages)
    }

    /// Publishes the event again on its own subject, under a message id of its own so
    /// the server's duplicate window does not swallow it, then deletes the dead letter.
    /// Every consumer of that subject receives it once more; those that handled it
    /// already find it in their inbox.
    async fn replay_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        let Some(seq) = id.parse::<u64>().ok().filter(|s| *s > 0) else {
            return Ok(false);
        };
        let stream = self.stream("deadletter").await?;
        let Ok(msg) = stream.get_raw_message(seq).await else {
            return Ok(false);
        };
        let subject = msg
            .headers
            .get("Mercato-Subject")
            .map(|v| v.as_str().to_owned())
            .context("a dead letter without its subject")?;
        let publish = jetstream::context::Publish::build()
            .payload(msg.payload.clone())
            .message_id(format!("replay-{}-{seq}", self.settings.namespace));
        self.js
            .send_publish(subject, publish)
            .await
            .map_err(|e| anyhow!("replaying a dead letter: {e}"))?
            .await
            .map_err(|e| anyhow!("replayed dead letter not acknowledged: {e}"))?;
        self.discard_dead_letter(id).await?;
        Ok(true)
    }

    async fn discard_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        let Some(seq) = id.parse::<u64>().ok().filter(|s| *s > 0) else {
            return Ok(false);
        };
        let stream = self.stream("deadletter").await?;
        Ok(stream.delete_message(seq).await.is_ok())
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

/// The connection's state in the logs and as the `bus_connected` gauge (1 or 0). The
/// client reconnects by itself for as long as it takes; meanwhile requests go on and
/// their events wait in the outboxes.
fn connection_event(event: &async_nats::Event) {
    use async_nats::Event;
    match event {
        Event::Connected => {
            metrics::gauge!("bus_connected").set(1.0);
            tracing::info!("connected to NATS again; the outboxes and consumers resume");
        }
        Event::Disconnected => {
            metrics::gauge!("bus_connected").set(0.0);
            tracing::warn!("lost the connection to NATS; events wait in the outboxes");
        }
        Event::Closed => metrics::gauge!("bus_connected").set(0.0),
        other => tracing::warn!(event = %other, "NATS"),
    }
}

/// Hands back the messages already pulled but not handled when the process finishes,
/// so another replica gets them now rather than once their ack wait ends (and, for an
/// aggregate, not after its later events).
async fn give_back<S, E>(consumer: &str, mut batches: S)
where
    S: futures::Stream<Item = Vec<Result<jetstream::Message, E>>> + Unpin,
{
    use futures::FutureExt;
    let mut handed = 0usize;
    while let Some(Some(batch)) = batches.next().now_or_never() {
        for msg in batch.into_iter().flatten() {
            if msg.ack_with(AckKind::Nak(None)).await.is_ok() {
                handed += 1;
            }
        }
    }
    if handed > 0 {
        tracing::info!(
            consumer,
            handed,
            "handed back unhandled messages on shutdown"
        );
    }
}

/// A message of the dead-letter stream as the operator sees it.
fn letter(seq: u64, msg: &jetstream::message::StreamMessage) -> DeadLetter {
    let header = |name: &str| {
        msg.headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    let envelope: Option<Envelope> = serde_json::from_slice(&msg.payload).ok();
    DeadLetter {
        id: seq.to_string(),
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
    }
}
