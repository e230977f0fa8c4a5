//! SMTP through lettre over rustls.
//!
//! The URL follows lettre's format: `smtps://user:pass@host:465` (implicit TLS),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtp://host:25` (plain, for
//! a relay on the same host).

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use super::{Mail, Mailer};

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("invalid SMTP URL")?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .with_context(|| format!("invalid sender address {from:?}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail_id: Uuid, mail: &Mail) -> anyhow::Result<()> {
        let domain = self.from.email.domain().to_owned();
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail
                .to
                .parse()
                .with_context(|| format!("invalid recipient {:?}", mail.to))?)
            .subject(&mail.subject)
            // A stable Message-ID lets receiving servers drop the copy of a retried send.
            .message_id(Some(format!("<{mail_id}@{domain}>")))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("building the message")?;
        self.transport
            .send(message)
            .await
            .context("SMTP delivery failed")?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}
