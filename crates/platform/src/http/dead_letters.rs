//! The operator's view of the bus: events a consumer gave up on, to hand back to it once
//! the cause is fixed, or to drop. Admins only; replays and discards are audited in the
//! database of the service that serves these routes.
//!
//! The bus keeps the dead letters of every service (one embedded log in the single
//! process, one dead-letter stream per namespace on JetStream), so one service serves
//! them all; `consumer` names the service and the source it was reading.

use axum::Json;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Staff, TokenVerifier};
use crate::error::{ApiError, ApiResult};
use crate::events::DeadLetter;
use crate::http::{ApiQuery, ClientIp, TrustForwardedFor};
use crate::service::ServiceContext;

/// The most dead letters one answer lists.
const MAX_LIMIT: u64 = 100;

impl FromRef<ServiceContext> for std::sync::Arc<TokenVerifier> {
    fn from_ref(ctx: &ServiceContext) -> Self {
        ctx.verifier.clone()
    }
}

impl FromRef<ServiceContext> for TrustForwardedFor {
    fn from_ref(ctx: &ServiceContext) -> Self {
        TrustForwardedFor(ctx.settings.http.trust_forwarded_for)
    }
}

/// The routes, on the context of the service that serves them.
pub fn routes() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(replay))
        .routes(routes!(discard))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// How many of the newest to list, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// The newest dead letters and how many there are in all. Replaying or discarding the
/// listed ones brings the older ones into view.
#[derive(Debug, Serialize, ToSchema)]
struct DeadLetters {
    total: u64,
    items: Vec<DeadLetter>,
}

/// Events a consumer gave up on, newest first.
#[utoipa::path(get, path = "/api/v1/admin/events/dead-letters", tag = "operations", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = DeadLetters), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn list(
    State(ctx): State<ServiceContext>,
    _admin: Staff<Admin>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<DeadLetters>> {
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
    };
    let (total, items) = tokio::try_join!(
        ctx.bus.dead_letter_count(),
        ctx.bus.dead_letters(limit as usize)
    )
    .map_err(ApiError::internal)?;
    Ok(Json(DeadLetters { total, items }))
}

/// Hands a dead letter back to its consumer with a fresh set of attempts.
#[utoipa::path(post, path = "/api/v1/admin/events/dead-letters/{id}/replay", tag = "operations", security(("bearer" = [])),
    params(("id" = String, Path, description = "The dead letter's id", max_length = 200)),
    responses((status = 204, description = "Handed back to its consumer"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn replay(
    State(ctx): State<ServiceContext>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    act(&ctx, &admin, ip, &id, Action::Replay).await
}

/// Drops a dead letter for good: its consumer never handles that event.
#[utoipa::path(post, path = "/api/v1/admin/events/dead-letters/{id}/discard", tag = "operations", security(("bearer" = [])),
    params(("id" = String, Path, description = "The dead letter's id", max_length = 200)),
    responses((status = 204, description = "Discarded"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn discard(
    State(ctx): State<ServiceContext>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    act(&ctx, &admin, ip, &id, Action::Discard).await
}

#[derive(Clone, Copy)]
enum Action {
    Replay,
    Discard,
}

/// Does `action` to dead letter `id`, with its audit record. The record is written
/// first and committed only once the bus has acted, so a refused or failed action
/// leaves none; the bus is not in the database, so a crash between the two would leave
/// an action without its record, never a record without its action.
async fn act(
    ctx: &ServiceContext,
    admin: &Staff<Admin>,
    ip: std::net::IpAddr,
    id: &str,
    action: Action,
) -> ApiResult<StatusCode> {
    if id.len() > 200 {
        return Err(ApiError::not_found("dead letter"));
    }
    let letter = ctx
        .bus
        .dead_letter(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("dead letter"))?;
    let name = match action {
        Action::Replay => "dead_letter.replayed",
        Action::Discard => "dead_letter.discarded",
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    crate::audit::record(
        &txn,
        admin,
        name,
        "dead_letter",
        id,
        json!({"consumer": letter.consumer, "event_id": letter.event_id, "event_type": letter.event_type}),
        ip,
        ctx.clock.now(),
    )
    .await?;
    let done = match action {
        Action::Replay => ctx.bus.replay_dead_letter(id).await,
        Action::Discard => ctx.bus.discard_dead_letter(id).await,
    }
    .map_err(ApiError::internal)?;
    if !done {
        return Err(ApiError::not_found("dead letter"));
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
