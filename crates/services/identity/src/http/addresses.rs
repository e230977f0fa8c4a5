//! The signed-in customer's shipping addresses. Another customer's address id answers
//! 404, exactly like one that does not exist.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use contracts::identity::{AddressDeleted, AddressSaved};
use platform::auth::CustomerAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, if_match, with_etag};
use platform::page::Page;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::MAX_ADDRESSES;
use crate::domain::address::{Address, AddressInput};
use crate::store::addresses::{self, StoredAddress};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_addresses, add_address))
        .routes(routes!(update_address, delete_address))
}

/// A saved shipping address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    pub id: Uuid,
    pub label: String,
    pub recipient_name: String,
    pub phone: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub note: Option<String>,
    pub version: i64,
}

impl From<StoredAddress> for AddressView {
    fn from(s: StoredAddress) -> Self {
        let a = s.address;
        Self {
            id: s.id,
            label: a.label,
            recipient_name: a.recipient_name,
            phone: a.phone,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            note: a.note,
            version: s.version,
        }
    }
}

fn saved_event(customer_id: Uuid, stored: &StoredAddress) -> AddressSaved {
    let view = AddressView::from(stored.clone());
    AddressSaved {
        customer_id,
        address_id: stored.id,
        address: serde_json::to_value(view).unwrap_or_default(),
    }
}

/// The customer's addresses, oldest first (at most 20, so one page).
#[utoipa::path(get, path = "/api/v1/me/addresses", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = Page<AddressView>), (status = 401, body = platform::error::Problem)))]
async fn list_addresses(
    State(s): State<AppState>,
    auth: CustomerAuth,
) -> ApiResult<Json<Page<AddressView>>> {
    let items = addresses::list(&s.ctx.db, auth.customer_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

platform::required_fields_schema!(
    /// What creating one needs: `AddressInput` with these fields sent.
    AddressCreate = AddressInput { "recipient_name", "phone", "line1", "city", "postal_code", "country" }
);

/// Adds a shipping address.
#[utoipa::path(post, path = "/api/v1/me/addresses", tag = "identity", security(("bearer" = [])), request_body = AddressCreate,
    responses((status = 201, body = AddressView), (status = 409, description = "Too many addresses", body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn add_address(
    State(s): State<AppState>,
    auth: CustomerAuth,
    ApiJson(input): ApiJson<AddressInput>,
) -> ApiResult<(StatusCode, Json<AddressView>)> {
    let address = Address::parse(&input, None)?;
    let work = s.ctx.begin().await?;
    // Lock the customer so concurrent additions count one after another (PostgreSQL;
    // SQLite's immediate transaction already serialises writers).
    crate::store::accounts::lock_customer(&work, auth.customer_id).await?;
    if addresses::count(&work, auth.customer_id).await? >= MAX_ADDRESSES {
        return Err(ApiError::conflict(
            "too_many_addresses",
            format!("an account keeps at most {MAX_ADDRESSES} addresses"),
        ));
    }
    let stored = addresses::insert(&work, auth.customer_id, &address, work.now()).await?;
    work.emit(&saved_event(auth.customer_id, &stored), stored.version)
        .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Edits an address; omitted fields keep their value. Send `version` or `If-Match`.
#[utoipa::path(patch, path = "/api/v1/me/addresses/{id}", tag = "identity", security(("bearer" = [])), request_body = AddressInput,
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 200, body = AddressView), (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn update_address(
    State(s): State<AppState>,
    auth: CustomerAuth,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AddressInput>,
) -> ApiResult<Response> {
    let work = s.ctx.begin().await?;
    let current = addresses::get(&work, auth.customer_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("address"))?;
    let expected = if_match(&headers)?
        .or(input.version)
        .unwrap_or(current.version);
    // The body is judged before the version: an invalid edit is 422 whatever it was
    // based on.
    let address = Address::parse(&input, Some(&current.address))?;
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    if !addresses::update(&work, auth.customer_id, id, expected, &address, work.now()).await? {
        return Err(ApiError::stale_version(current.version));
    }
    let stored = StoredAddress {
        id,
        address,
        version: expected + 1,
    };
    work.emit(&saved_event(auth.customer_id, &stored), stored.version)
        .await?;
    work.commit().await?;
    let version = stored.version;
    Ok(with_etag(AddressView::from(stored), version))
}

/// Removes an address.
#[utoipa::path(delete, path = "/api/v1/me/addresses/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 204, description = "Removed"), (status = 404, body = platform::error::Problem)))]
async fn delete_address(
    State(s): State<AppState>,
    auth: CustomerAuth,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let current = addresses::get(&work, auth.customer_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("address"))?;
    if !addresses::delete(&work, auth.customer_id, id).await? {
        return Err(ApiError::not_found("address"));
    }
    work.emit(
        &AddressDeleted {
            customer_id: auth.customer_id,
            address_id: id,
        },
        current.version + 1,
    )
    .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
