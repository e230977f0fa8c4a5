//! `/admin/shipping/zones`: where the shop ships, by country and postal-code prefix.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::{Admin, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use platform::page::Page;
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::normalise_postal;
use crate::store::{self, Zone};

const MAX_ZONES: u64 = 500;
const MAX_PREFIXES: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_zones, create_zone))
        .routes(routes!(update_zone, delete_zone))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneView {
    pub id: Uuid,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Postal codes starting with any of these (upper case, no spaces); empty covers the
    /// whole country. The longest matching prefix wins over a country-wide zone.
    pub postal_prefixes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) fn view(z: Zone) -> ZoneView {
    ZoneView {
        id: z.id,
        name: z.name,
        country: z.country,
        postal_prefixes: z.postal_prefixes,
        created_at: z.created_at,
        updated_at: z.updated_at,
        version: z.version,
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneInput {
    #[schema(schema_with = platform::schema::line_or_null::<1, 100>)]
    pub name: Option<String>,
    #[schema(schema_with = platform::schema::country_or_null)]
    pub country: Option<String>,
    #[schema(max_items = 200)]
    pub postal_prefixes: Option<Vec<String>>,
    /// The version you read, for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

/// Validates `input` over `base` (an edit) or from nothing (a create).
fn parse(input: &ZoneInput, base: Option<&Zone>) -> ApiResult<(String, String, Vec<String>)> {
    let mut f = Fields::new();
    let name = match (&input.name, base) {
        (Some(n), _) => f.text("name", n, 1, 100),
        (None, Some(b)) => Some(b.name.clone()),
        (None, None) => {
            f.add("name", "is required");
            None
        }
    };
    let country = match (&input.country, base) {
        (Some(c), _) => {
            let c = c.trim().to_ascii_uppercase();
            f.check(
                platform::validate::is_country_code(&c),
                "country",
                "must be an ISO 3166-1 alpha-2 code like US or ID",
            );
            Some(c)
        }
        (None, Some(b)) => Some(b.country.clone()),
        (None, None) => {
            f.add("country", "is required");
            None
        }
    };
    let prefixes = match (&input.postal_prefixes, base) {
        (Some(list), _) => {
            f.check(
                list.len() <= MAX_PREFIXES,
                "postal_prefixes",
                "at most 200 prefixes",
            );
            let mut out = Vec::with_capacity(list.len());
            for (i, raw) in list.iter().enumerate() {
                let p = normalise_postal(raw);
                if p.is_empty() || p.len() > 10 || raw.trim().len() > 12 {
                    f.add(
                        &format!("postal_prefixes[{i}]"),
                        "must be 1 to 10 letters or digits",
                    );
                } else if !out.contains(&p) {
                    out.push(p);
                }
            }
            out
        }
        (None, Some(b)) => b.postal_prefixes.clone(),
        (None, None) => Vec::new(),
    };
    f.finish()?;
    Ok((
        name.unwrap_or_default(),
        country.unwrap_or_default(),
        prefixes,
    ))
}

/// Every zone, by country.
#[utoipa::path(get, path = "/api/v1/admin/shipping/zones", tag = "shipping", security(("bearer" = [])),
    responses((status = 200, body = Page<ZoneView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn list_zones(
    State(s): State<AppState>,
    _admin: Staff<Admin>,
) -> ApiResult<Json<Page<ZoneView>>> {
    let items = store::zones(&s.ctx.db)
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
    /// What creating one needs: `ZoneInput` with these fields sent.
    ZoneCreate = ZoneInput { "name", "country" }
);

/// Adds a zone.
#[utoipa::path(post, path = "/api/v1/admin/shipping/zones", tag = "shipping", security(("bearer" = [])), request_body = ZoneCreate,
    responses((status = 201, body = ZoneView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn create_zone(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ZoneInput>,
) -> ApiResult<(StatusCode, Response)> {
    if input.version.is_some() {
        return Err(ApiError::field("version", "is not accepted on create"));
    }
    let (name, country, postal_prefixes) = parse(&input, None)?;
    let work = s.ctx.begin().await?;
    let now = work.now();
    let zone = Zone {
        id: Uuid::now_v7(),
        name,
        country,
        postal_prefixes,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    if store::zone_count(&work).await? >= MAX_ZONES {
        return Err(ApiError::conflict(
            "too_many_zones",
            "the shop has the most zones it may have",
        ));
    }
    store::insert_zone(&work, &zone).await?;
    let details = json!({"name": zone.name, "country": zone.country, "postal_prefixes": zone.postal_prefixes});
    work.audit(&admin, ip, "zone.created", "zone", zone.id, details)
        .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, with_etag(view(zone), 1)))
}

/// Edits a zone against the version you read.
#[utoipa::path(patch, path = "/api/v1/admin/shipping/zones/{id}", tag = "shipping", security(("bearer" = [])), request_body = ZoneInput,
    params(("id" = Uuid, Path, description = "Zone id")),
    responses((status = 200, body = ZoneView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem),
              (status = 428, body = platform::error::Problem)))]
async fn update_zone(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ZoneInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let work = s.ctx.begin().await?;
    let current = store::zone(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("zone"))?;
    // The body is judged before the version: an invalid edit is 422 whatever it was
    // based on.
    let (name, country, postal_prefixes) = parse(&input, Some(&current))?;
    if current.version != expected {
        return Err(ApiError::stale_version(current.version));
    }
    let zone = Zone {
        name,
        country,
        postal_prefixes,
        updated_at: work.now(),
        version: current.version + 1,
        ..current
    };
    if !store::update_zone(&work, &zone, expected).await? {
        return Err(ApiError::stale_version(expected));
    }
    let details = json!({"name": zone.name, "country": zone.country, "postal_prefixes": zone.postal_prefixes});
    work.audit(&admin, ip, "zone.updated", "zone", id, details)
        .await?;
    work.commit().await?;
    let version = zone.version;
    Ok(with_etag(view(zone), version))
}

/// Deletes a zone that has no rates left.
#[utoipa::path(delete, path = "/api/v1/admin/shipping/zones/{id}", tag = "shipping", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Zone id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn delete_zone(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let zone = store::zone(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("zone"))?;
    if !store::rates(&work, Some(id)).await?.is_empty() {
        return Err(ApiError::conflict(
            "zone_has_rates",
            "delete the zone's rates first",
        ));
    }
    store::delete_zone(&work, id).await?;
    let details = json!({"name": zone.name});
    work.audit(&admin, ip, "zone.deleted", "zone", id, details)
        .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
