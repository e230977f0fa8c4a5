//! Customers for staff, read-only: a search by email or name, newest first and paged,
//! and one customer's profile with their addresses. Any staff role may look; every look
//! is audited (see [`crate::customers`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::StaffAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiQuery, ClientIp, with_etag};
use platform::page::{MAX_LIMIT, Page, PageParams, encode_cursor};
use platform::validate::Fields;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::addresses::AddressView;
use crate::AppState;
use crate::customers::{self, Position, Profile, Reader};
use crate::store::accounts::Customer;

/// The longest search text: a whole email address.
const MAX_QUERY: usize = 254;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers))
        .routes(routes!(get_customer))
}

/// `?q=…&cursor=…&limit=…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// Part of an email address or a name (see [`search_text`]).
    #[param(schema_with = search_text)]
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// One line of at most [`MAX_QUERY`] characters, as [`Fields::text`] reads it. The
/// schema replaces the field's own, so it carries the description too.
fn search_text() -> utoipa::openapi::schema::Object {
    let mut schema = platform::schema::line::<0, MAX_QUERY>();
    schema.max_length = Some(MAX_QUERY);
    schema.description = Some(
        "Part of an email address or a name, in any case; empty or left out lists every customer."
            .into(),
    );
    schema
}

/// A customer in the staff search.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Customer> for CustomerSummary {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
            email_verified: c.email_verified,
            created_at: c.created_at,
        }
    }
}

/// A customer's profile as staff see it, with their saved addresses (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerProfile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub version: i64,
    pub addresses: Vec<AddressView>,
}

impl From<Profile> for CustomerProfile {
    fn from(p: Profile) -> Self {
        let c = p.customer;
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
            email_verified: c.email_verified,
            created_at: c.created_at,
            version: c.version,
            addresses: p.addresses.into_iter().map(Into::into).collect(),
        }
    }
}

/// Customers, newest first, found by part of their email or name. Audited.
#[utoipa::path(get, path = "/api/v1/admin/customers", tag = "identity", security(("bearer" = [])), params(CustomerQuery),
    responses((status = 200, body = Page<CustomerSummary>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_customers(
    State(s): State<AppState>,
    staff: StaffAuth,
    ClientIp(ip): ClientIp,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> ApiResult<Json<Page<CustomerSummary>>> {
    let mut f = Fields::new();
    let needle = match q.q.as_deref() {
        Some(raw) => f.text("q", raw, 0, MAX_QUERY).unwrap_or_default(),
        None => String::new(),
    };
    let limit = q.limit.unwrap_or(platform::page::DEFAULT_LIMIT);
    f.check(
        (1..=MAX_LIMIT).contains(&limit),
        "limit",
        "must be between 1 and 100",
    );
    let page = PageParams {
        cursor: q.cursor,
        limit: q.limit,
    };
    let after = match page.position::<Position>() {
        Ok(after) => after,
        Err(_) => {
            f.add("cursor", "is not a cursor this API issued");
            None
        }
    };
    f.finish()?;
    let reader = Reader { staff: &staff, ip };
    let found = customers::search(&s, reader, &needle, after, limit).await?;
    Ok(Json(Page {
        items: found.customers.into_iter().map(Into::into).collect(),
        next_cursor: found.next.map(|p| encode_cursor(&p)),
    }))
}

/// One customer's profile and addresses. Audited.
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerProfile), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem)))]
async fn get_customer(
    State(s): State<AppState>,
    staff: StaffAuth,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let reader = Reader { staff: &staff, ip };
    let profile = customers::profile(&s, reader, id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    let version = profile.customer.version;
    Ok(with_etag(CustomerProfile::from(profile), version))
}
