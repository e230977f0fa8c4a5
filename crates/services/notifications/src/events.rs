//! What notifications does with events: queue the mail an event calls for, exactly
//! once per event (the inbox claim and the queued mail commit together).

use std::sync::Arc;

use async_trait::async_trait;
use contracts::identity::{
    PasswordChanged, PasswordResetRequested, RegistrationAttempted, StaffCreated,
    VerificationRequested,
};
use contracts::orders::{
    OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderRefunded, OrderShipped,
};
use platform::clock::Clock;
use platform::events::{Envelope, Handler};
use platform::unit::UnitOfWork;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::render::{Links, render};
use crate::store;

contracts::decoded_events! {
    /// The events that call for a mail; [`render`] says which mail each one is.
    pub(crate) enum Mailable {
        VerificationRequested(VerificationRequested),
        RegistrationAttempted(RegistrationAttempted),
        PasswordResetRequested(PasswordResetRequested),
        PasswordChanged(PasswordChanged),
        StaffCreated(StaffCreated),
        OrderPlaced(OrderPlaced),
        OrderPaid(OrderPaid),
        OrderShipped(OrderShipped),
        OrderDelivered(OrderDelivered),
        OrderCancelled(OrderCancelled),
        OrderRefunded(OrderRefunded),
    }
}

pub(crate) struct MailOnEvents {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub links: Links,
    pub wake_sender: Arc<Notify>,
}

#[async_trait]
impl Handler for MailOnEvents {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let Some((template, mail)) = render(envelope, &self.links)? else {
            return Ok(());
        };
        let work = UnitOfWork::begin(&self.db, self.clock.now(), None).await?;
        if !work.claim("notifications", envelope.id).await? {
            return Ok(());
        }
        store::enqueue(&work, envelope.id, template, &mail, work.now()).await?;
        work.commit().await?;
        tracing::info!(event.id = %envelope.id, event.type = %envelope.event_type, mail.template = template, "mail queued");
        self.wake_sender.notify_one();
        Ok(())
    }
}
