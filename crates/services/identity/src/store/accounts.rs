//! Customer and staff accounts.

use chrono::{DateTime, Utc};
use contracts::claims::StaffRole;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{customer, staff};

#[derive(Clone, Debug)]
pub struct Customer {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<customer::Model> for Customer {
    fn from(m: customer::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            name: m.name,
            password_hash: m.password_hash,
            email_verified: m.email_verified,
            created_at: m.created_at,
            version: m.version,
        }
    }
}

pub async fn customer_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<Customer>, DbErr> {
    Ok(customer::Entity::find()
        .filter(customer::Column::Email.eq(email))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn customer<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Customer>, DbErr> {
    Ok(customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Into::into))
}

/// Customers newest first (by `created_at`, then id), after the `(created_at, id)`
/// position `after`, at most `limit`; with `needle`, only those whose email or name
/// contains it, ignoring case.
///
/// `needle` comes lowercased and the columns are lowered in SQL, since `ILIKE` is not
/// portable. SQLite's `LOWER` folds ASCII letters only, so there a non-ASCII letter
/// matches only as written in lower case (`ä` finds "Jä", not "Ä"); PostgreSQL folds
/// every letter. `%`, `_` and the escape character are escaped, so the needle matches
/// as plain text. The substring match reads every row: fine for a staff search.
pub async fn search_customers<C: ConnectionTrait>(
    db: &C,
    needle: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Customer>, DbErr> {
    let mut q = customer::Entity::find()
        .order_by_desc(customer::Column::CreatedAt)
        .order_by_desc(customer::Column::Id)
        .limit(limit);
    if let Some(needle) = needle.filter(|n| !n.is_empty()) {
        let pattern = format!("%{}%", escape_like(needle));
        let contains = |column: customer::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape(LIKE_ESCAPE))
        };
        q = q.filter(
            Condition::any()
                .add(contains(customer::Column::Email))
                .add(contains(customer::Column::Name)),
        );
    }
    if let Some((at, id)) = after {
        q = q.filter(
            Condition::any()
                .add(customer::Column::CreatedAt.lt(at))
                .add(
                    Condition::all()
                        .add(customer::Column::CreatedAt.eq(at))
                        .add(customer::Column::Id.lt(id)),
                ),
        );
    }
    Ok(q.all(db).await?.into_iter().map(Into::into).collect())
}

/// Not a backslash: PostgreSQL and SQLite would disagree on it inside string literals.
const LIKE_ESCAPE: char = '!';

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// Takes the customer's row lock until the transaction ends (`FOR UPDATE`; a no-op on
/// SQLite, whose write transactions are serialised anyway).
pub async fn lock_customer<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    customer::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?;
    Ok(())
}

pub async fn insert_customer<C: ConnectionTrait>(
    db: &C,
    email: &str,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Customer, DbErr> {
    let model = customer::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        email_verified: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?;
    Ok(model.into())
}

/// The fields of a customer that can change together. `None` leaves a field alone.
#[derive(Default)]
pub struct CustomerChange<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: Option<bool>,
    pub password_hash: Option<&'a str>,
}

/// Applies `change` if the customer is still at `expected_version`; returns the new
/// version, or `None` when another write got there first.
pub async fn update_customer<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    change: CustomerChange<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut update = customer::Entity::update_many()
        .col_expr(customer::Column::Version, Expr::value(expected_version + 1))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(id))
        .filter(customer::Column::Version.eq(expected_version));
    if let Some(name) = change.name {
        update = update.col_expr(customer::Column::Name, Expr::value(name));
    }
    if let Some(email) = change.email {
        update = update.col_expr(customer::Column::Email, Expr::value(email));
    }
    if let Some(v) = change.email_verified {
        update = update.col_expr(customer::Column::EmailVerified, Expr::value(v));
    }
    if let Some(h) = change.password_hash {
        update = update.col_expr(customer::Column::PasswordHash, Expr::value(h));
    }
    let res = update.exec(db).await?;
    Ok((res.rows_affected == 1).then_some(expected_version + 1))
}

#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub password_hash: String,
    pub is_bootstrap: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<staff::Model> for StaffMember {
    fn from(m: staff::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            name: m.name,
            // Roles are written only from `StaffRole`, so an unknown one means a newer
            // binary wrote it; the least powerful role is the safe reading.
            role: StaffRole::parse(&m.role).unwrap_or(StaffRole::Finance),
            password_hash: m.password_hash,
            is_bootstrap: m.is_bootstrap,
            disabled_at: m.disabled_at,
            created_at: m.created_at,
            version: m.version,
        }
    }
}

pub async fn staff_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<StaffMember>, DbErr> {
    Ok(staff::Entity::find()
        .filter(staff::Column::Email.eq(email))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn staff_member<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<StaffMember>, DbErr> {
    Ok(staff::Entity::find_by_id(id).one(db).await?.map(Into::into))
}

/// Staff in creation order after `after`, at most `limit`.
pub async fn list_staff<C: ConnectionTrait>(
    db: &C,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<StaffMember>, DbErr> {
    let mut q = staff::Entity::find()
        .order_by_asc(staff::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        q = q.filter(staff::Column::Id.gt(after));
    }
    Ok(q.all(db).await?.into_iter().map(Into::into).collect())
}

pub async fn any_bootstrap_admin<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    Ok(staff::Entity::find()
        .filter(staff::Column::IsBootstrap.eq(true))
        .one(db)
        .await?
        .is_some())
}

pub struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: StaffRole,
    pub password_hash: &'a str,
    pub is_bootstrap: bool,
}

pub async fn insert_staff<C: ConnectionTrait>(
    db: &C,
    new: NewStaff<'_>,
    now: DateTime<Utc>,
) -> Result<StaffMember, DbErr> {
    let model = staff::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.to_owned()),
        name: Set(new.name.to_owned()),
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(new.password_hash.to_owned()),
        is_bootstrap: Set(new.is_bootstrap),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?;
    Ok(model.into())
}

#[derive(Default)]
pub struct StaffChange<'a> {
    pub name: Option<&'a str>,
    pub role: Option<StaffRole>,
    pub password_hash: Option<&'a str>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Applies `change` at `expected_version`; `None` when the row moved on meanwhile.
pub async fn update_staff<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expected_version: i64,
    change: StaffChange<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let mut update = staff::Entity::update_many()
        .col_expr(staff::Column::Version, Expr::value(expected_version + 1))
        .col_expr(staff::Column::UpdatedAt, Expr::value(now))
        .filter(staff::Column::Id.eq(id))
        .filter(staff::Column::Version.eq(expected_version));
    if let Some(name) = change.name {
        update = update.col_expr(staff::Column::Name, Expr::value(name));
    }
    if let Some(role) = change.role {
        update = update.col_expr(staff::Column::Role, Expr::value(role.as_str()));
    }
    if let Some(h) = change.password_hash {
        update = update.col_expr(staff::Column::PasswordHash, Expr::value(h));
    }
    if let Some(at) = change.disabled_at {
        update = update.col_expr(staff::Column::DisabledAt, Expr::value(at));
    }
    let res = update.exec(db).await?;
    Ok((res.rows_affected == 1).then_some(expected_version + 1))
}
