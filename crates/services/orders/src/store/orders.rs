//! Orders, their lines and status history, and checkout idempotency keys.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

#[derive(Clone, Debug, FromQueryResult)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    /// Taken off by the discount code: the lines' shares, and the shipping when the
    /// code waives it.
    pub discount: i64,
    pub discount_code: Option<String>,
    pub shipping: i64,
    pub total: i64,
    pub shipping_service: String,
    pub shipping_carrier: String,
    pub shipping_address: serde_json::Value,
    pub tracking_number: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub payment_id: Option<Uuid>,
    pub payment_status: Option<String>,
    pub payment_checkout_url: Option<String>,
    /// Minor units given back so far.
    pub refunded: i64,
}

#[derive(Clone, Debug, FromQueryResult)]
pub struct Line {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub weight_grams: i64,
    /// The line's share of the discount, minor units.
    pub discount: i64,
}

#[derive(Clone, Debug, FromQueryResult)]
pub struct Step {
    pub status: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// The columns a new order is written with; the payment columns follow from events.
const INSERT_COLUMNS: &str = "id, customer_id, status, currency, subtotal, shipping, total, shipping_service, \
     shipping_carrier, shipping_address, tracking_number, placed_at, updated_at, version, discount, discount_code";
const ORDER_COLUMNS: &str = "id, customer_id, status, currency, subtotal, shipping, total, shipping_service, \
     shipping_carrier, shipping_address, tracking_number, placed_at, updated_at, version, \
     payment_id, payment_status, payment_checkout_url, refunded, discount, discount_code";

pub async fn insert<C: ConnectionTrait>(db: &C, o: &Order, lines: &[Line]) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "INSERT INTO orders ({INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ),
        [
            o.id.into(),
            o.customer_id.into(),
            o.status.clone().into(),
            o.currency.clone().into(),
            o.subtotal.into(),
            o.shipping.into(),
            o.total.into(),
            o.shipping_service.clone().into(),
            o.shipping_carrier.clone().into(),
            o.shipping_address.clone().into(),
            o.tracking_number.clone().into(),
            o.placed_at.into(),
            o.updated_at.into(),
            o.version.into(),
            o.discount.into(),
            o.discount_code.clone().into(),
        ],
    ))
    .await?;
    for l in lines {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, weight_grams, discount) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                o.id.into(),
                l.product_id.into(),
                l.name.clone().into(),
                l.unit_price.into(),
                l.quantity.into(),
                l.weight_grams.into(),
                l.discount.into(),
            ],
        ))
        .await?;
    }
    add_step(db, o.id, &o.status, None, o.placed_at).await
}

/// Appends a status to an order's timeline.
pub async fn add_step<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    status: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO order_timeline (order_id, seq, status, note, at) \
         SELECT $1, COALESCE(MAX(seq) + 1, 0), $2, $3, $4 FROM order_timeline WHERE order_id = $1",
        [
            order_id.into(),
            status.into(),
            note.map(str::to_owned).into(),
            at.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Moves an order from `from` to `to` and notes it in the timeline; `false` (nothing
/// changed) when the order is not in `from`, e.g. a redelivered event.
pub async fn advance<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    from: &str,
    to: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE orders SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND status = $4",
            [to.into(), now.into(), id.into(), from.into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    add_step(db, id, to, note, now).await?;
    Ok(true)
}

/// Sets the tracking number of a shipped order.
pub async fn set_tracking<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    tracking: &str,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE orders SET tracking_number = $1 WHERE id = $2",
        [tracking.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// Records what payments last said of the order's payment, unless a newer word is held.
/// The checkout URL, once known, is kept whatever the order of events. News of the
/// payment is a change to the order: its version moves, so a client waiting on the
/// version sees the payment appear.
pub async fn record_payment<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    payment_id: Uuid,
    status: &str,
    checkout_url: Option<&str>,
    version: i64,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE orders SET payment_id = $1, payment_checkout_url = COALESCE($2, payment_checkout_url), \
         version = version + CASE WHEN payment_version < $3 THEN 1 ELSE 0 END, \
         payment_status = CASE WHEN payment_version < $3 THEN $4 ELSE payment_status END, \
         payment_version = CASE WHEN payment_version < $3 THEN $3 ELSE payment_version END WHERE id = $5",
        [
            payment_id.into(),
            checkout_url.map(str::to_owned).into(),
            version.into(),
            status.into(),
            id.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Raises the amount refunded to `total` (refund events carry the running total).
pub async fn record_refunded<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    total: i64,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE orders SET refunded = CASE WHEN refunded < $1 THEN $1 ELSE refunded END WHERE id = $2",
        [total.into(), id.into()],
    ))
    .await?;
    Ok(())
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Order>, DbErr> {
    Order::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"),
        [id.into()],
    ))
    .one(db)
    .await
}

pub async fn lines<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<Vec<Line>, DbErr> {
    Line::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT product_id, name, unit_price, quantity, weight_grams, discount FROM order_lines WHERE order_id = $1 ORDER BY name, product_id",
        [order_id.into()],
    ))
    .all(db)
    .await
}

pub async fn timeline<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<Vec<Step>, DbErr> {
    Step::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT status, note, at FROM order_timeline WHERE order_id = $1 ORDER BY seq",
        [order_id.into()],
    ))
    .all(db)
    .await
}

/// A customer's orders, newest first, after the keyset position `after`.
pub async fn of_customer<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = match after {
        Some((at, id)) => Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 \
                 AND (placed_at < $2 OR (placed_at = $2 AND id < $3)) ORDER BY placed_at DESC, id DESC LIMIT $4"
            ),
            [customer_id.into(), at.into(), id.into(), limit.into()],
        ),
        None => Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC, id DESC LIMIT $2"
            ),
            [customer_id.into(), limit.into()],
        ),
    };
    Order::find_by_statement(stmt).all(db).await
}

/// What staff filter orders by; every part optional.
#[derive(Clone, Debug, Default)]
pub struct StaffFilter {
    pub status: Option<String>,
    pub customer_id: Option<Uuid>,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_to: Option<DateTime<Utc>>,
    pub number: Option<OrderNumber>,
}

/// An order as staff name it.
#[derive(Clone, Debug)]
pub enum OrderNumber {
    Id(Uuid),
    /// The id's last 8 hexadecimal digits, lower case: the number customers are shown.
    Short(String),
}

/// Orders matching `filter`, newest first, after the keyset position `after`.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    filter: &StaffFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1");
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, v: sea_orm::Value| {
        values.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(status) = &filter.status {
        bind(&mut sql, " AND status = ?", status.clone().into());
    }
    if let Some(customer) = filter.customer_id {
        bind(&mut sql, " AND customer_id = ?", customer.into());
    }
    if let Some(from) = filter.placed_from {
        bind(&mut sql, " AND placed_at >= ?", from.into());
    }
    if let Some(to) = filter.placed_to {
        bind(&mut sql, " AND placed_at < ?", to.into());
    }
    match &filter.number {
        Some(OrderNumber::Id(id)) => bind(&mut sql, " AND id = ?", (*id).into()),
        // The short number is a suffix of the id's text, and each back-end keeps a UUID
        // its own way: SQLite as 16 bytes (32 hex digits, upper case), PostgreSQL as
        // `uuid` (hyphenated text, lower case). Both end with the same 8 digits.
        Some(OrderNumber::Short(tail)) => {
            let clause = match db.get_database_backend() {
                DbBackend::Sqlite => " AND lower(substr(hex(id), 25)) = ?",
                _ => " AND substr(CAST(id AS TEXT), 29) = ?",
            };
            bind(&mut sql, clause, tail.clone().into());
        }
        None => {}
    }
    if let Some((at, id)) = after {
        bind(&mut sql, " AND (placed_at < ?", at.into());
        bind(&mut sql, " OR (placed_at = ?", at.into());
        bind(&mut sql, " AND id < ?))", id.into());
    }
    bind(
        &mut sql,
        " ORDER BY placed_at DESC, id DESC LIMIT ?",
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    );
    Order::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .all(db)
    .await
}

/// Orders still waiting for payment that were placed before `before`.
pub async fn unpaid_since<C: ConnectionTrait>(
    db: &C,
    status: &str,
    before: DateTime<Utc>,
) -> Result<Vec<Order>, DbErr> {
    Order::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status = $1 AND placed_at < $2 ORDER BY placed_at LIMIT 500"
        ),
        [status.into(), before.into()],
    ))
    .all(db)
    .await
}

/// A stored checkout answer.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Replay {
    pub request_hash: String,
    pub status: i32,
    pub response: String,
}

pub async fn replay<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    key: &str,
) -> Result<Option<Replay>, DbErr> {
    Replay::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT request_hash, status, response FROM idempotency_keys WHERE customer_id = $1 AND key = $2",
        [customer_id.into(), key.into()],
    ))
    .one(db)
    .await
}

/// Records a checkout's answer under its key. Fails with a unique violation when a
/// concurrent request with the same key committed first.
pub async fn remember<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    key: &str,
    request_hash: &str,
    status: u16,
    response: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        [
            customer_id.into(),
            key.into(),
            request_hash.into(),
            i32::from(status).into(),
            response.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}
