//! Background tasks (relays, consumers, senders) owned by a running app, and the
//! process's way out.
//!
//! Shutting down goes through phases. *Draining*: `/readyz` fails so load balancers
//! stop sending work, while everything still runs. *Stopping*: no new connections are
//! taken and long waits (long polls, event streams) answer at once, so the requests in
//! flight can end. *Finishing*: once they have, tasks that finish what they hold
//! (consumers with their batch, relays with what the last requests wrote) leave at
//! their next pause. Then the rest is aborted. Anything abandoned is safe: every delivery is at-least-once and
//! every effect is committed in one transaction.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio::task::{AbortHandle, JoinHandle};

/// Where the process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Running,
    /// Shutdown has begun: not ready for new work, still doing it.
    Draining,
    /// No new connections; waits end.
    Stopping,
    /// Finishing tasks leave at their next pause.
    Finishing,
}

/// A task's name and its handle.
type Named = (&'static str, JoinHandle<()>);

#[derive(Clone)]
pub struct Tasks {
    aborted: Arc<Mutex<Vec<AbortHandle>>>,
    /// Tasks awaited (for a bounded time) when stopping, because they leave cleanly.
    finishing: Arc<Mutex<Vec<Named>>>,
    phase: Arc<watch::Sender<Phase>>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            aborted: Arc::default(),
            finishing: Arc::default(),
            phase: Arc::new(watch::channel(Phase::Running).0),
        }
    }
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns a long-running task, aborted when the app stops; an error ends it and is
    /// logged with its context.
    pub fn spawn<F>(&self, name: &'static str, fut: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = tokio::spawn(logged(name, fut));
        lock(&self.aborted).push(handle.abort_handle());
    }

    /// Spawns a long-running task that returns by itself once [`Tasks::finishing`]
    /// resolves, after finishing what it holds; [`Tasks::finish`] waits for it.
    pub fn spawn_finishing<F>(&self, name: &'static str, fut: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = tokio::spawn(logged(name, fut));
        lock(&self.finishing).push((name, handle));
    }

    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Begins shutdown: the process stops saying it is ready.
    pub fn drain(&self) {
        self.phase.send_if_modified(|p| advance(p, Phase::Draining));
    }

    /// Asks long waits to end.
    pub fn stop(&self) {
        self.phase.send_if_modified(|p| advance(p, Phase::Stopping));
    }

    pub fn is_stopping(&self) -> bool {
        self.phase() >= Phase::Stopping
    }

    /// Resolves once the process is stopping; put it beside a long wait.
    pub async fn stopping(&self) {
        self.reached(Phase::Stopping).await;
    }

    /// Resolves once finishing tasks should leave; put it beside their pause.
    pub async fn finishing(&self) {
        self.reached(Phase::Finishing).await;
    }

    async fn reached(&self, phase: Phase) {
        let mut rx = self.phase.subscribe();
        // The sender lives as long as `self`, so this cannot fail while awaited.
        let _ = rx.wait_for(|p| *p >= phase).await;
    }

    /// Asks the finishing tasks to leave, waits up to `within` for them, then aborts
    /// everything left.
    pub async fn finish(&self, within: Duration) {
        self.phase
            .send_if_modified(|p| advance(p, Phase::Finishing));
        let finishing: Vec<_> = lock(&self.finishing).drain(..).collect();
        let deadline = tokio::time::Instant::now() + within;
        for (name, mut handle) in finishing {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                tracing::warn!(task = name, "still busy when the shutdown period ended");
                handle.abort();
            }
        }
        self.abort_all();
    }

    /// Aborts every task at once.
    pub fn abort_all(&self) {
        for h in lock(&self.aborted).drain(..) {
            h.abort();
        }
        for (_, h) in lock(&self.finishing).drain(..) {
            h.abort();
        }
    }
}

fn advance(phase: &mut Phase, to: Phase) -> bool {
    let moved = *phase < to;
    if moved {
        *phase = to;
    }
    moved
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn logged(name: &'static str, fut: impl Future<Output = anyhow::Result<()>>) {
    if let Err(err) = fut.await {
        tracing::error!(
            task = name,
            error = format!("{err:#}"),
            "background task stopped"
        );
    }
}

/// What a sweep's round left for later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Nothing: the next round waits until it is woken.
    Nothing,
    /// Work that failed (a provider that did not answer) or is not due yet: looked at
    /// again after the sweep's `every`, or sooner when woken.
    Retry,
}

/// How long a sweep with nothing left waits unwoken before it looks anyway: the guard
/// against a wake that never came (a row written by another program on the same
/// database, such as `mercato seed`). A shop at rest should cost next to nothing.
const UNPROMPTED: Duration = Duration::from_secs(60);

/// Runs `round` whenever `wake` is notified, and again when what the last round left
/// is due: the shape of each sweep that finishes work a failure or a crash left behind
/// (refunds to send, payments to open, webhooks owed). A round that leaves nothing
/// makes the sweep sleep until woken, so an idle shop does not look for work every
/// few hundred milliseconds; one that fails is logged and tried again after `every`.
///
/// One replica of a service sweeps at a time (the turn `what` in its database `db`), so
/// two never take the same row to a provider side by side. A replica that finds the
/// turn taken looks again shortly: the one sweeping may have read before the row that
/// woke this one was committed.
pub async fn sweep<F, Fut>(
    what: &'static str,
    db: &DatabaseConnection,
    wake: &Notify,
    every: Duration,
    mut round: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Left>>,
{
    let mut busy = Duration::ZERO;
    loop {
        let outcome = match crate::turn::try_take(db, what).await {
            Ok(Some(turn)) => {
                busy = Duration::ZERO;
                let done = round().await;
                turn.end().await.and(done)
            }
            Ok(None) => {
                busy = (busy * 2).max(Duration::from_millis(10)).min(every);
                tokio::time::sleep(busy).await;
                continue;
            }
            Err(err) => Err(err),
        };
        let pause = match outcome {
            Ok(Left::Nothing) => UNPROMPTED,
            Ok(Left::Retry) => every,
            Err(err) => {
                tracing::warn!(
                    sweep = what,
                    error = format!("{err:#}"),
                    "sweep failed; will retry"
                );
                every
            }
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    /// Waits (boundedly) until `rounds` reaches `n`.
    async fn reaches(rounds: &AtomicUsize, n: usize) -> bool {
        tokio::time::timeout(Duration::from_secs(10), async {
            while rounds.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .is_ok()
    }

    #[tokio::test]
    async fn a_sweep_with_nothing_left_waits_to_be_woken_and_one_with_failures_retries() {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let wake = Arc::new(Notify::new());
        let rounds = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let every = Duration::from_millis(20);
        let sweeping = {
            let (wake, rounds, failing) = (wake.clone(), rounds.clone(), failing.clone());
            tokio::spawn(async move {
                sweep("test", &db, &wake, every, || {
                    rounds.fetch_add(1, Ordering::SeqCst);
                    let left = if failing.load(Ordering::SeqCst) {
                        Left::Retry
                    } else {
                        Left::Nothing
                    };
                    async move { Ok(left) }
                })
                .await
            })
        };
        assert!(reaches(&rounds, 1).await, "the first round runs at start");
        // Many retry intervals pass: a sweep with nothing left does not look again.
        tokio::time::sleep(every * 10).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 1, "an idle sweep slept");
        failing.store(true, Ordering::SeqCst);
        wake.notify_one();
        assert!(reaches(&rounds, 2).await, "a wake starts a round");
        assert!(reaches(&rounds, 5).await, "what failed is retried unwoken");
        sweeping.abort();
    }

    #[tokio::test]
    async fn the_phases_only_move_forward() {
        let tasks = Tasks::new();
        assert_eq!(tasks.phase(), Phase::Running);
        tasks.stop();
        tasks.drain();
        assert_eq!(
            tasks.phase(),
            Phase::Stopping,
            "draining comes before stopping"
        );
        assert!(tasks.is_stopping());
        tokio::time::timeout(Duration::from_secs(5), tasks.stopping())
            .await
            .expect("stopping resolves once stopped");
    }

    #[tokio::test]
    async fn finishing_tasks_end_their_work_and_the_rest_is_aborted() {
        let tasks = Tasks::new();
        let finished = Arc::new(AtomicBool::new(false));
        let aborted_ran_on = Arc::new(AtomicBool::new(false));
        {
            let (life, finished) = (tasks.clone(), finished.clone());
            tasks.spawn_finishing("polite", async move {
                life.finishing().await;
                // What it holds takes a moment, and is done before it leaves.
                tokio::time::sleep(Duration::from_millis(50)).await;
                finished.store(true, Ordering::SeqCst);
                Ok(())
            });
        }
        {
            let ran_on = aborted_ran_on.clone();
            tasks.spawn("endless", async move {
                std::future::pending::<()>().await;
                ran_on.store(true, Ordering::SeqCst);
                Ok(())
            });
        }
        tasks.spawn_finishing("stubborn", std::future::pending::<anyhow::Result<()>>());
        tokio::time::timeout(
            Duration::from_secs(10),
            tasks.finish(Duration::from_millis(500)),
        )
        .await
        .expect("finish is bounded even when a task never leaves");
        assert!(finished.load(Ordering::SeqCst), "the polite task finished");
        assert!(!aborted_ran_on.load(Ordering::SeqCst));
        assert_eq!(tasks.phase(), Phase::Finishing);
    }
}
