//! What batching must not lose: relays send batches and consumers handle them in lanes,
//! yet every event arrives once, one aggregate's events in order, a failing event is
//! retried and given up on alone, and a relay that failed halfway resumes without
//! duplicates or reordering.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;

use super::*;

/// An event of aggregate `customer` at `version`.
fn event_of(customer: Uuid, version: i64) -> Envelope {
    let e = CustomerVerified {
        customer_id: customer,
        email: format!("v{version}@b.co"),
    };
    Envelope::wrap(&e, version, Utc::now(), None).expect("wrap")
}

/// `aggregates` × `versions` events, interleaved the way concurrent sagas write them.
fn interleaved(aggregates: usize, versions: i64) -> Vec<Envelope> {
    let ids: Vec<Uuid> = (0..aggregates).map(|_| Uuid::now_v7()).collect();
    (1..=versions)
        .flat_map(|v| ids.iter().map(move |id| event_of(*id, v)))
        .collect()
}

/// Records (aggregate, version) as handled, after a random pause so that lanes finish
/// in any order; fails every delivery of `poison`.
struct Sequencer {
    seen: Mutex<Vec<(String, i64)>>,
    poison: Option<Uuid>,
}

impl Sequencer {
    fn new(poison: Option<Uuid>) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            poison,
        })
    }

    fn by_aggregate(&self) -> HashMap<String, Vec<i64>> {
        let mut out: HashMap<String, Vec<i64>> = HashMap::new();
        for (aggregate, version) in self.seen.lock().expect("lock").iter() {
            out.entry(aggregate.clone()).or_default().push(*version);
        }
        out
    }

    fn count(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }
}

#[async_trait]
impl Handler for Sequencer {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let pause = rand::thread_rng().gen_range(0..3);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if Some(envelope.id) == self.poison {
            anyhow::bail!("poison event");
        }
        self.seen
            .lock()
            .expect("lock")
            .push((envelope.aggregate_id.clone(), envelope.aggregate_version));
        Ok(())
    }
}

/// Every aggregate's versions, once each and in order: 1..=versions.
fn assert_in_order(seen: &HashMap<String, Vec<i64>>, aggregates: usize, versions: i64) {
    assert_eq!(seen.len(), aggregates, "every aggregate arrived");
    let expected: Vec<i64> = (1..=versions).collect();
    for (aggregate, got) in seen {
        assert_eq!(got, &expected, "aggregate {aggregate}");
    }
}

pub(crate) async fn many_aggregates_arrive_once_each_and_in_order_per_aggregate(h: &Harness) {
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let seq = Sequencer::new(None);
    bus.subscribe(consumer("lanes", seq.clone()), &tasks)
        .await
        .expect("subscribe");
    let events = interleaved(24, 12);
    // Several batches, as relays of busy services send them.
    for chunk in events.chunks(50) {
        let (sent, err) = bus.publish_batch(chunk).await;
        assert!(err.is_none(), "publish: {err:?}");
        assert_eq!(sent, chunk.len());
    }
    eventually("every event arrives", || seq.count() >= events.len()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_in_order(&seq.by_aggregate(), 24, 12);
    tasks.abort_all();
}

pub(crate) async fn one_failing_event_in_a_batch_is_dead_lettered_alone(h: &Harness) {
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let events = interleaved(10, 3);
    let poison = events[14].clone();
    let seq = Sequencer::new(Some(poison.id));
    bus.subscribe(consumer("one-bad", seq.clone()), &tasks)
        .await
        .expect("subscribe");
    let (sent, err) = bus.publish_batch(&events).await;
    assert!(err.is_none() && sent == events.len());
    let mut buried = false;
    for _ in 0..300 {
        let letters = bus.dead_letters(10).await.expect("dead letters");
        buried = letters.iter().any(|l| l.event_id == poison.id.to_string());
        if buried {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(buried, "the poison event is dead-lettered");
    let seen = seq.by_aggregate();
    assert_eq!(
        seq.count(),
        events.len() - 1,
        "the others applied once each"
    );
    let letters: Vec<String> = bus
        .dead_letters(10)
        .await
        .expect("dead letters")
        .into_iter()
        .filter(|l| l.consumer == "one-bad")
        .map(|l| l.event_id)
        .collect();
    assert_eq!(letters, [poison.id.to_string()], "only the poison event");
    let poisoned = seen
        .get(&poison.aggregate_id)
        .expect("its aggregate's other events");
    assert!(!poisoned.contains(&poison.aggregate_version));
    tasks.abort_all();
}

/// Takes the first `take` of a batch, then fails; with `lose_ack`, the bus keeps one more
/// than it admits (its acknowledgement was lost).
struct Flaky {
    inner: SharedBus,
    take: usize,
    lose_ack: bool,
}

#[async_trait]
impl platform::events::EventBus for Flaky {
    async fn publish(&self, envelope: &Envelope) -> anyhow::Result<()> {
        self.inner.publish(envelope).await
    }
    async fn publish_batch(&self, envelopes: &[Envelope]) -> (usize, Option<anyhow::Error>) {
        let keep = (self.take + usize::from(self.lose_ack)).min(envelopes.len());
        let (sent, err) = self.inner.publish_batch(&envelopes[..keep]).await;
        assert!(err.is_none() && sent == keep);
        (
            self.take.min(envelopes.len()),
            Some(anyhow::anyhow!("the bus went away")),
        )
    }
    async fn subscribe(&self, consumer: Consumer, tasks: &Tasks) -> anyhow::Result<()> {
        self.inner.subscribe(consumer, tasks).await
    }
    async fn dead_letters(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<platform::events::DeadLetter>> {
        self.inner.dead_letters(limit).await
    }
    async fn dead_letter(&self, id: &str) -> anyhow::Result<Option<platform::events::DeadLetter>> {
        self.inner.dead_letter(id).await
    }
    async fn dead_letter_count(&self) -> anyhow::Result<u64> {
        self.inner.dead_letter_count().await
    }
    async fn replay_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        self.inner.replay_dead_letter(id).await
    }
    async fn discard_dead_letter(&self, id: &str) -> anyhow::Result<bool> {
        self.inner.discard_dead_letter(id).await
    }
    async fn ping(&self) -> anyhow::Result<()> {
        self.inner.ping().await
    }
}

pub(crate) async fn a_failed_publish_then_a_relay_restart_delivers_once_in_order(h: &Harness) {
    let db = h.db().await;
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let seq = Sequencer::new(None);
    bus.subscribe(consumer("resume", seq.clone()), &tasks)
        .await
        .expect("subscribe");
    let customers: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for version in 1..=10 {
        for customer in &customers {
            let e = CustomerVerified {
                customer_id: *customer,
                email: format!("v{version}@b.co"),
            };
            let txn = db.begin().await.expect("begin");
            outbox::enqueue(&txn, &e, version, Utc::now())
                .await
                .expect("enqueue");
            txn.commit().await.expect("commit");
        }
    }
    let flaky: SharedBus = Arc::new(Flaky {
        inner: bus.clone(),
        take: 13,
        lose_ack: true,
    });
    let broken = Relay::new(db.clone(), flaky, Duration::from_millis(100));
    let failed = broken.publish_pending().await;
    assert!(failed.is_err(), "the relay reports the failed publish");

    // The process restarts with a working bus: the relay carries on from the failure.
    let relay = Relay::new(db.clone(), bus.clone(), Duration::from_millis(100));
    assert_eq!(
        relay.publish_pending().await.expect("publish"),
        40 - 13,
        "the rows after the failure, the one whose ack was lost included"
    );
    eventually("every event arrives", || seq.count() >= 40).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_in_order(&seq.by_aggregate(), 4, 10);
    tasks.abort_all();
}
