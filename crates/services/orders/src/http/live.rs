//! Following an order while the saga moves it, without polling: a long poll on
//! `GET /orders/{id}?wait_for_change_from=<version>` and a stream of Server-Sent Events
//! on `GET /orders/{id}/events`. Both wait on the order's change hints
//! ([`platform::changes`]), so they are woken by the commit that changes the order, cost
//! no database work while nothing happens, and never hold a connection while waiting.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use platform::auth::{CustomerAuth, MaybeStaff};
use platform::changes::Watch;
use platform::error::{ApiError, ApiResult};
use platform::validate::Fields;
use serde::Deserialize;
use tokio::time::Instant;
use utoipa::IntoParams;
use uuid::Uuid;

use super::orders::view;
use crate::AppState;
use crate::domain::order::{PAYMENT_FAILED, REFUNDED, REJECTED};
use crate::store::orders::{self, Order};

/// The longest a long poll may wait, and its default.
const MAX_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(20);
/// How long one event stream stays open; the client's `EventSource` reconnects with
/// `Last-Event-ID` and carries on, so no stream (or its watch) lives forever.
const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// Statuses nothing moves an order out of: the stream ends after telling one.
const FINAL: [&str; 3] = [REJECTED, PAYMENT_FAILED, REFUNDED];

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// A long poll: answer once the order's version differs from this one (at once if
    /// it already does), or when the wait ends, with the order as it is then.
    #[param(minimum = 0)]
    pub wait_for_change_from: Option<i64>,
    /// How long a long poll waits at most, in milliseconds: 1–30000, 20000 when
    /// omitted. Without `wait_for_change_from` there is no wait and it changes nothing.
    #[param(minimum = 1, maximum = 30000)]
    pub timeout_ms: Option<u64>,
}

impl WaitQuery {
    /// The version to wait past and for how long, or `None` for an answer at once.
    pub fn wait(&self) -> ApiResult<Option<(i64, Duration)>> {
        let mut f = Fields::new();
        if let Some(ms) = self.timeout_ms {
            f.check(
                (1..=MAX_WAIT.as_millis() as u64).contains(&ms),
                "timeout_ms",
                "must be between 1 and 30000",
            );
        }
        if let Some(v) = self.wait_for_change_from {
            f.check(v >= 0, "wait_for_change_from", "must be 0 or more");
        }
        f.finish()?;
        let timeout = self.timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis);
        Ok(self.wait_for_change_from.map(|v| (v, timeout)))
    }
}

/// Who may read an order: staff (`None`) or the customer who owns it.
pub(crate) fn reader(
    staff: MaybeStaff,
    customer: Result<CustomerAuth, ApiError>,
) -> ApiResult<Option<Uuid>> {
    match (staff.0, customer) {
        (Some(_), _) => Ok(None),
        (None, Ok(me)) => Ok(Some(me.customer_id)),
        (None, Err(e)) => Err(e),
    }
}

/// The order, if `owner` (or staff, `None`) may see it; another customer's is a 404.
pub(crate) async fn readable(s: &AppState, id: Uuid, owner: Option<Uuid>) -> ApiResult<Order> {
    orders::get(&s.ctx.db, id)
        .await?
        .filter(|o| owner.is_none_or(|c| o.customer_id == c))
        .ok_or_else(|| ApiError::not_found("order"))
}

/// The order once its version is no longer `from`, or as it is when `timeout` ends.
pub(crate) async fn after_change(
    s: &AppState,
    id: Uuid,
    owner: Option<Uuid>,
    from: i64,
    timeout: Duration,
) -> ApiResult<Order> {
    let deadline = Instant::now() + timeout;
    // Watch before reading: a change committed after the read wakes the watch.
    let mut watch = s.changes.watch(id);
    loop {
        let order = readable(s, id, owner).await?;
        // A stopping process answers now; the client asks again, of another replica.
        if order.version != from
            || s.changes.closing()
            || tokio::time::timeout_at(deadline, watch.changed())
                .await
                .is_err()
        {
            return Ok(order);
        }
    }
}

/// The order's changes as Server-Sent Events: an `order` event with the whole order
/// (as `GET /orders/{id}` answers it, `id:` its version) at once and after every
/// change. The stream ends after a final status (rejected, payment failed, refunded)
/// and after five minutes; a client that reconnects with `Last-Event-ID` gets only what
/// is newer, and a 204 (which tells `EventSource` to stop) when the order has ended.
#[utoipa::path(get, path = "/api/v1/orders/{id}/events", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
           ("Last-Event-ID" = Option<i64>, Header, description = "The version last received, when reconnecting")),
    responses((status = 200, description = "`text/event-stream` of `order` events", content_type = "text/event-stream", body = String),
              (status = 204, description = "The order has ended and the client has its last version"),
              (status = 401, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
pub(super) async fn order_events(
    State(s): State<AppState>,
    staff: MaybeStaff,
    customer: Result<CustomerAuth, ApiError>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let owner = reader(staff, customer)?;
    let watch = s.changes.watch(id);
    let order = readable(&s, id, owner).await?;
    let last_sent = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    if last_sent == Some(order.version) && FINAL.contains(&order.status.as_str()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let follow = Follow {
        s,
        id,
        owner,
        watch,
        last_sent,
        first: Some(order),
        ends_at: Instant::now() + STREAM_LIFETIME,
        done: false,
    };
    let events = futures::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok::<_, Infallible>(event), f))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Tells nginx not to hold the events back in its buffer.
    response
        .headers_mut()
        .insert("x-accel-buffering", "no".parse().expect("static header"));
    Ok(response)
}

/// One event stream's position.
struct Follow {
    s: AppState,
    id: Uuid,
    owner: Option<Uuid>,
    watch: Watch,
    last_sent: Option<i64>,
    /// The order as read before the stream started, sent first.
    first: Option<Order>,
    ends_at: Instant,
    done: bool,
}

impl Follow {
    /// The next event, or `None` when the stream should end.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            let order = match self.first.take() {
                Some(order) => order,
                None => readable(&self.s, self.id, self.owner).await.ok()?,
            };
            if self.last_sent != Some(order.version) {
                self.last_sent = Some(order.version);
                self.done = FINAL.contains(&order.status.as_str());
                let version = order.version;
                let body = view(&self.s.ctx.db, order).await.ok()?;
                return Event::default()
                    .event("order")
                    .id(version.to_string())
                    .json_data(&body)
                    .ok();
            }
            // A stopping process ends the stream; `EventSource` reconnects elsewhere
            // with `Last-Event-ID`.
            if self.s.changes.closing() {
                return None;
            }
            tokio::time::timeout_at(self.ends_at, self.watch.changed())
                .await
                .ok()?;
        }
    }
}
