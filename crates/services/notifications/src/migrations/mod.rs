//! The notifications database.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(platform::events::migration::CreateOutboxAndInbox),
            Box::new(CreateMail),
        ]
    }
}

struct CreateMail;

impl MigrationName for CreateMail {
    fn name(&self) -> &str {
        "m0001_mail"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateMail {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Every mail the shop decided to send, rendered, with its delivery state.
        m.create_table(
            Table::create()
                .table("outgoing_mail")
                .col(uuid("id").primary_key())
                .col(uuid("event_id"))
                .col(string("template"))
                .col(string("recipient"))
                .col(string("subject"))
                .col(text("text_body"))
                .col(text("html_body"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outgoing_mail_due")
                .table("outgoing_mail")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("mail_attempts")
                .col(uuid("id").primary_key())
                .col(uuid("mail_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string("outcome"))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("mail_attempts_mail")
                .table("mail_attempts")
                .col("mail_id")
                .to_owned(),
        )
        .await?;
        // The dev mailbox: what the dev mailer "delivered".
        m.create_table(
            Table::create()
                .table("dev_mailbox")
                .col(uuid("id").primary_key())
                .col(uuid("mail_id").unique_key())
                .col(string("recipient"))
                .col(string("subject"))
                .col(text("text_body"))
                .col(text("html_body"))
                .col(timestamp_with_time_zone("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("dev_mailbox_recipient")
                .table("dev_mailbox")
                .col("recipient")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["dev_mailbox", "mail_attempts", "outgoing_mail"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
