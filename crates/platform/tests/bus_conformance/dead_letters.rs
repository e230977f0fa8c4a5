//! What an operator does with a dead letter: hand it back to its consumer, which then
//! handles it, or discard it, so it is never handled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use contracts::Envelope;
use platform::events::{DeadLetter, Handler, SharedBus};
use platform::tasks::Tasks;
use uuid::Uuid;

use super::{Harness, consumer, event};

/// Fails every event until it is mended.
#[derive(Default)]
struct Broken {
    mended: AtomicBool,
    handled: Mutex<Vec<Uuid>>,
}

impl Broken {
    fn handled(&self) -> Vec<Uuid> {
        self.handled.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Handler for Broken {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        if !self.mended.load(Ordering::SeqCst) {
            anyhow::bail!("the handler is broken");
        }
        self.handled.lock().expect("lock").push(envelope.id);
        Ok(())
    }
}

async fn letters_once(bus: &SharedBus, n: usize) -> Vec<DeadLetter> {
    for _ in 0..150 {
        let letters = bus.dead_letters(10).await.expect("dead letters");
        if letters.len() >= n {
            return letters;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} dead letters never appeared");
}

pub(crate) async fn a_dead_letter_is_replayed_to_its_consumer_or_discarded_for_good(h: &Harness) {
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let handler = Arc::new(Broken::default());
    bus.subscribe(consumer("mended", handler.clone()), &tasks)
        .await
        .expect("subscribe");
    let (replayed, discarded) = (event(), event());
    bus.publish(&replayed).await.expect("publish");
    bus.publish(&discarded).await.expect("publish");
    let letters = letters_once(&bus, 2).await;
    assert_eq!(bus.dead_letter_count().await.expect("count"), 2);
    let id_of = |event: &Envelope| {
        letters
            .iter()
            .find(|l| l.event_id == event.id.to_string())
            .map(|l| l.id.clone())
            .unwrap_or_else(|| panic!("no dead letter for {}: {letters:?}", event.id))
    };
    let (again, gone) = (id_of(&replayed), id_of(&discarded));
    assert_ne!(again, gone);

    handler.mended.store(true, Ordering::SeqCst);
    assert!(bus.replay_dead_letter(&again).await.expect("replay"));
    super::eventually("the replayed event is handled", || {
        handler.handled().contains(&replayed.id)
    })
    .await;
    assert!(
        !bus.replay_dead_letter(&again).await.expect("replay again"),
        "a replayed dead letter is no longer there"
    );
    assert!(bus.discard_dead_letter(&gone).await.expect("discard"));
    assert!(!bus.discard_dead_letter(&gone).await.expect("discard again"));
    assert_eq!(bus.dead_letter_count().await.expect("count"), 0);
    assert!(bus.dead_letters(10).await.expect("letters").is_empty());

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        handler.handled(),
        vec![replayed.id],
        "the discarded event is never handled"
    );
    for unknown in ["", "nope", "999999", "999999-mended", "1-nobody"] {
        assert!(!bus.replay_dead_letter(unknown).await.expect("replay"));
        assert!(!bus.discard_dead_letter(unknown).await.expect("discard"));
    }
    tasks.abort_all();
}
