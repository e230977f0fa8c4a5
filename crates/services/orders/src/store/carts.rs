//! Carts and wishlists: one row per customer and product.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

#[derive(Clone, Debug, FromQueryResult)]
pub struct CartLine {
    pub product_id: Uuid,
    pub quantity: i32,
    pub selected: bool,
    pub seen_price: i64,
    pub seen_currency: String,
    pub added_at: DateTime<Utc>,
}

pub async fn lines<C: ConnectionTrait>(db: &C, customer_id: Uuid) -> Result<Vec<CartLine>, DbErr> {
    CartLine::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT product_id, quantity, selected, seen_price, seen_currency, added_at FROM cart_lines \
         WHERE customer_id = $1 ORDER BY added_at, product_id",
        [customer_id.into()],
    ))
    .all(db)
    .await
}

/// Adds `quantity` to a line (creating it, selected), capped at `max`; returns the new
/// quantity. The price the customer now sees becomes the line's reference price.
pub async fn add<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
    quantity: i32,
    max: i32,
    price: (i64, &str),
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO cart_lines (customer_id, product_id, quantity, selected, seen_price, seen_currency, added_at, updated_at) \
         VALUES ($1, $2, $3, TRUE, $4, $5, $6, $6) \
         ON CONFLICT (customer_id, product_id) DO UPDATE SET \
         quantity = CASE WHEN cart_lines.quantity + excluded.quantity > $7 THEN $7 ELSE cart_lines.quantity + excluded.quantity END, \
         seen_price = excluded.seen_price, seen_currency = excluded.seen_currency, updated_at = excluded.updated_at",
        [
            customer_id.into(),
            product_id.into(),
            quantity.into(),
            price.0.into(),
            price.1.into(),
            now.into(),
            max.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Changes a line; `false` when the cart has no such line.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
    quantity: Option<i32>,
    selected: Option<bool>,
    price: (i64, &str),
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE cart_lines SET quantity = COALESCE($1, quantity), selected = COALESCE($2, selected), \
             seen_price = $3, seen_currency = $4, updated_at = $5 WHERE customer_id = $6 AND product_id = $7",
            [
                quantity.into(),
                selected.into(),
                price.0.into(),
                price.1.into(),
                now.into(),
                customer_id.into(),
                product_id.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn remove<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "DELETE FROM cart_lines WHERE customer_id = $1 AND product_id = $2",
            [customer_id.into(), product_id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

#[derive(Clone, Debug, FromQueryResult)]
pub struct WishlistItem {
    pub product_id: Uuid,
    pub added_at: DateTime<Utc>,
}

pub async fn wishlist<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> Result<Vec<WishlistItem>, DbErr> {
    WishlistItem::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT product_id, added_at FROM wishlist_items WHERE customer_id = $1 ORDER BY added_at DESC, product_id DESC",
        [customer_id.into()],
    ))
    .all(db)
    .await
}

/// Adds a product to the wishlist; adding it again changes nothing.
pub async fn wish<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO wishlist_items (customer_id, product_id, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (customer_id, product_id) DO NOTHING",
        [customer_id.into(), product_id.into(), now.into()],
    ))
    .await?;
    Ok(())
}

pub async fn unwish<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    product_id: Uuid,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM wishlist_items WHERE customer_id = $1 AND product_id = $2",
        [customer_id.into(), product_id.into()],
    ))
    .await?;
    Ok(())
}
