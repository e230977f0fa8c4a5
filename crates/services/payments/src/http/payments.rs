//! `GET /payments/{id}` for the order's customer or staff, and the sandbox provider's
//! card form, `POST /payments/{id}/sandbox/pay`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use platform::auth::{CustomerAuth, MaybeStaff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::idempotency::{body_fingerprint, idempotency_key, key_reused, replayed};
use platform::http::{RawBody, parse_json, with_etag};
use platform::validate::Fields;
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::domain::REQUIRES_PAYMENT;
use crate::provider::sandbox::{self, Card};
use crate::store::{self, Payment, Refund};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_payment))
        .routes(routes!(sandbox_pay))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub id: Uuid,
    pub amount: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<Refund> for RefundView {
    fn from(r: Refund) -> Self {
        Self {
            id: r.id,
            amount: r.amount,
            status: r.status,
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    pub order_id: Uuid,
    /// `requires_payment`, `processing`, `succeeded`, `failed`, `partially_refunded`,
    /// `refunded` or `canceled`.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub provider: String,
    /// Where the customer pays; `null` while the provider is still being asked to open
    /// the payment.
    pub checkout_url: Option<String>,
    /// What the provider confirmed taking.
    pub captured: i64,
    pub refunded: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub refunds: Vec<RefundView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub(super) async fn view<C: ConnectionTrait>(db: &C, p: Payment) -> ApiResult<PaymentView> {
    let refunds = store::refunds_of(db, p.id).await?;
    Ok(PaymentView {
        id: p.id,
        order_id: p.order_id,
        status: p.status,
        amount: p.amount,
        currency: p.currency,
        provider: p.provider,
        checkout_url: p.checkout_url,
        captured: p.captured,
        refunded: p.refunded,
        failure_reason: p.failure_reason,
        refunds: refunds.into_iter().map(RefundView::from).collect(),
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    })
}

/// A payment, for the customer whose order it pays or for staff.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses((status = 200, body = PaymentView), (status = 401, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
async fn get_payment(
    State(s): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    customer: Result<CustomerAuth, ApiError>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let owner = match (staff, customer) {
        (Some(_), _) => None,
        (None, Ok(me)) => Some(me.customer_id),
        (None, Err(e)) => return Err(e),
    };
    let payment = store::get(&s.ctx.db, id)
        .await?
        .filter(|p| owner.is_none_or(|c| p.customer_id == c))
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let version = payment.version;
    Ok(with_etag(view(&s.ctx.db, payment).await?, version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    #[schema(value_type = String, pattern = "^(4242424242424242|4000000000000002|4000000000009995)$")]
    pub card_number: String,
    #[schema(minimum = 1, maximum = 12)]
    pub exp_month: i64,
    #[schema(minimum = 2000, maximum = 2100)]
    pub exp_year: i64,
    #[schema(pattern = "^[0-9]{3,4}$")]
    pub cvc: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeAccepted {
    pub payment_id: Uuid,
    pub card_last4: String,
    /// Always `accepted`: the outcome follows through the provider's webhook.
    pub status: String,
}

/// The card, checked field by field; the test card it is.
fn read_card(input: &CardInput, now: DateTime<Utc>) -> ApiResult<(Card, String)> {
    let digits: String = input
        .card_number
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let mut f = Fields::new();
    let well_formed = (12..=19).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && luhn(&digits);
    f.check(well_formed, "card_number", "is not a valid card number");
    let card = Card::from_number(&digits);
    if well_formed && card.is_none() {
        f.add(
            "card_number",
            "the sandbox takes only its test cards: 4242424242424242, 4000000000000002, 4000000000009995",
        );
    }
    f.check(
        (1..=12).contains(&input.exp_month),
        "exp_month",
        "must be 1 to 12",
    );
    f.check(
        (2000..=2100).contains(&input.exp_year),
        "exp_year",
        "must be a four-digit year",
    );
    let this_month = i64::from(now.year()) * 12 + i64::from(now.month());
    if (1..=12).contains(&input.exp_month) && (2000..=2100).contains(&input.exp_year) {
        f.check(
            input.exp_year * 12 + input.exp_month >= this_month,
            "exp_year",
            "the card has expired",
        );
    }
    f.check(
        (3..=4).contains(&input.cvc.len()) && input.cvc.bytes().all(|b| b.is_ascii_digit()),
        "cvc",
        "must be 3 or 4 digits",
    );
    f.finish()?;
    let last4 = digits[digits.len() - 4..].to_owned();
    Ok((card.unwrap_or(Card::Declined), last4))
}

/// The Luhn check digit test every card number passes.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Pays with a sandbox test card. The answer only says the card was taken; the result
/// reaches the payment (and the order) through the sandbox's signed webhook.
/// `Idempotency-Key` required: a retry gets the first answer, and a payment is never
/// charged twice.
#[utoipa::path(post, path = "/api/v1/payments/{id}/sandbox/pay", tag = "payments", security(("bearer" = [])),
    request_body = CardInput,
    params(("id" = Uuid, Path, description = "Payment id"),
           ("Idempotency-Key" = String, Header, description = "The same on every retry of one payment attempt", pattern = "^[!-~]{1,255}$")),
    responses((status = 202, body = ChargeAccepted), (status = 400, body = platform::error::Problem), (status = 401, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn sandbox_pay(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, "payment")?;
    let input: CardInput = parse_json(&body)?;
    let hash = body_fingerprint(&body)?;
    let db = &s.ctx.db;
    let payment = store::get(db, id)
        .await?
        .filter(|p| p.customer_id == me.customer_id)
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if let Some(answer) = earlier_charge(db, id, &key, &hash).await? {
        return Ok(answer);
    }
    let now = s.ctx.clock.now();
    let (card, last4) = read_card(&input, now)?;
    if payment.provider != sandbox::NAME {
        return Err(ApiError::conflict(
            "not_sandbox",
            "this payment is taken by another provider; pay at its checkout_url",
        ));
    }
    let txn = platform::db::begin_write(db).await?;
    let payment = store::get_for_update(&txn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if payment.status != REQUIRES_PAYMENT || payment.checkout_url.is_none() {
        drop(txn);
        return match earlier_charge(db, id, &key, &hash).await? {
            Some(answer) => Ok(answer),
            None => Err(not_payable_now(&payment)),
        };
    }
    let answer = ChargeAccepted {
        payment_id: id,
        card_last4: last4.clone(),
        status: "accepted".into(),
    };
    let json = serde_json::to_string(&answer).map_err(ApiError::internal)?;
    let recorded = txn
        .execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO sandbox_charges (payment_id, idempotency_key, request_hash, card_last4, outcome, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                id.into(),
                key.clone().into(),
                hash.clone().into(),
                last4.into(),
                format!("{card:?}").into(),
                json.into(),
                now.into(),
            ],
        ))
        .await;
    match recorded {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            // A twin charged it first: answer as the key says.
            drop(txn);
            return match earlier_charge(db, id, &key, &hash).await? {
                Some(answer) => Ok(answer),
                None => Err(not_payable("it is already charged")),
            };
        }
        Err(e) => return Err(e.into()),
    }
    s.sandbox.charge(&txn, &payment, card, now).await?;
    txn.commit().await?;
    s.sandbox.wake();
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// Why `payment` cannot be charged now.
fn not_payable_now(payment: &Payment) -> ApiError {
    if payment.status == REQUIRES_PAYMENT {
        not_payable("it is not open yet; try again in a moment")
    } else {
        not_payable(&format!("it is {}", payment.status))
    }
}

fn not_payable(why: &str) -> ApiError {
    ApiError::conflict(
        "not_payable",
        format!("this payment cannot be paid now: {why}"),
    )
}

/// The answer to an earlier charge of this payment under this key; a refusal when the
/// key came with another card, or when another key already charged it.
async fn earlier_charge<C: ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
    key: &str,
    hash: &str,
) -> ApiResult<Option<Response>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT idempotency_key, request_hash, response FROM sandbox_charges WHERE payment_id = $1",
            [payment_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (stored_key, stored_hash, response): (String, String, String) = (
        row.try_get("", "idempotency_key")?,
        row.try_get("", "request_hash")?,
        row.try_get("", "response")?,
    );
    if stored_key != key {
        return Err(ApiError::conflict(
            "already_charged",
            "this payment was already charged",
        ));
    }
    if stored_hash != hash {
        return Err(key_reused("payment"));
    }
    Ok(Some(replayed(202, response)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str, month: i64, year: i64, cvc: &str) -> CardInput {
        CardInput {
            card_number: number.into(),
            exp_month: month,
            exp_year: year,
            cvc: cvc.into(),
        }
    }

    #[test]
    fn test_cards_pass_luhn_and_typos_do_not() {
        assert!(luhn("4242424242424242"));
        assert!(luhn("4000000000000002"));
        assert!(luhn("4000000000009995"));
        assert!(!luhn("4242424242424241"));
    }

    #[test]
    fn a_card_is_checked_field_by_field() {
        let now = "2026-11-21T00:00:00Z".parse().unwrap();
        assert_eq!(
            read_card(&card("4242 4242 4242 4242", 11, 2026, "123"), now).unwrap(),
            (Card::Succeeds, "4242".to_owned())
        );
        let fields = |c: CardInput| match read_card(&c, now) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        };
        assert_eq!(
            fields(card("4242424242424241", 12, 2030, "123")),
            ["card_number"]
        );
        assert_eq!(
            fields(card("5555555555554444", 12, 2030, "123")),
            ["card_number"]
        );
        assert_eq!(
            fields(card("4242424242424242", 10, 2026, "123")),
            ["exp_year"]
        );
        assert_eq!(
            fields(card("4242424242424242", 13, 2030, "12")),
            ["exp_month", "cvc"]
        );
    }
}
