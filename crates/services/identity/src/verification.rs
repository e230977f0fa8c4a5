//! Email verification: issuing a secret (a long link token and a 6-digit code for the
//! same proof) and applying a successful proof to the account.

use chrono::{DateTime, Utc};
use contracts::identity::{
    CustomerUpdated, CustomerVerified, VerificationPurpose, VerificationRequested,
};
use platform::ApiError;
use platform::crypto::{constant_time_eq, random_code, random_token, sha256_hex};
use platform::unit::UnitOfWork;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use crate::changed_meanwhile;
use crate::domain::{VERIFICATION_MAX_FAILURES, VERIFICATION_TTL};
use crate::store::accounts::{self, Customer, CustomerChange};
use crate::store::one_time::{self, NewVerification, Verification};

fn purpose_str(p: VerificationPurpose) -> &'static str {
    match p {
        VerificationPurpose::Registration => "registration",
        VerificationPurpose::EmailChange => "email_change",
    }
}

/// The code is hashed with the verification's id so equal codes hash differently.
fn code_hash(id: Uuid, code: &str) -> String {
    sha256_hex(format!("{id}:{code}").as_bytes())
}

/// Issues a fresh verification for `email` (retiring older ones) and queues its mail.
pub(crate) async fn issue(
    work: &UnitOfWork,
    customer: &Customer,
    email: &str,
    purpose: VerificationPurpose,
) -> Result<(), ApiError> {
    let now = work.now();
    let id = Uuid::now_v7();
    let token = random_token();
    let code = random_code(6);
    let expires_at = now + VERIFICATION_TTL;
    one_time::replace_verification(
        work,
        NewVerification {
            id,
            customer_id: customer.id,
            email,
            purpose: purpose_str(purpose),
            token_hash: &sha256_hex(token.as_bytes()),
            code_hash: &code_hash(id, &code),
            expires_at,
        },
        now,
    )
    .await?;
    let event = VerificationRequested {
        customer_id: customer.id,
        email: email.to_owned(),
        name: customer.name.clone(),
        purpose,
        token,
        code,
        expires_at,
    };
    work.emit(&event, customer.version).await?;
    Ok(())
}

fn invalid() -> ApiError {
    ApiError::bad_request(
        "invalid_verification",
        "the verification link or code is invalid, used or expired",
    )
}

/// Finds the verification a link token proves.
pub(crate) async fn by_token<C: ConnectionTrait>(
    txn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Verification, ApiError> {
    let v = one_time::verification_by_token(txn, &sha256_hex(token.as_bytes()))
        .await?
        .ok_or_else(invalid)?;
    if !v.is_usable(now, VERIFICATION_MAX_FAILURES) {
        return Err(invalid());
    }
    Ok(v)
}

/// Outcome of checking a code.
pub(crate) enum CodeCheck {
    Valid(Verification),
    Wrong,
    Unusable,
}

/// Compares a code with the newest verification sent to `email`. Every comparison,
/// right or wrong, spends one of the verification's attempts first, in its own commit,
/// so a burst of parallel guesses gets no more tries than a slow one.
pub(crate) async fn by_code(
    db: &DatabaseConnection,
    email: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<CodeCheck, ApiError> {
    let Some(v) = one_time::latest_verification_for_email(db, email).await? else {
        return Ok(CodeCheck::Unusable);
    };
    if !v.is_usable(now, VERIFICATION_MAX_FAILURES)
        || !one_time::take_attempt(db, v.id, VERIFICATION_MAX_FAILURES).await?
    {
        return Ok(CodeCheck::Unusable);
    }
    if constant_time_eq(code_hash(v.id, code).as_bytes(), v.code_hash.as_bytes()) {
        Ok(CodeCheck::Valid(v))
    } else {
        Ok(CodeCheck::Wrong)
    }
}

/// Consumes `v` and marks the address verified (switching to it for an email change).
pub(crate) async fn apply(work: &UnitOfWork, v: &Verification) -> Result<(), ApiError> {
    let now = work.now();
    if !one_time::consume_verification(work, v.id, now).await? {
        return Err(invalid());
    }
    let customer = accounts::customer(work, v.customer_id)
        .await?
        .ok_or_else(invalid)?;
    let change = if v.purpose == purpose_str(VerificationPurpose::EmailChange) {
        let owner = accounts::customer_by_email(work, &v.email).await?;
        if owner.is_some_and(|other| other.id != customer.id) {
            return Err(ApiError::conflict(
                "email_taken",
                "this address now belongs to another account",
            ));
        }
        CustomerChange {
            email: Some(&v.email),
            email_verified: Some(true),
            ..Default::default()
        }
    } else if customer.email == v.email {
        CustomerChange {
            email_verified: Some(true),
            ..Default::default()
        }
    } else {
        // The account moved to another address since this mail was sent.
        return Err(invalid());
    };
    let version = accounts::update_customer(work, customer.id, customer.version, change, now)
        .await?
        .ok_or_else(changed_meanwhile)?;
    work.emit(
        &CustomerVerified {
            customer_id: customer.id,
            email: v.email.clone(),
        },
        version,
    )
    .await?;
    let updated = CustomerUpdated {
        customer_id: customer.id,
        email: v.email.clone(),
        name: customer.name.clone(),
        email_verified: true,
    };
    work.emit(&updated, version).await?;
    Ok(())
}
