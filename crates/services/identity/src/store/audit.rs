//! The audit trail of staff actions: who did what to whom, from where, and when.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::audit;

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub client_ip: String,
    pub at: DateTime<Utc>,
}

pub struct Record<'a> {
    pub actor_id: Uuid,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: String,
    pub details: serde_json::Value,
    pub client_ip: String,
}

/// Appends an entry; call inside the transaction of the action it records.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    r: Record<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(r.actor_id),
        action: Set(r.action.to_owned()),
        target_kind: Set(r.target_kind.to_owned()),
        target_id: Set(r.target_id),
        details: Set(r.details.to_string()),
        client_ip: Set(r.client_ip),
        at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Newest first, before the cursor entry when given.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    let mut q = audit::Entity::find()
        .order_by_desc(audit::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        q = q.filter(audit::Column::Id.lt(before));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .map(|m| AuditEntry {
            id: m.id,
            actor_id: m.actor_id,
            action: m.action,
            target_kind: m.target_kind,
            target_id: m.target_id,
            details: serde_json::from_str(&m.details).unwrap_or(serde_json::Value::Null),
            client_ip: m.client_ip,
            at: m.at,
        })
        .collect())
}
