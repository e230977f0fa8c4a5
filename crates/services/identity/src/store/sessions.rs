//! Sessions (refresh-token families) and their refresh tokens, stored hashed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{refresh_token, session};

#[derive(Clone, Debug)]
pub struct Session {
    pub id: Uuid,
    pub account_kind: String,
    pub account_id: Uuid,
    pub remember_me: bool,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<session::Model> for Session {
    fn from(m: session::Model) -> Self {
        Self {
            id: m.id,
            account_kind: m.account_kind,
            account_id: m.account_id,
            remember_me: m.remember_me,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
        }
    }
}

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

pub async fn create<C: ConnectionTrait>(
    db: &C,
    account_kind: &str,
    account_id: Uuid,
    remember_me: bool,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Session, DbErr> {
    let m = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_kind: Set(account_kind.to_owned()),
        account_id: Set(account_id),
        remember_me: Set(remember_me),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(db)
    .await?;
    Ok(m.into())
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Session>, DbErr> {
    Ok(session::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn add_refresh_token<C: ConnectionTrait>(
    db: &C,
    session_id: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_token::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        session_id: Set(session_id),
        created_at: Set(now),
        spent_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A presented refresh token: its session, and whether it was already used.
pub struct PresentedToken {
    pub session: Session,
    pub spent: bool,
}

pub async fn find_refresh_token<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
) -> Result<Option<PresentedToken>, DbErr> {
    let Some(token) = refresh_token::Entity::find_by_id(token_hash.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(session) = get(db, token.session_id).await? else {
        return Ok(None);
    };
    Ok(Some(PresentedToken {
        session,
        spent: token.spent_at.is_some(),
    }))
}

/// Marks a token spent if nobody spent it first. `false` means a concurrent request
/// (or an attacker) used it: the caller treats that as reuse.
pub async fn spend_refresh_token<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::SpentAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::SpentAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every live session of an account (password reset, role change, disabling),
/// except `keep` (the session making a password change).
pub async fn revoke_all<C: ConnectionTrait>(
    db: &C,
    account_kind: &str,
    account_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = session::Entity::update_many();
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    let res = update
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::AccountKind.eq(account_kind))
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
