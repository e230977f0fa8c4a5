//! Replicas of a service sharing its PostgreSQL database take turns at a sweep: never
//! two rounds at once, and each replica gets its turns. (On SQLite one process owns the
//! file, so there is no one to take turns with.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use platform::config::BusKind;
use platform::tasks::Left;
use tokio::sync::Notify;

use super::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_sweep_at_once() {
    let Some(h) = Harness::new(BusKind::Nats) else {
        return;
    };
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut replicas = Vec::new();
    let mut rounds = Vec::new();
    for _ in 0..2 {
        let db = h.db().await;
        let (inside, most) = (inside.clone(), most.clone());
        let done = Arc::new(AtomicUsize::new(0));
        rounds.push(done.clone());
        replicas.push(tokio::spawn(async move {
            let wake = Notify::new();
            platform::tasks::sweep("test sweep", &db, &wake, Duration::from_millis(5), || {
                let (inside, most, done) = (inside.clone(), most.clone(), done.clone());
                async move {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Long enough that the other replica tries while this one sweeps.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    // As a provider that keeps failing: every round has work left.
                    Ok(Left::Retry)
                }
            })
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    replicas.iter().for_each(tokio::task::JoinHandle::abort);
    let rounds: Vec<usize> = rounds.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    assert_eq!(most.load(Ordering::SeqCst), 1, "two rounds at once");
    assert!(
        rounds.iter().all(|r| *r >= 3),
        "each replica took turns: {rounds:?}"
    );
    h.cleanup().await;
}
