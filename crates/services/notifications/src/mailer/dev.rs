//! The dev mailbox: "delivers" into a table that `GET /api/v1/dev/mailbox` lists, so a
//! newcomer (and the tests) can read verification and reset mails without an SMTP server.

use async_trait::async_trait;
use platform::clock::Clock;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use uuid::Uuid;

use super::{Mail, Mailer};
use crate::store;

pub struct DevMailbox {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl DevMailbox {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }
}

#[async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, mail_id: Uuid, mail: &Mail) -> anyhow::Result<()> {
        store::deliver_to_mailbox(&self.db, mail_id, mail, self.clock.now()).await?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "dev-mailbox"
    }
}
