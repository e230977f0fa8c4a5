//! `POST /shipping/quote` and `GET /shipping/areas`, for anyone.

use axum::Json;
use axum::extract::State;
use platform::error::{ApiError, ApiResult, FieldError};
use platform::http::{ApiJson, ApiQuery};
use platform::page::Page;
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::quote::{self, Quote, QuoteError, QuoteItem, QuoteRequest};
use crate::store;

const MAX_ITEMS: usize = 100;
const MAX_QUANTITY: i64 = 1000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shipping_quote))
        .routes(routes!(shipping_areas))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = platform::schema::country)]
    pub country: String,
    #[schema(schema_with = platform::schema::line_or_null::<0, 20>)]
    pub postal_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    pub destination: Destination,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<QuoteItem>,
}

/// Prices every service level that ships these items to the destination, by the
/// larger of their actual and volumetric weight.
#[utoipa::path(post, path = "/api/v1/shipping/quote", tag = "shipping", request_body = QuoteInput,
    responses((status = 200, body = Quote), (status = 422, body = platform::error::Problem)))]
async fn shipping_quote(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<QuoteInput>,
) -> ApiResult<Json<Quote>> {
    let mut f = Fields::new();
    let country = input.destination.country.trim().to_ascii_uppercase();
    f.check(
        platform::validate::is_country_code(&country),
        "destination.country",
        "must be an ISO 3166-1 alpha-2 code like US or ID",
    );
    let postal_code = match input.destination.postal_code.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(code) => f.text("destination.postal_code", code, 1, 20),
    };
    f.check(
        (1..=MAX_ITEMS).contains(&input.items.len()),
        "items",
        "between 1 and 100 items",
    );
    for (i, item) in input.items.iter().enumerate() {
        f.check(
            (1..=MAX_QUANTITY).contains(&item.quantity),
            &format!("items[{i}].quantity"),
            "must be between 1 and 1000",
        );
    }
    f.finish()?;
    let req = QuoteRequest {
        country,
        postal_code,
        items: input.items,
    };
    match quote::quote(&s.ctx.db, &req).await {
        Ok(q) => Ok(Json(q)),
        Err(QuoteError::UnknownProducts(at)) => Err(ApiError::Validation(
            at.into_iter()
                .map(|i| FieldError {
                    field: format!("items[{i}].product_id"),
                    message: "no such product for sale".into(),
                })
                .collect(),
        )),
        Err(QuoteError::Db(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    /// Part of a country code, zone name or postal prefix; empty lists every area.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// A place the shop ships to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Area {
    pub country: String,
    /// The zone's name, e.g. "Alaska and Hawaii".
    pub name: String,
    /// Empty: the whole country.
    pub postal_prefixes: Vec<String>,
}

/// Destinations the shop ships to, for address forms: each zone with its country and
/// postal-code prefixes, filtered by `q`.
#[utoipa::path(get, path = "/api/v1/shipping/areas", tag = "shipping", params(AreaQuery),
    responses((status = 200, body = Page<Area>), (status = 422, body = platform::error::Problem)))]
async fn shipping_areas(
    State(s): State<AppState>,
    ApiQuery(query): ApiQuery<AreaQuery>,
) -> ApiResult<Json<Page<Area>>> {
    let q = query.q.unwrap_or_default().trim().to_lowercase();
    if q.chars().count() > 100 {
        return Err(ApiError::field("q", "must be at most 100 characters"));
    }
    let items = store::zones(&s.ctx.db)
        .await?
        .into_iter()
        .filter(|z| {
            q.is_empty()
                || z.country.to_lowercase() == q
                || z.name.to_lowercase().contains(&q)
                || z.postal_prefixes
                    .iter()
                    .any(|p| p.to_lowercase().starts_with(&q))
        })
        .map(|z| Area {
            country: z.country,
            name: z.name,
            postal_prefixes: z.postal_prefixes,
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}
