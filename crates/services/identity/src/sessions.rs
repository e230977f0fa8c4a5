//! Opening, rotating and ending sessions, for customers and staff alike.
//!
//! A session is a refresh-token family. Each refresh spends the presented token and
//! issues the next one in the same family. Presenting a spent token means it was
//! copied: the whole family is revoked, so both the thief and the owner must sign in
//! again, which is the point.

use chrono::{DateTime, Duration, Utc};
use contracts::claims::{AccessClaims, AccountKind, StaffRole};
use platform::ApiError;
use platform::crypto::{random_token, sha256_hex};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::store::{accounts, sessions};

pub(crate) const CUSTOMER: &str = "customer";
pub(crate) const STAFF: &str = "staff";

/// `{access_token, refresh_token, token_type, expires_in}`; with `use_cookies` only
/// `{token_type: "Cookie", expires_in}`, the tokens being in HttpOnly cookies.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Absent when the tokens were set as cookies.
    #[schema(required = false)]
    pub access_token: String,
    /// Absent when the tokens were set as cookies.
    #[schema(required = false)]
    pub refresh_token: String,
    /// `Bearer`, or `Cookie` when the tokens were set as cookies.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A freshly issued pair and what the cookie variant needs to know.
pub(crate) struct Issued {
    pub pair: TokenPair,
    pub remember_me: bool,
    pub session_expires_at: DateTime<Utc>,
}

fn kind_str(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Customer => CUSTOMER,
        AccountKind::Staff => STAFF,
    }
}

impl AppState {
    fn session_lifetime(&self, remember_me: bool) -> Duration {
        let auth = &self.ctx.settings.auth;
        if remember_me {
            Duration::days(auth.remember_me_days as i64)
        } else {
            Duration::hours(auth.session_ttl_hours as i64)
        }
    }

    fn access_token(
        &self,
        kind: AccountKind,
        account_id: Uuid,
        role: Option<StaffRole>,
        session_id: Uuid,
        enrolling: bool,
    ) -> Result<(String, u64), ApiError> {
        let ttl = self.ctx.settings.auth.access_ttl();
        let now = self.ctx.clock.now();
        let claims = AccessClaims {
            iss: self.ctx.settings.auth.issuer.clone(),
            sub: account_id,
            kind,
            role,
            sid: session_id,
            iat: now.timestamp(),
            exp: now.timestamp() + ttl.as_secs() as i64,
            jti: Uuid::now_v7(),
            enrolling,
        };
        Ok((self.key.sign(&claims)?, ttl.as_secs()))
    }

    /// Opens a session inside `txn` and issues its first pair. `enrolling`: a staff
    /// member who must enrol a second factor first (see [`AccessClaims::enrolling`]).
    pub(crate) async fn open_session<C: ConnectionTrait>(
        &self,
        txn: &C,
        kind: AccountKind,
        account_id: Uuid,
        role: Option<StaffRole>,
        remember_me: bool,
        enrolling: bool,
    ) -> Result<Issued, ApiError> {
        let now = self.ctx.clock.now();
        let expires_at = now + self.session_lifetime(remember_me);
        let session = sessions::create(
            txn,
            kind_str(kind),
            account_id,
            remember_me,
            expires_at,
            now,
        )
        .await?;
        let refresh = random_token();
        sessions::add_refresh_token(txn, session.id, &sha256_hex(refresh.as_bytes()), now).await?;
        let (access, expires_in) =
            self.access_token(kind, account_id, role, session.id, enrolling)?;
        Ok(Issued {
            pair: TokenPair {
                access_token: access,
                refresh_token: refresh,
                token_type: "Bearer",
                expires_in,
            },
            remember_me,
            session_expires_at: expires_at,
        })
    }

    /// Spends `refresh_token` and issues the next pair of its family.
    pub(crate) async fn rotate(
        &self,
        kind: AccountKind,
        refresh_token: &str,
    ) -> Result<Issued, ApiError> {
        let invalid = || ApiError::unauthorized("the refresh token is invalid, expired or revoked");
        let now = self.ctx.clock.now();
        let hash = sha256_hex(refresh_token.as_bytes());
        let txn = platform::db::begin_write(&self.ctx.db).await?;
        let presented = sessions::find_refresh_token(&txn, &hash)
            .await?
            .ok_or_else(invalid)?;
        let session = presented.session;
        if session.account_kind != kind_str(kind) || !session.is_live(now) {
            return Err(invalid());
        }
        // Spent already, or spent by a concurrent request a moment ago: reuse.
        if presented.spent || !sessions::spend_refresh_token(&txn, &hash, now).await? {
            drop(txn);
            self.revoke_family(session.id, "refresh token reuse")
                .await?;
            tracing::warn!(session.id = %session.id, account.id = %session.account_id, "refresh token reuse; session revoked");
            return Err(invalid());
        }
        let (role, enrolling) = match kind {
            AccountKind::Customer => {
                accounts::customer(&txn, session.account_id)
                    .await?
                    .ok_or_else(invalid)?;
                (None, false)
            }
            AccountKind::Staff => {
                let staff = accounts::staff_member(&txn, session.account_id)
                    .await?
                    .ok_or_else(invalid)?;
                if staff.disabled_at.is_some() {
                    return Err(invalid());
                }
                // Enrolling since the last refresh lifts the restriction; a policy made
                // stricter since applies now.
                let enrolling = self.must_enrol(&txn, staff.id).await?;
                (Some(staff.role), enrolling)
            }
        };
        let next = random_token();
        sessions::add_refresh_token(&txn, session.id, &sha256_hex(next.as_bytes()), now).await?;
        let (access, expires_in) =
            self.access_token(kind, session.account_id, role, session.id, enrolling)?;
        txn.commit().await?;
        Ok(Issued {
            pair: TokenPair {
                access_token: access,
                refresh_token: next,
                token_type: "Bearer",
                expires_in,
            },
            remember_me: session.remember_me,
            session_expires_at: session.expires_at,
        })
    }

    /// Revokes a family in its own transaction, so it sticks even when the request fails.
    pub(crate) async fn revoke_family(
        &self,
        session_id: Uuid,
        reason: &str,
    ) -> Result<(), ApiError> {
        sessions::revoke(&self.ctx.db, session_id, reason, self.ctx.clock.now()).await?;
        Ok(())
    }
}
