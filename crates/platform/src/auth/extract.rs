//! Extractors that authenticate a request and check its role, in every service (not
//! only at the gateway). No token is 401; a valid token of the wrong kind or role is 403.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use contracts::claims::{AccessClaims, AccountKind, StaffRole};
use uuid::Uuid;

use super::{ACCESS_COOKIE, AuthError, TokenVerifier};
use crate::error::ApiError;

/// The bearer token, or the access cookie the browser UI carries.
pub fn bearer_or_cookie(parts: &Parts) -> Option<String> {
    if let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == ACCESS_COOKIE)
        .map(|(_, value)| value.to_owned())
}

async fn claims<S>(parts: &Parts, state: &S) -> Result<AccessClaims, ApiError>
where
    Arc<TokenVerifier>: FromRef<S>,
{
    let token = bearer_or_cookie(parts)
        .ok_or_else(|| ApiError::unauthorized(AuthError::Missing.to_string()))?;
    let verifier = Arc::<TokenVerifier>::from_ref(state);
    verifier.verify(&token).await.map_err(|e| match e {
        AuthError::KeysUnavailable => ApiError::Unavailable(e.to_string()),
        _ => ApiError::unauthorized(e.to_string()),
    })
}

/// A signed-in customer.
#[derive(Clone, Copy, Debug)]
pub struct CustomerAuth {
    pub customer_id: Uuid,
    /// The session (refresh family) the token belongs to.
    pub session_id: Uuid,
}

impl<S> FromRequestParts<S> for CustomerAuth
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let c = claims(parts, state).await?;
        if c.kind != AccountKind::Customer {
            return Err(ApiError::forbidden(
                "this endpoint is for customer accounts",
            ));
        }
        Ok(Self {
            customer_id: c.sub,
            session_id: c.sid,
        })
    }
}

/// A signed-in staff member of any role.
#[derive(Clone, Copy, Debug)]
pub struct StaffAuth {
    pub staff_id: Uuid,
    pub role: StaffRole,
    pub session_id: Uuid,
}

impl<S> FromRequestParts<S> for StaffAuth
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let StaffEnrolling(auth, enrolling) =
            StaffEnrolling::from_request_parts(parts, state).await?;
        if enrolling {
            return Err(ApiError::ForbiddenBecause {
                code: "two_factor_required",
                detail: "enrol a second factor (POST /api/v1/staff/me/totp) before anything else"
                    .into(),
            });
        }
        Ok(auth)
    }
}

/// A staff member who may still have to enrol a second factor (the bool), for the
/// endpoints such a member may use: enrolment itself and signing out. Every other staff
/// endpoint takes [`StaffAuth`] or [`Staff`], which refuse them.
#[derive(Clone, Copy, Debug)]
pub struct StaffEnrolling(pub StaffAuth, pub bool);

impl<S> FromRequestParts<S> for StaffEnrolling
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let c = claims(parts, state).await?;
        match (c.kind, c.role) {
            (AccountKind::Staff, Some(role)) => Ok(Self(
                StaffAuth {
                    staff_id: c.sub,
                    role,
                    session_id: c.sid,
                },
                c.enrolling,
            )),
            _ => Err(ApiError::forbidden("this endpoint is for staff")),
        }
    }
}

/// A role a staff endpoint requires; admins satisfy every role.
pub trait RoleMarker: Send + Sync + 'static {
    const ROLE: StaffRole;
}

pub struct Admin;
pub struct Inventory;
pub struct Finance;

impl RoleMarker for Admin {
    const ROLE: StaffRole = StaffRole::Admin;
}
impl RoleMarker for Inventory {
    const ROLE: StaffRole = StaffRole::Inventory;
}
impl RoleMarker for Finance {
    const ROLE: StaffRole = StaffRole::Finance;
}

/// A staff member holding role `R` (or admin): `Staff<Admin>`, `Staff<Inventory>`.
pub struct Staff<R: RoleMarker> {
    pub auth: StaffAuth,
    role: PhantomData<R>,
}

impl<R: RoleMarker> std::ops::Deref for Staff<R> {
    type Target = StaffAuth;
    fn deref(&self) -> &StaffAuth {
        &self.auth
    }
}

impl<S, R> FromRequestParts<S> for Staff<R>
where
    S: Send + Sync,
    R: RoleMarker,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = StaffAuth::from_request_parts(parts, state).await?;
        if !auth.role.satisfies(R::ROLE) {
            return Err(ApiError::forbidden(format!(
                "this endpoint needs the {} role",
                R::ROLE.as_str()
            )));
        }
        Ok(Self {
            auth,
            role: PhantomData,
        })
    }
}

/// A staff member when the request carries a valid staff token, else nobody. For public
/// endpoints that show staff more (stock counts, archived products).
#[derive(Clone, Copy, Debug)]
pub struct MaybeStaff(pub Option<StaffAuth>);

impl<S> FromRequestParts<S> for MaybeStaff
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if bearer_or_cookie(parts).is_none() {
            return Ok(Self(None));
        }
        Ok(Self(StaffAuth::from_request_parts(parts, state).await.ok()))
    }
}
