//! Bounded blocking work: CPU- or memory-heavy jobs (password hashing, image decoding)
//! that must not grow with the number of requests asking for them.
//!
//! A [`BoundedPool`] runs at most `concurrency` jobs at once on tokio's blocking threads
//! and lets at most `queue` more wait for a turn. A job that finds the queue full is
//! refused at once with [`ApiError::Overloaded`] (a 503 with `Retry-After`), so a flood
//! of requests costs the process a fixed amount of memory and a short wait, never a
//! thread and a buffer per request. Tokio's own blocking pool would start up to 512
//! threads, each holding what its job allocated.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How soon a refused caller is told to try again.
const RETRY_AFTER_SECS: u64 = 1;

#[derive(Clone)]
pub struct BoundedPool {
    /// What the pool does, for the refusal's message and the metrics.
    what: &'static str,
    running: Arc<Semaphore>,
    /// Jobs waiting for a turn now; never more than `queue`.
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

/// Gives back a queue place however the wait ends (a turn, or the caller went away).
struct QueuePlace(Arc<AtomicUsize>);

impl Drop for QueuePlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl BoundedPool {
    /// A pool of `concurrency` (at least 1) jobs at once and `queue` waiting.
    pub fn new(what: &'static str, concurrency: usize, queue: usize) -> Self {
        Self {
            what,
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue,
        }
    }

    /// The number of cores this process may use: the default concurrency of pools whose
    /// jobs are CPU-bound.
    pub fn cores() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    /// Runs `job` on a blocking thread once a turn is free; refuses at once when the
    /// queue is full. The turn is held until the job returns, even when the caller
    /// stops waiting, since the job's memory is in use until then.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let turn = match self.running.clone().try_acquire_owned() {
            Ok(turn) => turn,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    metrics::counter!("bounded_pool_refused_total", "pool" => self.what)
                        .increment(1);
                    return Err(ApiError::Overloaded {
                        what: self.what,
                        retry_after_secs: RETRY_AFTER_SECS,
                    });
                }
                let _place = QueuePlace(self.waiting.clone());
                self.running
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(ApiError::internal)?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            job()
        })
        .await
        .map_err(ApiError::internal)
    }
}

/// A budget of memory shared by jobs whose size is known before they start (decoding
/// an image of known dimensions). A job reserves its estimate and waits while the
/// budget is spent by others; one larger than the whole budget can never run, which
/// the caller learns before it waits.
#[derive(Clone)]
pub struct MemoryBudget {
    /// In MiB: semaphores count `u32` permits, and nothing here is finer than a MiB.
    mib: Arc<Semaphore>,
    total_mib: u32,
}

/// What a job holds while it runs. When it drops, what the job freed is given back to
/// the system (see [`set_memory_release`]), then the memory returns to the budget.
pub struct Reservation {
    _mib: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(release) = RELEASE.get() {
            release();
        }
    }
}

/// How the process's allocator gives freed memory back to the system, set once by the
/// binary. An allocator keeps freed pages a while for reuse; after a job of hundreds of
/// MiB (an image decode) in a shop that then goes quiet, "a while" was for good, and
/// the next job on another thread could add its own pages on top of them.
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what returns freed memory to the system when a [`Reservation`] ends.
pub fn set_memory_release(release: fn()) {
    let _ = RELEASE.set(release);
}

const MIB: u64 = 1024 * 1024;

impl MemoryBudget {
    pub fn new(bytes: u64) -> Self {
        let total_mib = u32::try_from(bytes / MIB).unwrap_or(u32::MAX).max(1);
        Self {
            mib: Arc::new(Semaphore::new(total_mib as usize)),
            total_mib,
        }
    }

    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total_mib) * MIB
    }

    /// Whether a job of `bytes` fits in the budget at all.
    pub fn fits(&self, bytes: u64) -> bool {
        bytes.div_ceil(MIB) <= u64::from(self.total_mib)
    }

    /// Waits until `bytes` are free and reserves them. `None` when the job is larger
    /// than the whole budget (check [`MemoryBudget::fits`] first to say why).
    pub async fn reserve(&self, bytes: u64) -> Option<Reservation> {
        let mib = u32::try_from(bytes.div_ceil(MIB)).ok()?.max(1);
        if mib > self.total_mib {
            return None;
        }
        let permit = self.mib.clone().acquire_many_owned(mib).await.ok()?;
        Some(Reservation { _mib: permit })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_past_the_running_and_waiting_bound_are_refused_at_once() {
        let pool = BoundedPool::new("testing", 2, 3);
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let jobs: Vec<_> = (0..5)
            .map(|_| {
                let (pool, held) = (pool.clone(), held.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        let held = held.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = held.recv_timeout(Duration::from_secs(10));
                    })
                    .await
                })
            })
            .collect();
        // Wait until two run and three wait.
        for _ in 0..500 {
            if pool.running.available_permits() == 0 && pool.waiting.load(Ordering::Acquire) == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let refused = pool.run(|| ()).await;

        assert!(
            matches!(
                refused,
                Err(ApiError::Overloaded {
                    what: "testing",
                    ..
                })
            ),
            "{refused:?}"
        );
        for _ in 0..5 {
            release.send(()).expect("a job listens");
        }
        for job in jobs {
            assert!(job.await.expect("joined").is_ok());
        }
        assert_eq!(pool.waiting.load(Ordering::Acquire), 0);
        assert_eq!(
            pool.run(|| 7).await.ok(),
            Some(7),
            "the pool takes work again"
        );
    }

    #[tokio::test]
    async fn a_budget_makes_big_jobs_wait_and_refuses_what_can_never_fit() {
        let budget = MemoryBudget::new(10 * MIB);
        assert!(budget.fits(10 * MIB) && !budget.fits(10 * MIB + 1));
        assert!(budget.reserve(11 * MIB).await.is_none());
        let first = budget.reserve(6 * MIB).await.expect("fits");
        let waiting = tokio::time::timeout(Duration::from_millis(100), budget.reserve(5 * MIB));
        assert!(waiting.await.is_err(), "6 + 5 MiB do not fit in 10 at once");
        drop(first);
        assert!(budget.reserve(5 * MIB).await.is_some());
    }
}
