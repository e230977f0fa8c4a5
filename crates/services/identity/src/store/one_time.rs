//! One-time secrets: email verifications and password resets. Only hashes are stored.

use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::entities::{email_verification, password_reset};

#[derive(Clone, Debug)]
pub struct Verification {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub email: String,
    pub purpose: String,
    pub code_hash: String,
    pub failed_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

impl From<email_verification::Model> for Verification {
    fn from(m: email_verification::Model) -> Self {
        Self {
            id: m.id,
            customer_id: m.customer_id,
            email: m.email,
            purpose: m.purpose,
            code_hash: m.code_hash,
            failed_attempts: m.failed_attempts,
            created_at: m.created_at,
            expires_at: m.expires_at,
            consumed_at: m.consumed_at,
        }
    }
}

impl Verification {
    pub fn is_usable(&self, now: DateTime<Utc>, max_failures: i32) -> bool {
        self.consumed_at.is_none() && self.expires_at > now && self.failed_attempts < max_failures
    }
}

pub struct NewVerification<'a> {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub email: &'a str,
    pub purpose: &'a str,
    pub token_hash: &'a str,
    pub code_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Stores a verification and retires the customer's earlier ones, so only the newest
/// mail works.
pub async fn replace_verification<C: ConnectionTrait>(
    db: &C,
    new: NewVerification<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    email_verification::Entity::update_many()
        .col_expr(email_verification::Column::ConsumedAt, Expr::value(now))
        .filter(email_verification::Column::CustomerId.eq(new.customer_id))
        .filter(email_verification::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    email_verification::ActiveModel {
        id: Set(new.id),
        customer_id: Set(new.customer_id),
        email: Set(new.email.to_owned()),
        purpose: Set(new.purpose.to_owned()),
        token_hash: Set(new.token_hash.to_owned()),
        code_hash: Set(new.code_hash.to_owned()),
        failed_attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn verification_by_token<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
) -> Result<Option<Verification>, DbErr> {
    Ok(email_verification::Entity::find()
        .filter(email_verification::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(Into::into))
}

/// The newest verification for `email`, used or not.
pub async fn latest_verification_for_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<Verification>, DbErr> {
    Ok(email_verification::Entity::find()
        .filter(email_verification::Column::Email.eq(email))
        .order_by_desc(email_verification::Column::CreatedAt)
        .one(db)
        .await?
        .map(Into::into))
}

/// The newest verification of a customer, for the resend cool-down.
pub async fn latest_verification_for_customer<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> Result<Option<Verification>, DbErr> {
    Ok(email_verification::Entity::find()
        .filter(email_verification::Column::CustomerId.eq(customer_id))
        .order_by_desc(email_verification::Column::CreatedAt)
        .one(db)
        .await?
        .map(Into::into))
}

/// Uses up one of a verification's attempts before a code is compared. The conditional
/// update takes the row lock, so concurrent guesses queue and at most
/// `max_attempts` are ever compared; `false` means none are left.
pub async fn take_attempt<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    max_attempts: i32,
) -> Result<bool, DbErr> {
    let res = email_verification::Entity::update_many()
        .col_expr(
            email_verification::Column::FailedAttempts,
            Expr::col(email_verification::Column::FailedAttempts).add(1),
        )
        .filter(email_verification::Column::Id.eq(id))
        .filter(email_verification::Column::FailedAttempts.lt(max_attempts))
        .filter(email_verification::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Consumes a verification if it is still unused; `false` when a concurrent request won.
pub async fn consume_verification<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = email_verification::Entity::update_many()
        .col_expr(email_verification::Column::ConsumedAt, Expr::value(now))
        .filter(email_verification::Column::Id.eq(id))
        .filter(email_verification::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_reset<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    password_reset::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Reset requests for a customer since `since`, to cap how many mails one can trigger.
pub async fn resets_since<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    password_reset::Entity::find()
        .filter(password_reset::Column::CustomerId.eq(customer_id))
        .filter(password_reset::Column::CreatedAt.gt(since))
        .count(db)
        .await
}

/// Uses a reset token: succeeds once, for an unexpired token, and retires the
/// customer's other outstanding reset links. Returns the customer it belongs to.
pub async fn use_reset<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let Some(reset) = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if reset.used_at.is_some() || reset.expires_at <= now {
        return Ok(None);
    }
    let res = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::CustomerId.eq(reset.customer_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((res.rows_affected >= 1).then_some(reset.customer_id))
}
