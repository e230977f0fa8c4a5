//! The audit trail of staff actions: who did what to which resource, from where and
//! when. Each service records its own staff actions in its own database, inside the
//! transaction of the action, so an action and its record commit together.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::page::{Page, PageParams, paginate};
use crate::validate::Fields;

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

/// Which part of the trail to list; every field narrows it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only this staff member's actions.
    pub actor_id: Option<Uuid>,
    /// Only actions on this kind of entity: `product`, `order`, `staff`, …
    #[param(max_length = 40)]
    pub target_kind: Option<String>,
    /// Only actions on this entity (its id as the entries show it).
    #[param(max_length = 100)]
    pub target_id: Option<String>,
    /// Only actions at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only actions before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this entry. Entry ids are UUIDv7, ordered by time across
    /// services, so a client merging several services' trails pages through all of them
    /// with the last id it showed.
    pub before: Option<Uuid>,
}

impl AuditFilter {
    fn checked(&self) -> ApiResult<()> {
        let mut f = Fields::new();
        let long =
            |v: &Option<String>, max: usize| v.as_ref().is_some_and(|v| v.chars().count() > max);
        f.check(
            !long(&self.target_kind, 40),
            "target_kind",
            "must be at most 40 characters",
        );
        f.check(
            !long(&self.target_id, 100),
            "target_id",
            "must be at most 100 characters",
        );
        f.finish()
    }
}

const COLUMNS: [&str; 8] = [
    "id",
    "actor_id",
    "action",
    "target_kind",
    "target_id",
    "details",
    "client_ip",
    "at",
];

/// A page of the trail, newest first, narrowed by `filter`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &AuditFilter,
    page: &PageParams,
) -> ApiResult<Page<AuditEntry>> {
    filter.checked()?;
    let limit = page.limit()?;
    // The cursor and `before` both bound the page from above: the lower one holds.
    let before = match (page.position::<Uuid>()?, filter.before) {
        (Some(a), Some(b)) => Some(Ord::min(a, b)),
        (a, b) => a.or(b),
    };
    let mut query = Query::select();
    query
        .columns(COLUMNS)
        .from("audit_log")
        .and_where_option(before.map(|b| Expr::col("id").lt(b)))
        .and_where_option(filter.actor_id.map(|a| Expr::col("actor_id").eq(a)))
        .and_where_option(
            filter
                .target_kind
                .clone()
                .map(|k| Expr::col("target_kind").eq(k)),
        )
        .and_where_option(
            filter
                .target_id
                .clone()
                .map(|t| Expr::col("target_id").eq(t)),
        )
        .and_where_option(filter.from.map(|t| Expr::col("at").gte(t)))
        .and_where_option(filter.to.map(|t| Expr::col("at").lt(t)))
        .order_by("id", Order::Desc)
        .limit(limit + 1);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
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

/// A service's audit-log endpoint, `GET $path` for admins, filtered and paged like every
/// other (one macro because `utoipa::path` takes the path as a literal).
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "`crate::AppState` is the calling service's state, on purpose"
)]
macro_rules! audit_log_endpoint {
    ($handler:ident, $path:literal, $tag:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = $tag, security(("bearer" = [])),
            params(platform::page::PageParams, platform::audit::AuditFilter),
            responses((status = 200, body = platform::page::Page<platform::audit::AuditEntry>),
                      (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
                      (status = 422, body = platform::error::Problem)))]
        async fn $handler(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            _admin: platform::auth::Staff<platform::auth::Admin>,
            platform::http::ApiQuery(page): platform::http::ApiQuery<platform::page::PageParams>,
            platform::http::ApiQuery(filter): platform::http::ApiQuery<platform::audit::AuditFilter>,
        ) -> platform::error::ApiResult<axum::Json<platform::page::Page<platform::audit::AuditEntry>>> {
            Ok(axum::Json(platform::audit::list(&s.ctx.db, &filter, &page).await?))
        }
    };
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
