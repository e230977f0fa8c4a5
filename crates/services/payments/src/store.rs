//! Payments, refunds and received webhooks. Every status change is a conditional update
//! on the status it expects, so two deliveries racing for one payment cannot both apply.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

use crate::domain::{CANCELED, FAILED, PARTIALLY_REFUNDED, REFUNDED, REQUIRES_PAYMENT, SUCCEEDED};
use crate::provider::Opened;

#[derive(Clone, Debug, FromQueryResult)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub captured: i64,
    pub refunded: i64,
    pub refund_pending: i64,
    /// `None` until the provider has opened the payment.
    pub checkout_url: Option<String>,
    pub failure_reason: Option<String>,
    pub order_cancelled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Payment {
    /// What can still be refunded.
    pub fn refundable_amount(&self) -> i64 {
        self.captured - self.refunded - self.refund_pending
    }
}

const COLUMNS: &str = "id, order_id, customer_id, provider, provider_ref, status, amount, currency, captured, \
     refunded, refund_pending, checkout_url, failure_reason, order_cancelled, created_at, updated_at, version";

/// Opens a payment unless its order already has one; `false` when it had.
pub async fn insert<C: ConnectionTrait>(db: &C, p: &Payment) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (order_id) DO NOTHING"
            ),
            [
                p.id.into(),
                p.order_id.into(),
                p.customer_id.into(),
                p.provider.clone().into(),
                p.provider_ref.clone().into(),
                p.status.clone().into(),
                p.amount.into(),
                p.currency.clone().into(),
                p.captured.into(),
                p.refunded.into(),
                p.refund_pending.into(),
                p.checkout_url.clone().into(),
                p.failure_reason.clone().into(),
                p.order_cancelled.into(),
                p.created_at.into(),
                p.updated_at.into(),
                p.version.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Payment>, DbErr> {
    Payment::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM payments WHERE id = $1"),
        [id.into()],
    ))
    .one(db)
    .await
}

/// The payment, locked until the transaction ends (PostgreSQL; SQLite's write
/// transactions already exclude each other), so a status read here is still the status
/// when the transaction writes.
pub async fn get_for_update<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<Payment>, DbErr> {
    let lock = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => " FOR UPDATE",
        _ => "",
    };
    Payment::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM payments WHERE id = $1{lock}"),
        [id.into()],
    ))
    .one(db)
    .await
}

pub async fn of_order<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
) -> Result<Option<Payment>, DbErr> {
    Payment::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {COLUMNS} FROM payments WHERE order_id = $1"),
        [order_id.into()],
    ))
    .one(db)
    .await
}

/// Payments newest first, optionally only those in `status`, after the keyset position
/// `after` (created_at, id).
pub async fn search<C: ConnectionTrait>(
    db: &C,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Payment>, DbErr> {
    let mut sql = format!("SELECT {COLUMNS} FROM payments WHERE 1 = 1");
    let mut values: Vec<sea_orm::Value> = Vec::new();
    if let Some(status) = status {
        values.push(status.into());
        sql.push_str(&format!(" AND status = ${}", values.len()));
    }
    if let Some((at, id)) = after {
        values.push(at.into());
        values.push(id.into());
        let (a, i) = (values.len() - 1, values.len());
        sql.push_str(&format!(
            " AND (created_at < ${a} OR (created_at = ${a} AND id < ${i}))"
        ));
    }
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT ${}",
        values.len()
    ));
    Payment::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .all(db)
    .await
}

/// Moves a payment from `from` to `to`; a success also records the amount as captured.
/// `false` when the payment was no longer in `from`.
pub async fn advance<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    from: &str,
    to: &str,
    failure_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE payments SET status = $1, failure_reason = $2, updated_at = $3, version = version + 1, \
             captured = CASE WHEN $1 = $4 THEN amount ELSE captured END \
             WHERE id = $5 AND status = $6",
            [
                to.into(),
                failure_reason.map(str::to_owned).into(),
                now.into(),
                SUCCEEDED.into(),
                id.into(),
                from.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Payments waiting for their provider to open them, oldest first.
pub async fn unopened<C: ConnectionTrait>(db: &C) -> Result<Vec<Payment>, DbErr> {
    Payment::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT {COLUMNS} FROM payments WHERE checkout_url IS NULL AND status = $1 \
             ORDER BY created_at, id LIMIT 50"
        ),
        [REQUIRES_PAYMENT.into()],
    ))
    .all(db)
    .await
}

/// Records which provider opened the payment and where the customer pays; `false` when
/// the payment was opened already or is no longer waiting (its order ended meanwhile).
pub async fn mark_opened<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    provider: &str,
    opened: &Opened,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE payments SET provider = $1, checkout_url = $2, provider_ref = $3, updated_at = $4 \
             WHERE id = $5 AND checkout_url IS NULL AND status = $6",
            [
                provider.into(),
                opened.checkout_url.clone().into(),
                opened.provider_ref.clone().into(),
                now.into(),
                id.into(),
                REQUIRES_PAYMENT.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Notes that the payment's order ended; a payment nobody has paid yet is canceled.
pub async fn order_ended<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE payments SET order_cancelled = TRUE, updated_at = $1, version = version + 1, \
         status = CASE WHEN status = $2 THEN $3 ELSE status END WHERE order_id = $4 AND NOT order_cancelled",
        [
            now.into(),
            REQUIRES_PAYMENT.into(),
            CANCELED.into(),
            order_id.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Records what the provider took of a payment that failed because it took another
/// amount than the order's total, so that it can be given back.
pub async fn capture_mistaken<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    taken: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE payments SET captured = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        [taken.into(), now.into(), id.into(), FAILED.into()],
    ))
    .await?;
    Ok(())
}

/// Sets `amount` aside for a refund if that much is still refundable; `false` otherwise.
/// Concurrent refunds therefore never give back more than was taken. A failed payment
/// holds money only when the provider took a wrong amount (`capture_mistaken`).
pub async fn reserve_refund<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE payments SET refund_pending = refund_pending + $1, updated_at = $2 \
             WHERE id = $3 AND status IN ($4, $5, $6) AND captured - refunded - refund_pending >= $1 AND $1 > 0",
            [
                amount.into(),
                now.into(),
                id.into(),
                SUCCEEDED.into(),
                PARTIALLY_REFUNDED.into(),
                FAILED.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

#[derive(Clone, Debug, FromQueryResult)]
pub struct Refund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount: i64,
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub sent: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const REFUND_COLUMNS: &str =
    "id, payment_id, amount, status, reason, requested_by, sent, created_at, updated_at";

pub async fn insert_refund<C: ConnectionTrait>(db: &C, r: &Refund) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "INSERT INTO refunds ({REFUND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ),
        [
            r.id.into(),
            r.payment_id.into(),
            r.amount.into(),
            r.status.clone().into(),
            r.reason.clone().into(),
            r.requested_by.clone().into(),
            r.sent.into(),
            r.created_at.into(),
            r.updated_at.into(),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn refunds_of<C: ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
) -> Result<Vec<Refund>, DbErr> {
    Refund::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY created_at, id"
        ),
        [payment_id.into()],
    ))
    .all(db)
    .await
}

/// Refunds the provider has not been asked for yet, oldest first.
pub async fn unsent_refunds<C: ConnectionTrait>(db: &C) -> Result<Vec<Refund>, DbErr> {
    Refund::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE NOT sent ORDER BY created_at, id LIMIT 50"
        ),
        [],
    ))
    .all(db)
    .await
}

pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    refund_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE refunds SET sent = TRUE, updated_at = $1 WHERE id = $2",
        [now.into(), refund_id.into()],
    ))
    .await?;
    Ok(())
}

/// Books a refund the provider confirmed: the refund succeeds and its amount moves from
/// pending to refunded. `None` when it was already booked (or is unknown).
pub async fn complete_refund<C: ConnectionTrait>(
    db: &C,
    refund_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Refund>, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE refunds SET status = 'succeeded', updated_at = $1 WHERE id = $2 AND status = 'pending'",
            [now.into(), refund_id.into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Ok(None);
    }
    let refund = Refund::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1"),
        [refund_id.into()],
    ))
    .one(db)
    .await?
    .ok_or_else(|| DbErr::RecordNotFound(format!("refund {refund_id}")))?;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE payments SET refunded = refunded + $1, refund_pending = refund_pending - $1, \
         status = CASE WHEN refunded + $1 >= captured THEN $2 ELSE $3 END, \
         updated_at = $4, version = version + 1 WHERE id = $5",
        [
            refund.amount.into(),
            REFUNDED.into(),
            PARTIALLY_REFUNDED.into(),
            now.into(),
            refund.payment_id.into(),
        ],
    ))
    .await?;
    Ok(Some(refund))
}

/// Records a provider event once; `false` when its id was seen before (a duplicate or
/// a replay), in which case nothing else may change.
pub async fn first_delivery<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    event_id: &str,
    payment_id: Option<Uuid>,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO webhook_events (provider, event_id, payment_id, kind, outcome, received_at) \
             VALUES ($1, $2, $3, $4, 'received', $5) ON CONFLICT (provider, event_id) DO NOTHING",
            [
                provider.into(),
                event_id.into(),
                payment_id.into(),
                kind.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Notes what a recorded provider event did (`applied`, or why it was ignored).
pub async fn note_outcome<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    event_id: &str,
    outcome: &str,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE webhook_events SET outcome = $1 WHERE provider = $2 AND event_id = $3",
        [outcome.into(), provider.into(), event_id.into()],
    ))
    .await?;
    Ok(())
}

/// A refund the provider refused: its amount is refundable again.
pub async fn fail_refund<C: ConnectionTrait>(
    db: &C,
    refund_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE payments SET refund_pending = refund_pending - \
             (SELECT amount FROM refunds WHERE id = $1 AND status = 'pending'), updated_at = $2 \
             WHERE id = (SELECT payment_id FROM refunds WHERE id = $1 AND status = 'pending')",
            [refund_id.into(), now.into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE refunds SET status = 'failed', updated_at = $1 WHERE id = $2",
        [now.into(), refund_id.into()],
    ))
    .await?;
    Ok(true)
}

/// The first answer to a refund request under `key` for this payment, with the hash of
/// the body it came with.
pub struct RefundRequest {
    pub request_hash: String,
    pub response: String,
}

pub async fn refund_request<C: ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
    key: &str,
) -> Result<Option<RefundRequest>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT request_hash, response FROM refund_requests WHERE payment_id = $1 AND idempotency_key = $2",
            [payment_id.into(), key.into()],
        ))
        .await?;
    row.map(|r| {
        Ok(RefundRequest {
            request_hash: r.try_get("", "request_hash")?,
            response: r.try_get("", "response")?,
        })
    })
    .transpose()
}

/// Records the answer to a refund request in the refund's transaction; `false` when a
/// twin request under the same key recorded one first.
pub async fn record_refund_request<C: ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
    key: &str,
    request_hash: &str,
    refund_id: Uuid,
    response: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO refund_requests (payment_id, idempotency_key, request_hash, refund_id, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id, idempotency_key) DO NOTHING",
            [
                payment_id.into(),
                key.into(),
                request_hash.into(),
                refund_id.into(),
                response.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}
