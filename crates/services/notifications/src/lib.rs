//! Notifications: every mail the shop sends.
//!
//! Owns outgoing mail with its delivery attempts, the templates, and the dev mailbox.
//! Consumes identity events (account mails) and order events (a mail to the customer at
//! each step of an order: placed, paid, shipped, delivered, cancelled, refunded), renders
//! each mail from a text and an HTML template, queues it in its own database in the
//! same transaction that records the event as handled, and a sender delivers the queue
//! with retries. Publishes nothing.

mod events;
mod http;
mod mailer;
mod migrations;
mod render;
mod sender;
mod store;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use platform::events::Consumer;
use platform::http::Probe;
use platform::service::{ServiceContext, ServiceParts, Topology};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

pub use mailer::{Mail, Mailer};
pub use migrations::Migrator;

pub const NAME: &str = "notifications";

/// Whether the dev mailbox replaces SMTP: as configured, or by default only in the
/// single-process topology without an SMTP URL on a loopback address. A shop that other
/// machines can reach must say so explicitly (`mail.dev_mailbox = true`) or configure
/// SMTP: its mails carry sign-in secrets, and a forgotten default must not keep them
/// where they are not delivered.
pub fn dev_mailbox_enabled(ctx: &ServiceContext) -> anyhow::Result<bool> {
    let mail = &ctx.settings.mail;
    if let Some(explicit) = mail.dev_mailbox {
        return Ok(explicit);
    }
    if ctx.topology != Topology::SingleProcess || mail.smtp_url.is_some() {
        return Ok(false);
    }
    let listen = ctx.settings.http.listen;
    anyhow::ensure!(
        listen.ip().is_loopback(),
        "the shop listens on {listen}, which other machines can reach, and has no SMTP server: \
         set mail.smtp_url (MERCATO_MAIL__SMTP_URL) to send mail, or mail.dev_mailbox = true \
         (MERCATO_MAIL__DEV_MAILBOX=true) to keep every mail in the dev mailbox, readable only \
         from this machine"
    );
    Ok(true)
}

pub async fn start(ctx: ServiceContext) -> anyhow::Result<ServiceParts> {
    let dev = dev_mailbox_enabled(&ctx)?;
    let mailer: Arc<dyn Mailer> = if dev {
        tracing::warn!(
            "the dev mailbox is on: no mail leaves the shop; every mail, with its verification \
             codes and password reset links, is kept and shown at GET /api/v1/dev/mailbox to \
             clients on this machine. Set mail.smtp_url before customers use the shop"
        );
        Arc::new(mailer::DevMailbox::new(ctx.db.clone(), ctx.clock.clone()))
    } else {
        let url = ctx.settings.mail.smtp_url.as_ref().context(
            "mail.smtp_url (MERCATO_MAIL__SMTP_URL) is required unless the dev mailbox is on (mail.dev_mailbox = true)",
        )?;
        Arc::new(mailer::SmtpMailer::new(
            url.expose_secret(),
            &ctx.settings.mail.from,
        )?)
    };
    tracing::info!(
        mailer = mailer.name(),
        "notifications will send mail through {}",
        mailer.name()
    );

    let wake_sender = Arc::new(Notify::new());
    let handler = Arc::new(events::MailOnEvents {
        db: ctx.db.clone(),
        clock: ctx.clock.clone(),
        links: render::Links {
            public_url: ctx.settings.http.public_url.clone(),
        },
        wake_sender: wake_sender.clone(),
    });
    // One durable consumer per source, because a NATS 2.9 consumer takes one filter;
    // both share the handler, whose inbox records every event id whichever the source.
    for (name, filter) in [
        ("notifications-identity", "identity.>"),
        ("notifications-orders", "orders.>"),
    ] {
        let consumer = Consumer {
            name: name.into(),
            filter: filter.into(),
            handler: handler.clone(),
        };
        ctx.bus.subscribe(consumer, &ctx.tasks).await?;
    }
    let sender = sender::Sender {
        db: ctx.db.clone(),
        clock: ctx.clock.clone(),
        mailer,
        max_attempts: ctx.settings.mail.max_attempts.max(1),
        bus: ctx.settings.bus.clone(),
        wake: wake_sender,
        idle: Duration::from_millis(500),
    };
    ctx.tasks.spawn("notifications-sender", sender.run());

    let db = ctx.db.clone();
    Ok(ServiceParts {
        router: http::router(ctx, dev),
        probes: vec![Probe::new("notifications.database", move || {
            let db = db.clone();
            async move { platform::db::ping(&db).await }
        })],
    })
}
