//! Staff management by admins, and the audit trail of what staff did.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use contracts::claims::StaffRole;
use platform::auth::{Admin, Staff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ApiQuery, ClientIp, if_match, with_etag};
use platform::page::{Page, PageParams, paginate};
use platform::unit::UnitOfWork;
use platform::validate::{Fields, parse_email};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::password::Password;
use crate::sessions::STAFF;
use crate::store::accounts::{self, NewStaff, StaffChange, StaffMember};
use crate::store::{sessions, two_factor};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(get_staff, update_staff, disable_staff))
        .routes(routes!(list_audit_log))
}

/// A staff account as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    /// The first admin, made with `mercato admin create-staff`; cannot be disabled.
    pub is_bootstrap: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<StaffMember> for StaffView {
    fn from(m: StaffMember) -> Self {
        Self {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role,
            is_bootstrap: m.is_bootstrap,
            disabled: m.disabled_at.is_some(),
            created_at: m.created_at,
            version: m.version,
        }
    }
}

fn parse_role(f: &mut Fields, raw: &str) -> Option<StaffRole> {
    f.parse(
        "role",
        StaffRole::parse(raw).ok_or_else(|| "must be one of admin, inventory, finance".to_owned()),
    )
}

/// Staff accounts, oldest first.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<StaffView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn list_staff(
    State(s): State<AppState>,
    _admin: Staff<Admin>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<StaffView>>> {
    let limit = page.limit()?;
    let rows = accounts::list_staff(&s.ctx.db, page.position::<Uuid>()?, limit + 1).await?;
    Ok(Json(paginate(rows, limit, |m| m.id, StaffView::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffRequest {
    #[schema(schema_with = platform::schema::email)]
    pub email: String,
    #[schema(schema_with = platform::schema::line::<1, 100>)]
    pub name: String,
    /// `admin`, `inventory` or `finance`.
    #[schema(schema_with = staff_role)]
    pub role: String,
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

fn staff_role() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated(&["admin", "inventory", "finance"])
}

fn staff_role_or_null() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated_or_null(&["admin", "inventory", "finance"])
}

/// Creates a staff account.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])), request_body = CreateStaffRequest,
    responses((status = 201, body = StaffView), (status = 403, body = platform::error::Problem), (status = 409, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn create_staff(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateStaffRequest>,
) -> ApiResult<(StatusCode, Json<StaffView>)> {
    let mut f = Fields::new();
    let email = f.parse("email", parse_email(&req.email));
    let name = f.text("name", &req.name, 1, 100);
    let role = parse_role(&mut f, &req.role);
    let pw = f.parse(
        "password",
        Password::parse(&req.password, &req.email, &req.name),
    );
    f.finish()?;
    let (Some(email), Some(name), Some(role), Some(pw)) = (email, name, role, pw) else {
        return Err(ApiError::field("body", "is invalid"));
    };
    let hash = s.hasher.hash(&pw).await?;
    let work = s.ctx.begin().await?;
    let new = NewStaff {
        email: &email,
        name: &name,
        role,
        password_hash: &hash,
        is_bootstrap: false,
    };
    let member = crate::bootstrap::add_staff(&work, new).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::conflict("email_taken", "a staff account with this email exists")
        } else {
            e.into()
        }
    })?;
    record(
        &work,
        &admin,
        ip,
        "staff.created",
        member.id,
        json!({"email": email, "role": role.as_str()}),
    )
    .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Records an admin's action on a staff account in the trail.
async fn record(
    work: &UnitOfWork,
    admin: &Staff<Admin>,
    ip: IpAddr,
    action: &str,
    target: Uuid,
    details: serde_json::Value,
) -> ApiResult<()> {
    work.audit(admin, ip, action, "staff", target, details)
        .await?;
    Ok(())
}

/// One staff account.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Staff id")),
    responses((status = 200, body = StaffView), (status = 404, body = platform::error::Problem)))]
async fn get_staff(
    State(s): State<AppState>,
    _admin: Staff<Admin>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let member = accounts::staff_member(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    let version = member.version;
    Ok(with_etag(StaffView::from(member), version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStaffRequest {
    #[schema(schema_with = platform::schema::line_or_null::<1, 100>)]
    pub name: Option<String>,
    /// A new role; the member's sessions end and they sign in again with it.
    #[schema(schema_with = staff_role_or_null)]
    pub role: Option<String>,
    /// A new password set by the admin; the member's sessions end.
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
    /// Removes the member's second factor (a lost phone and lost recovery codes): they
    /// sign in with their password and set one up again, at once where it is required.
    /// Their sessions end.
    #[serde(default)]
    pub remove_second_factor: bool,
    /// Expected version (or send `If-Match`).
    pub version: Option<i64>,
}

/// Changes a staff member's name, role or password, or removes their second factor.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", security(("bearer" = [])), request_body = UpdateStaffRequest,
    params(("id" = Uuid, Path, description = "Staff id")),
    responses((status = 200, body = StaffView), (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem),
              (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn update_staff(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<UpdateStaffRequest>,
) -> ApiResult<Response> {
    let current = accounts::staff_member(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    let mut f = Fields::new();
    let name = req.name.as_deref().and_then(|n| f.text("name", n, 1, 100));
    let role = req.role.as_deref().and_then(|r| parse_role(&mut f, r));
    let pw = req.password.as_deref().and_then(|p| {
        f.parse(
            "password",
            Password::parse(p, &current.email, &current.name),
        )
    });
    f.finish()?;
    if current.is_bootstrap && role.is_some_and(|r| r != StaffRole::Admin) {
        return Err(ApiError::conflict(
            "bootstrap_admin",
            "the bootstrap admin keeps the admin role",
        ));
    }
    let expected = if_match(&headers)?
        .or(req.version)
        .unwrap_or(current.version);
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    let hash = match &pw {
        Some(pw) => Some(s.hasher.hash(pw).await?),
        None => None,
    };
    let role_changed = role.is_some_and(|r| r != current.role);
    let work = s.ctx.begin().await?;
    let now = work.now();
    let change = StaffChange {
        name: name.as_deref(),
        role,
        password_hash: hash.as_deref(),
        disabled_at: None,
    };
    let version = accounts::update_staff(&work, id, expected, change, now)
        .await?
        .ok_or_else(|| ApiError::stale_version(current.version))?;
    if req.remove_second_factor {
        two_factor::remove(&work, id).await?;
    }
    if role_changed || hash.is_some() || req.remove_second_factor {
        let reason = if role_changed {
            "role changed"
        } else if hash.is_some() {
            "password reset by admin"
        } else {
            "second factor removed by admin"
        };
        sessions::revoke_all(&work, STAFF, id, None, reason, now).await?;
    }
    let details = json!({"name": name, "role": role.map(StaffRole::as_str), "password_reset": hash.is_some(),
                         "second_factor_removed": req.remove_second_factor});
    record(&work, &admin, ip, "staff.updated", id, details).await?;
    work.commit().await?;
    let member = accounts::staff_member(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    Ok(with_etag(StaffView::from(member), version))
}

/// Disables a staff account (kept for the audit trail); its sessions end.
#[utoipa::path(delete, path = "/api/v1/staff/{id}", tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Staff id")),
    responses((status = 204, description = "Disabled"), (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn disable_staff(
    State(s): State<AppState>,
    admin: Staff<Admin>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let now = work.now();
    let current = accounts::staff_member(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    if current.is_bootstrap {
        return Err(ApiError::conflict(
            "bootstrap_admin",
            "the bootstrap admin cannot be disabled",
        ));
    }
    if current.id == admin.staff_id {
        return Err(ApiError::conflict(
            "self_disable",
            "you cannot disable your own account",
        ));
    }
    if current.disabled_at.is_some() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let change = StaffChange {
        disabled_at: Some(now),
        ..Default::default()
    };
    accounts::update_staff(&work, id, current.version, change, now)
        .await?
        .ok_or_else(|| ApiError::stale_version(current.version))?;
    sessions::revoke_all(&work, STAFF, id, None, "disabled", now).await?;
    record(
        &work,
        &admin,
        ip,
        "staff.disabled",
        id,
        json!({"email": current.email}),
    )
    .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

platform::audit_log_endpoint!(
    list_audit_log,
    "/api/v1/staff/audit-log",
    "staff",
    "Staff actions on staff members, customers' records and second factors, newest first."
);
