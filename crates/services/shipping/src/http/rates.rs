//! `/admin/shipping/rates`: per zone and service level, a weight-bracket table, a
//! free-shipping threshold and the estimated days.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::{Admin, Staff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ApiQuery, ClientIp, required_version, with_etag};
use platform::page::Page;
use platform::validate::{Fields, parse_currency};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::{Bracket, check_brackets};
use crate::store::{self, Rate};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rates, create_rate))
        .routes(routes!(update_rate, delete_rate))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateView {
    pub id: Uuid,
    pub zone_id: Uuid,
    pub carrier: String,
    /// Unique within the zone; what a quote offers and checkout sends back.
    pub service_code: String,
    pub name: String,
    pub currency: String,
    /// By increasing weight: a shipment costs the price of the first bracket that holds
    /// its chargeable weight; heavier than the last is not offered.
    pub brackets: Vec<Bracket>,
    /// Goods worth at least this (minor units) ship free.
    pub free_over: Option<i64>,
    pub min_days: i32,
    pub max_days: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn view(r: Rate) -> RateView {
    RateView {
        id: r.id,
        zone_id: r.zone_id,
        carrier: r.carrier,
        service_code: r.service_code,
        name: r.name,
        currency: r.currency,
        brackets: r.brackets,
        free_over: r.free_over,
        min_days: r.min_days,
        max_days: r.max_days,
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    pub zone_id: Option<Uuid>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 60>)]
    pub carrier: Option<String>,
    #[schema(pattern = "^[ \\t]*[a-zA-Z0-9_-]{1,40}[ \\t]*$")]
    pub service_code: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 100>)]
    pub name: Option<String>,
    #[schema(schema_with = platform::schema::currency_or_null)]
    pub currency: Option<String>,
    #[schema(min_items = 1, max_items = 50)]
    pub brackets: Option<Vec<Bracket>>,
    /// `null` removes the threshold on an edit.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    pub free_over: Option<Option<i64>>,
    #[schema(minimum = 0, maximum = 60)]
    pub min_days: Option<i32>,
    #[schema(minimum = 0, maximum = 60)]
    pub max_days: Option<i32>,
    pub active: Option<bool>,
    /// The version you read, for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

fn service_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_lowercase();
    if (1..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        Ok(code)
    } else {
        Err("1 to 40 letters, digits, - or _".into())
    }
}

/// Validates `input` over `base` (an edit) or from nothing (a create), all fields at once.
fn parse(
    input: &RateInput,
    base: Option<&Rate>,
    zone_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Rate> {
    let mut f = Fields::new();
    // Absent on a create is "required"; absent on an edit keeps the current value;
    // present is checked (and reports its own error).
    macro_rules! required {
        ($field:literal, $raw:expr, |$v:ident| $check:expr, |$b:ident| $keep:expr) => {
            match ($raw, base) {
                (Some($v), _) => $check,
                (None, Some($b)) => Some($keep),
                (None, None) => {
                    f.add($field, "is required");
                    None
                }
            }
        };
    }
    let carrier = required!(
        "carrier",
        input.carrier.as_deref(),
        |c| f.text("carrier", c, 1, 60),
        |b| b.carrier.clone()
    );
    let code = required!(
        "service_code",
        input.service_code.as_deref(),
        |c| f.parse("service_code", service_code(c)),
        |b| b.service_code.clone()
    );
    let name = required!(
        "name",
        input.name.as_deref(),
        |n| f.text("name", n, 1, 100),
        |b| b.name.clone()
    );
    let currency = required!(
        "currency",
        input.currency.as_deref(),
        |c| f.parse("currency", parse_currency(c)),
        |b| b.currency.clone()
    );
    let brackets = required!(
        "brackets",
        input.brackets.as_ref(),
        |list| f.parse("brackets", check_brackets(list).map(|()| list.clone())),
        |b| b.brackets.clone()
    );
    let free_over = match (input.free_over, base) {
        (Some(v), _) => v,
        (None, Some(b)) => b.free_over,
        (None, None) => None,
    };
    if let Some(v) = free_over {
        f.check(
            (0..=10_000_000_000).contains(&v),
            "free_over",
            "must be between 0 and 10000000000",
        );
    }
    let min_days = input.min_days.or(base.map(|b| b.min_days)).unwrap_or(1);
    let max_days = input
        .max_days
        .or(base.map(|b| b.max_days))
        .unwrap_or(min_days.max(1));
    f.check(
        (0..=60).contains(&min_days),
        "min_days",
        "must be between 0 and 60",
    );
    f.check(
        (min_days..=60).contains(&max_days),
        "max_days",
        "must be between min_days and 60",
    );
    f.finish()?;
    Ok(Rate {
        id: base.map_or_else(Uuid::now_v7, |b| b.id),
        zone_id,
        carrier: carrier.unwrap_or_default(),
        service_code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        currency: currency.unwrap_or_default(),
        brackets: brackets.unwrap_or_default(),
        free_over,
        min_days,
        max_days,
        active: input.active.or(base.map(|b| b.active)).unwrap_or(true),
        created_at: base.map_or(now, |b| b.created_at),
        updated_at: now,
        version: base.map_or(1, |b| b.version + 1),
    })
}

fn code_taken(e: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::field("service_code", "the zone already has a rate with this code")
    } else {
        e.into()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RateFilter {
    /// Only this zone's rates.
    pub zone_id: Option<Uuid>,
}

/// Every rate, or one zone's.
#[utoipa::path(get, path = "/api/v1/admin/shipping/rates", tag = "shipping", security(("bearer" = [])), params(RateFilter),
    responses((status = 200, body = Page<RateView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn list_rates(
    State(s): State<AppState>,
    _admin: Staff<Admin>,
    ApiQuery(filter): ApiQuery<RateFilter>,
) -> ApiResult<Json<Page<RateView>>> {
    let items = store::rates(&s.ctx.db, filter.zone_id)
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

platform::required_fields_schema!(
    /// What creating one needs: `RateInput` with these fields sent.
    RateCreate = RateInput { "zone_id", "carrier", "service_code", "name", "currency", "brackets" }
);

/// Adds a service level to a zone.
#[utoipa::path(post, path = "/api/v1/admin/shipping/rates", tag = "shipping", security(("bearer" = [])), request_body = RateCreate,
    responses((status = 201, body = RateView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn create_rate(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<RateInput>,
) -> ApiResult<(StatusCode, Response)> {
    if input.version.is_some() {
        return Err(ApiError::field("version", "is not accepted on create"));
    }
    let zone_id = input
        .zone_id
        .ok_or_else(|| ApiError::field("zone_id", "is required"))?;
    let now = s.ctx.clock.now();
    let rate = parse(&input, None, zone_id, now)?;
    let work = s.ctx.begin().await?;
    if store::zone(&work, zone_id).await?.is_none() {
        return Err(ApiError::field("zone_id", "no such zone"));
    }
    store::insert_rate(&work, &rate).await.map_err(code_taken)?;
    let details = json!({"zone_id": zone_id, "service_code": rate.service_code});
    work.audit(&admin, ip, "rate.created", "rate", rate.id, details)
        .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, with_etag(view(rate), 1)))
}

/// Edits a rate against the version you read.
#[utoipa::path(patch, path = "/api/v1/admin/shipping/rates/{id}", tag = "shipping", security(("bearer" = [])), request_body = RateInput,
    params(("id" = Uuid, Path, description = "Rate id")),
    responses((status = 200, body = RateView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem),
              (status = 428, body = platform::error::Problem)))]
async fn update_rate(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<RateInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    if input.zone_id.is_some() {
        return Err(ApiError::field(
            "zone_id",
            "a rate stays in its zone; make a new one",
        ));
    }
    let work = s.ctx.begin().await?;
    let current = store::rate(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("rate"))?;
    // The body is judged before the version: an invalid edit is 422 whatever it was
    // based on.
    let rate = parse(&input, Some(&current), current.zone_id, work.now())?;
    if current.version != expected {
        return Err(ApiError::stale_version(current.version));
    }
    if !store::update_rate(&work, &rate, expected)
        .await
        .map_err(code_taken)?
    {
        return Err(ApiError::stale_version(expected));
    }
    let details = json!({"service_code": rate.service_code, "brackets": rate.brackets, "free_over": rate.free_over});
    work.audit(&admin, ip, "rate.updated", "rate", id, details)
        .await?;
    work.commit().await?;
    let version = rate.version;
    Ok(with_etag(view(rate), version))
}

/// Deletes a rate.
#[utoipa::path(delete, path = "/api/v1/admin/shipping/rates/{id}", tag = "shipping", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Rate id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem)))]
async fn delete_rate(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let rate = store::rate(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("rate"))?;
    store::delete_rate(&work, id).await?;
    let details = json!({"zone_id": rate.zone_id, "service_code": rate.service_code});
    work.audit(&admin, ip, "rate.deleted", "rate", id, details)
        .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
