//! The audit trail of staff actions: who did what to which resource, from where and
//! when. Each service records its own staff actions in its own database, inside the
//! transaction of the action, so an action and its record commit together.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::page::{Page, PageParams, paginate};

/// One recorded staff action.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_id: Uuid,
    /// Dotted, entity first: `staff.created`, `product.updated`.
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub client_ip: String,
    pub at: DateTime<Utc>,
}

/// Records `action` by `actor` on `target_kind`/`target_id`; call it inside the
/// transaction of the action.
#[expect(
    clippy::too_many_arguments,
    reason = "each argument is one column of the record"
)]
pub async fn record<C: ConnectionTrait>(
    txn: &C,
    actor: &StaffAuth,
    action: &str,
    target_kind: &str,
    target_id: impl ToString,
    details: serde_json::Value,
    client_ip: IpAddr,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "INSERT INTO audit_log (id, actor_id, action, target_kind, target_id, details, client_ip, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            Uuid::now_v7().into(),
            actor.staff_id.into(),
            action.into(),
            target_kind.into(),
            target_id.to_string().into(),
            details.to_string().into(),
            client_ip.to_string().into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A page of the trail, newest first.
pub async fn list<C: ConnectionTrait>(db: &C, page: &PageParams) -> ApiResult<Page<AuditEntry>> {
    let limit = page.limit()?;
    let before = page.position::<Uuid>()?;
    let backend = db.get_database_backend();
    let (sql, values): (&str, Vec<sea_orm::Value>) = match before {
        Some(b) => (
            "SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
            vec![b.into(), ((limit + 1) as i64).into()],
        ),
        None => (
            "SELECT * FROM audit_log ORDER BY id DESC LIMIT $1",
            vec![((limit + 1) as i64).into()],
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let entries = rows
        .into_iter()
        .map(|r| {
            let details: String = r.try_get("", "details")?;
            Ok(AuditEntry {
                id: r.try_get("", "id")?,
                actor_id: r.try_get("", "actor_id")?,
                action: r.try_get("", "action")?,
                target_kind: r.try_get("", "target_kind")?,
                target_id: r.try_get("", "target_id")?,
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                client_ip: r.try_get("", "client_ip")?,
                at: r.try_get("", "at")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(paginate(entries, limit, |e| e.id, |e| e))
}

/// The `audit_log` table, for the migrator of every service that records staff actions.
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m0000_platform_audit_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .if_not_exists()
                    .col(uuid("id").primary_key())
                    .col(uuid("actor_id"))
                    .col(string("action"))
                    .col(string("target_kind"))
                    .col(string("target_id"))
                    .col(text("details"))
                    .col(string("client_ip"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_log").to_owned())
            .await
    }
}
