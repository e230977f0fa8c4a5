//! Staff second factors: the TOTP secret and the recovery codes (hashes only). Spending
//! a code is one conditional update, so two sign-ins racing with the same code cannot
//! both succeed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::{staff_recovery_code as code, staff_totp as totp};

#[derive(Clone, Debug)]
pub struct Totp {
    pub secret: String,
    pub confirmed: bool,
    pub last_step: i64,
}

pub async fn get<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> Result<Option<Totp>, DbErr> {
    Ok(totp::Entity::find_by_id(staff_id)
        .one(db)
        .await?
        .map(|m| Totp {
            secret: m.secret,
            confirmed: m.confirmed_at.is_some(),
            last_step: m.last_step,
        }))
}

/// Whether the member signs in with a second factor.
pub async fn enrolled<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> Result<bool, DbErr> {
    Ok(get(db, staff_id).await?.is_some_and(|t| t.confirmed))
}

/// Starts an enrolment: a new secret and codes in place of any earlier ones.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    staff_id: Uuid,
    secret: &str,
    code_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    remove(db, staff_id).await?;
    totp::Entity::insert(totp::ActiveModel {
        staff_id: Set(staff_id),
        secret: Set(secret.to_owned()),
        confirmed_at: Set(None),
        last_step: Set(0),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    code::Entity::insert_many(code_hashes.iter().map(|hash| code::ActiveModel {
        code_hash: Set(hash.clone()),
        staff_id: Set(staff_id),
        used_at: Set(None),
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Takes the code of `step`: confirms a pending enrolment (`confirm`) or spends a step
/// of an active one. False when the step is not after the last one taken, or the
/// enrolment is not in the state asked for.
pub async fn take_step<C: ConnectionTrait>(
    db: &C,
    staff_id: Uuid,
    step: i64,
    confirm: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let mut update = totp::Entity::update_many()
        .col_expr(totp::Column::LastStep, Expr::value(step))
        .filter(totp::Column::StaffId.eq(staff_id))
        .filter(totp::Column::LastStep.lt(step));
    update = match confirm {
        Some(now) => update
            .col_expr(totp::Column::ConfirmedAt, Expr::value(now))
            .filter(totp::Column::ConfirmedAt.is_null()),
        None => update.filter(totp::Column::ConfirmedAt.is_not_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Spends a recovery code; false when it is not the member's or was used before.
pub async fn spend_recovery_code<C: ConnectionTrait>(
    db: &C,
    staff_id: Uuid,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let spent = code::Entity::update_many()
        .col_expr(code::Column::UsedAt, Expr::value(now))
        .filter(code::Column::CodeHash.eq(code_hash))
        .filter(code::Column::StaffId.eq(staff_id))
        .filter(code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// Recovery codes the member has left.
pub async fn codes_left<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    code::Entity::find()
        .filter(code::Column::StaffId.eq(staff_id))
        .filter(code::Column::UsedAt.is_null())
        .count(db)
        .await
}

/// Removes the member's second factor and its codes.
pub async fn remove<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> Result<(), DbErr> {
    code::Entity::delete_many()
        .filter(code::Column::StaffId.eq(staff_id))
        .exec(db)
        .await?;
    totp::Entity::delete_by_id(staff_id).exec(db).await?;
    Ok(())
}
