//! Staff second factors: enrolling a TOTP authenticator (a secret and ten recovery
//! codes, active once a first code proves the app has it), checking a code or a
//! recovery code at sign-in, and removing it. Each code is taken once: a TOTP step is
//! spent by a conditional update, a recovery code likewise, so a code seen over a
//! shoulder or replayed by two racing sign-ins works at most once.

use platform::ApiError;
use platform::auth::StaffAuth;
use platform::config::StaffTwoFactor;
use platform::crypto::{random_bytes, sha256_hex};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use crate::domain::totp;
use crate::store::{accounts, two_factor};

/// Recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

/// A new enrolment, shown to the member once.
pub(crate) struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

/// What a member offers as their second factor.
pub(crate) enum Proof<'a> {
    Code(&'a str),
    Recovery(&'a str),
}

impl<'a> Proof<'a> {
    /// The proof in a request's `totp_code` and `recovery_code`; `None` when neither.
    pub fn of(code: Option<&'a str>, recovery: Option<&'a str>) -> Option<Self> {
        let given = |v: Option<&'a str>| v.map(str::trim).filter(|v| !v.is_empty());
        match (given(code), given(recovery)) {
            (Some(code), _) => Some(Self::Code(code)),
            (None, Some(recovery)) => Some(Self::Recovery(recovery)),
            (None, None) => None,
        }
    }
}

/// A recovery code as typed, in the one form its hash is taken of: letters and digits
/// only, lower case (`K7D2M-Q9X4P`, `k7d2m q9x4p` and `k7d2mq9x4p` are one code).
fn normalised(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten letters and digits in two groups of five: 50 bits, typed once in an emergency.
fn new_recovery_code() -> String {
    let text = totp::base32(&random_bytes::<7>()).to_ascii_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

const WRONG_CODE: &str = "the code is wrong, expired or already used";

/// At sign-in a wrong code is a failed authentication.
fn wrong_code() -> ApiError {
    ApiError::Unauthorized {
        code: "totp_invalid",
        detail: WRONG_CODE.into(),
    }
}

/// From a session (confirming, removing) the caller is authenticated already: a wrong
/// code refuses the act, it does not end the session (a client seeing 401 would sign out).
fn wrong_proof() -> ApiError {
    ApiError::forbidden_because("totp_invalid", WRONG_CODE)
}

impl AppState {
    /// Whether the member must enrol before they may do anything else.
    pub(crate) async fn must_enrol<C: ConnectionTrait>(
        &self,
        db: &C,
        staff_id: Uuid,
    ) -> Result<bool, ApiError> {
        if self.ctx.settings.auth.staff_2fa != StaffTwoFactor::Required {
            return Ok(false);
        }
        Ok(!two_factor::enrolled(db, staff_id).await?)
    }

    /// Starts (or starts again) the member's enrolment. Refused while one is active:
    /// removing it first takes a code, so a stolen session cannot swap in its own app.
    pub(crate) async fn start_enrolment(&self, staff: &StaffAuth) -> Result<Enrolment, ApiError> {
        let member = accounts::staff_member(&self.ctx.db, staff.staff_id)
            .await?
            .ok_or_else(|| ApiError::not_found("staff member"))?;
        let txn = platform::db::begin_write(&self.ctx.db).await?;
        if two_factor::enrolled(&txn, staff.staff_id).await? {
            return Err(ApiError::conflict(
                "totp_enabled",
                "a second factor is already set up; remove it first to set up another",
            ));
        }
        let secret = totp::base32(&random_bytes::<{ totp::SECRET_BYTES }>());
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| sha256_hex(normalised(c).as_bytes()))
            .collect();
        let now = self.ctx.clock.now();
        two_factor::start(&txn, staff.staff_id, &secret, &hashes, now).await?;
        txn.commit().await?;
        Ok(Enrolment {
            otpauth_uri: totp::otpauth_uri(&self.ctx.settings.auth.issuer, &member.email, &secret),
            secret,
            recovery_codes: codes,
        })
    }

    /// Makes a pending enrolment active with the first code its app shows.
    pub(crate) async fn confirm_enrolment(
        &self,
        staff: &StaffAuth,
        code: &str,
        ip: std::net::IpAddr,
    ) -> Result<(), ApiError> {
        if !(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())) {
            return Err(ApiError::field(
                "code",
                "must be the 6 digits the app shows",
            ));
        }
        self.limit_code_attempts(staff).await?;
        let work = self.ctx.begin().await?;
        let now = work.now();
        let pending = two_factor::get(&work, staff.staff_id)
            .await?
            .filter(|t| !t.confirmed)
            .ok_or_else(|| {
                ApiError::conflict(
                    "no_pending_enrolment",
                    "there is no set-up to confirm; start one first",
                )
            })?;
        let secret = totp::from_base32(&pending.secret).ok_or_else(wrong_proof)?;
        let step = totp::matching_step(&secret, code, now.timestamp(), pending.last_step)
            .ok_or_else(wrong_proof)?;
        if !two_factor::take_step(&work, staff.staff_id, step, Some(now)).await? {
            return Err(wrong_proof());
        }
        let details = json!({"method": "totp"});
        work.audit(
            staff,
            ip,
            "staff.2fa_enabled",
            "staff",
            staff.staff_id,
            details,
        )
        .await?;
        work.commit().await?;
        Ok(())
    }

    /// Checks a second factor of an enrolled member and spends it. `Ok(false)` when the
    /// member has none; an error when the proof is missing or wrong.
    pub(crate) async fn check_second_factor(
        &self,
        staff_id: Uuid,
        proof: Option<Proof<'_>>,
    ) -> Result<bool, ApiError> {
        let db = &self.ctx.db;
        let Some(active) = two_factor::get(db, staff_id).await?.filter(|t| t.confirmed) else {
            return Ok(false);
        };
        let now = self.ctx.clock.now();
        let taken = match proof {
            None => {
                return Err(ApiError::Unauthorized {
                    code: "totp_required",
                    detail:
                        "enter the 6-digit code from your authenticator app, or a recovery code"
                            .into(),
                });
            }
            Some(Proof::Code(code)) => {
                let secret = totp::from_base32(&active.secret).ok_or_else(wrong_code)?;
                match totp::matching_step(&secret, code, now.timestamp(), active.last_step) {
                    Some(step) => two_factor::take_step(db, staff_id, step, None).await?,
                    None => false,
                }
            }
            Some(Proof::Recovery(code)) => {
                let hash = sha256_hex(normalised(code).as_bytes());
                two_factor::spend_recovery_code(db, staff_id, &hash, now).await?
            }
        };
        if taken { Ok(true) } else { Err(wrong_code()) }
    }

    /// Removes the member's second factor, on a current code or a recovery code.
    pub(crate) async fn remove_second_factor(
        &self,
        staff: &StaffAuth,
        proof: Option<Proof<'_>>,
        ip: std::net::IpAddr,
    ) -> Result<(), ApiError> {
        if self.ctx.settings.auth.staff_2fa == StaffTwoFactor::Required {
            return Err(ApiError::conflict(
                "totp_required",
                "this shop requires a second factor for staff; it can be replaced, not removed",
            ));
        }
        self.limit_code_attempts(staff).await?;
        let checked = self.check_second_factor(staff.staff_id, proof).await;
        let checked = checked.map_err(|e| match e {
            ApiError::Unauthorized {
                code: "totp_invalid",
                ..
            } => wrong_proof(),
            ApiError::Unauthorized { code, detail } => ApiError::forbidden_because(code, detail),
            other => other,
        })?;
        if !checked {
            // A pending enrolment is simply dropped.
            two_factor::remove(&self.ctx.db, staff.staff_id).await?;
            return Ok(());
        }
        let work = self.ctx.begin().await?;
        two_factor::remove(&work, staff.staff_id).await?;
        let details = json!({"method": "totp"});
        work.audit(
            staff,
            ip,
            "staff.2fa_removed",
            "staff",
            staff.staff_id,
            details,
        )
        .await?;
        work.commit().await?;
        Ok(())
    }

    /// Codes tried from a session (confirming, removing) are bounded per member, as
    /// sign-in's are by the sign-in throttle: a stolen session cannot guess its way
    /// through a million codes.
    async fn limit_code_attempts(&self, staff: &StaffAuth) -> Result<(), ApiError> {
        let key = format!("totp:staff:{}", staff.staff_id);
        let limit = self.ctx.settings.rate_limits.verify_per_client;
        self.ctx.limiter.check(&key, limit).await?;
        Ok(())
    }

    /// Where the member stands, for their security page.
    pub(crate) async fn second_factor_status(
        &self,
        staff_id: Uuid,
    ) -> Result<(bool, u64), ApiError> {
        let enrolled = two_factor::enrolled(&self.ctx.db, staff_id).await?;
        let left = if enrolled {
            two_factor::codes_left(&self.ctx.db, staff_id).await?
        } else {
            0
        };
        Ok((enrolled, left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_read_the_same_however_they_are_typed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(normalised(&code.to_uppercase()), normalised(&code));
        assert_eq!(normalised(&code.replace('-', " ")), normalised(&code));
        assert_ne!(new_recovery_code(), code);
    }

    #[test]
    fn a_code_given_wins_over_a_recovery_code_and_blanks_are_nothing() {
        assert!(matches!(
            Proof::of(Some("123456"), Some("x")),
            Some(Proof::Code("123456"))
        ));
        assert!(matches!(
            Proof::of(Some(" "), Some("abc")),
            Some(Proof::Recovery("abc"))
        ));
        assert!(Proof::of(None, Some("")).is_none());
    }
}
