//! Background tasks (relays, consumers, senders) owned by a running app: when the app
//! handle is dropped, they stop. Anything they were doing is safe to abandon because
//! every delivery is at-least-once.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::AbortHandle;

#[derive(Clone, Default)]
pub struct Tasks {
    handles: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns a long-running task; an error ends it and is logged with its context.
    pub fn spawn<F>(&self, name: &'static str, fut: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = tokio::spawn(async move {
            if let Err(err) = fut.await {
                tracing::error!(
                    task = name,
                    error = format!("{err:#}"),
                    "background task stopped"
                );
            }
        });
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle.abort_handle());
    }

    pub fn abort_all(&self) {
        for h in self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            h.abort();
        }
    }
}

/// Runs `round` whenever `wake` is notified and at least every `every`, without end: the
/// shape of each sweep that finishes work a failure or a crash left behind (refunds to
/// send, payments to open, webhooks owed). A failed round is logged and the next one
/// tries again.
pub async fn sweep<F, Fut>(
    what: &'static str,
    wake: &Notify,
    every: Duration,
    mut round: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    loop {
        if let Err(err) = round().await {
            tracing::warn!(
                sweep = what,
                error = format!("{err:#}"),
                "sweep failed; will retry"
            );
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}
