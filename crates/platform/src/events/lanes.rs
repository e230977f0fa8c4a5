//! Lanes: a batch of events handled one aggregate at a time but many aggregates at once.
//! One order's events keep their order while different orders' events run side by side,
//! which is what lets a consumer keep up when many sagas move together.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use futures::StreamExt;

/// Lanes running at the same time per consumer, unless its handler says otherwise.
/// Each holds at most one database transaction, so this also bounds what one consumer
/// takes from its service's pool.
pub const LANES: usize = 8;

/// Runs `handle` on every item: items with the same key one after another in their
/// order, different keys side by side (at most `width` at once). Answers every output;
/// their order across keys is not kept.
pub async fn run<T, K, O, Fut>(
    width: usize,
    items: Vec<T>,
    key: impl Fn(&T) -> K,
    handle: impl Fn(T) -> Fut,
) -> Vec<O>
where
    K: Eq + Hash,
    Fut: Future<Output = O>,
{
    let mut lanes: Vec<Vec<T>> = Vec::new();
    let mut index: HashMap<K, usize> = HashMap::new();
    for item in items {
        let lane = *index.entry(key(&item)).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[lane].push(item);
    }
    let handle = &handle;
    futures::stream::iter(lanes)
        .map(|lane| async move {
            let mut out = Vec::with_capacity(lane.len());
            for item in lane {
                out.push(handle(item).await);
            }
            out
        })
        .buffer_unordered(width.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_key_keeps_its_order_and_keys_run_side_by_side() {
        let seen = Mutex::new(Vec::new());
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let items: Vec<(u32, u32)> = (0..40).map(|i| (i % 4, i)).collect();
        let out = run(
            LANES,
            items,
            |(k, _)| *k,
            |(k, i)| {
                let (seen, running, most) = (&seen, &running, &most);
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Later items of a key sleep less: only the lane keeps them in order.
                    tokio::time::sleep(Duration::from_millis(u64::from(20 - i / 4 * 2))).await;
                    seen.lock().unwrap().push((k, i));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            },
        )
        .await;
        assert_eq!(out.len(), 40);
        let seen = seen.into_inner().unwrap();
        for k in 0..4 {
            let of_k: Vec<u32> = seen
                .iter()
                .filter(|(key, _)| *key == k)
                .map(|(_, i)| *i)
                .collect();
            let mut sorted = of_k.clone();
            sorted.sort_unstable();
            assert_eq!(of_k, sorted, "key {k} out of order");
        }
        assert!(most.into_inner() > 1, "different keys ran side by side");
    }
}
