//! Delivers queued mail, recording every attempt. A failed attempt is retried with a
//! growing delay; after `max_attempts` the mail is marked failed and stays visible.

use std::sync::Arc;
use std::time::Duration;

use platform::clock::Clock;
use platform::config::BusSettings;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::mailer::Mailer;
use crate::store;

pub(crate) struct Sender {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub max_attempts: u32,
    /// The retry schedule is the bus's: one backoff policy for the whole shop.
    pub bus: BusSettings,
    pub wake: Arc<Notify>,
    pub idle: Duration,
}

impl Sender {
    pub async fn run(self) -> anyhow::Result<()> {
        loop {
            match self.send_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = format!("{err:#}"), "mail queue could not be read")
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.idle) => {}
            }
        }
    }

    async fn send_due(&self) -> anyhow::Result<usize> {
        let due = store::due(&self.db, self.clock.now(), 20).await?;
        for queued in &due {
            let attempts = queued.attempts + 1;
            let outcome = self
                .mailer
                .send(queued.id, &queued.mail)
                .await
                .map_err(|e| format!("{e:#}"));
            let now = self.clock.now();
            let retry_at = match &outcome {
                Err(_) if (attempts as u32) < self.max_attempts => Some(
                    now + chrono::Duration::from_std(self.bus.backoff(attempts as u32))
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            match &outcome {
                Ok(()) => {
                    tracing::info!(mail.id = %queued.id, mailer = self.mailer.name(), "mail sent")
                }
                Err(e) if retry_at.is_some() => {
                    tracing::warn!(mail.id = %queued.id, attempts, error = %e, "mail not sent; will retry")
                }
                Err(e) => {
                    tracing::error!(mail.id = %queued.id, attempts, error = %e, "mail failed for good")
                }
            }
            store::record_attempt(&self.db, queued.id, attempts, outcome, retry_at, now).await?;
        }
        Ok(due.len())
    }
}
