//! Outgoing mail, delivery attempts and the dev mailbox.

mod entities;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use self::entities::{dev_mailbox, mail_attempt, outgoing_mail};
use crate::mailer::Mail;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A mail waiting for (another) delivery attempt.
#[derive(Clone, Debug)]
pub struct QueuedMail {
    pub id: Uuid,
    pub mail: Mail,
    pub attempts: i32,
}

pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    event_id: Uuid,
    template: &str,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    outgoing_mail::ActiveModel {
        id: Set(id),
        event_id: Set(event_id),
        template: Set(template.to_owned()),
        recipient: Set(mail.to.clone()),
        subject: Set(mail.subject.clone()),
        text_body: Set(mail.text.clone()),
        html_body: Set(mail.html.clone()),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<QueuedMail>, DbErr> {
    Ok(outgoing_mail::Entity::find()
        .filter(outgoing_mail::Column::Status.eq(PENDING))
        .filter(outgoing_mail::Column::NextAttemptAt.lte(now))
        .order_by_asc(outgoing_mail::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| QueuedMail {
            id: m.id,
            attempts: m.attempts,
            mail: Mail {
                to: m.recipient,
                subject: m.subject,
                text: m.text_body,
                html: m.html_body,
            },
        })
        .collect())
}

/// Records one attempt and moves the mail on: sent, retried later, or failed for good.
pub async fn record_attempt<C: ConnectionTrait>(
    db: &C,
    mail_id: Uuid,
    attempts: i32,
    outcome: Result<(), String>,
    next_attempt_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (status, error) = match (&outcome, next_attempt_at) {
        (Ok(()), _) => (SENT, None),
        (Err(e), Some(_)) => (PENDING, Some(e.clone())),
        (Err(e), None) => (FAILED, Some(e.clone())),
    };
    mail_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        mail_id: Set(mail_id),
        at: Set(now),
        outcome: Set(if outcome.is_ok() {
            "sent".into()
        } else {
            "failed".into()
        }),
        error: Set(error.clone()),
    }
    .insert(db)
    .await?;
    let mut update = outgoing_mail::Entity::update_many()
        .col_expr(outgoing_mail::Column::Status, Expr::value(status))
        .col_expr(outgoing_mail::Column::Attempts, Expr::value(attempts))
        .col_expr(outgoing_mail::Column::LastError, Expr::value(error))
        .filter(outgoing_mail::Column::Id.eq(mail_id));
    if let Some(at) = next_attempt_at {
        update = update.col_expr(outgoing_mail::Column::NextAttemptAt, Expr::value(at));
    }
    if outcome.is_ok() {
        update = update.col_expr(outgoing_mail::Column::SentAt, Expr::value(now));
    }
    update.exec(db).await?;
    Ok(())
}

/// A mail as the dev mailbox shows it.
#[derive(Clone, Debug)]
pub struct MailboxEntry {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: DateTime<Utc>,
}

/// Files a mail in the dev mailbox; filing the same mail twice keeps one copy.
pub async fn deliver_to_mailbox<C: ConnectionTrait>(
    db: &C,
    mail_id: Uuid,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let res = dev_mailbox::Entity::insert(dev_mailbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        mail_id: Set(mail_id),
        recipient: Set(mail.to.clone()),
        subject: Set(mail.subject.clone()),
        text_body: Set(mail.text.clone()),
        html_body: Set(mail.html.clone()),
        sent_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(dev_mailbox::Column::MailId)
            .do_nothing()
            .to_owned(),
    )
    .exec(db)
    .await;
    match res {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Newest first, optionally for one recipient, before the cursor entry.
pub async fn mailbox<C: ConnectionTrait>(
    db: &C,
    to: Option<&str>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<MailboxEntry>, DbErr> {
    let mut q = dev_mailbox::Entity::find()
        .order_by_desc(dev_mailbox::Column::Id)
        .limit(limit);
    if let Some(to) = to {
        q = q.filter(dev_mailbox::Column::Recipient.eq(to));
    }
    if let Some(before) = before {
        q = q.filter(dev_mailbox::Column::Id.lt(before));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .map(|m| MailboxEntry {
            id: m.id,
            to: m.recipient,
            subject: m.subject,
            text: m.text_body,
            html: m.html_body,
            sent_at: m.sent_at,
        })
        .collect())
}
