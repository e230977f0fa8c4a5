//! Sending mail. Two mailers behind one trait: the dev mailbox (stored in this
//! service's database and listed over HTTP) and SMTP. Production refuses to start with
//! the dev mailbox unless it is asked for explicitly.

mod dev;
mod smtp;

use async_trait::async_trait;
use uuid::Uuid;

pub use dev::DevMailbox;
pub use smtp::SmtpMailer;

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one mail. `mail_id` lets a mailer drop a duplicate of a retried send.
    async fn send(&self, mail_id: Uuid, mail: &Mail) -> anyhow::Result<()>;
    fn name(&self) -> &'static str;
}
