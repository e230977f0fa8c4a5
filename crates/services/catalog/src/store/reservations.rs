//! Reserving stock for orders: all lines or none, each a conditional update that only
//! succeeds while enough units are free, so concurrent orders can never oversell.
//! A reservation is `held` until the order is paid (`committed`: the units leave
//! `on_hand` and count as sold) or ends (`released`; a committed one is `restocked`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

/// Sums an order's quantities per product, in a fixed (id) order so concurrent
/// reservations lock rows in the same order and cannot deadlock.
pub fn per_product(lines: impl IntoIterator<Item = (Uuid, i64)>) -> BTreeMap<Uuid, i64> {
    let mut out = BTreeMap::new();
    for (product, quantity) in lines {
        *out.entry(product).or_insert(0) += quantity;
    }
    out
}

/// Reserves `quantity` of a product if that many are free and it is sold; `false`
/// otherwise (nothing changed).
pub async fn reserve<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    quantity: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE products SET reserved = reserved + $1, stock_version = stock_version + 1, updated_at = $2 \
             WHERE id = $3 AND active AND on_hand - reserved >= $1 AND $1 > 0",
            [quantity.into(), now.into(), product_id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    product_id: Uuid,
    quantity: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO reservations (order_id, product_id, quantity, state, created_at, updated_at) \
         VALUES ($1, $2, $3, 'held', $4, $4)",
        [
            order_id.into(),
            product_id.into(),
            quantity.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Gives back what an order still holds: each held line leaves `reserved` and is marked
/// released. Returns the products touched.
pub async fn release<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    settle(
        db,
        order_id,
        "held",
        "released",
        "UPDATE products SET reserved = reserved - $1, stock_version = stock_version + 1, updated_at = $2 \
         WHERE id = $3 AND reserved >= $1",
        now,
    )
    .await
}

/// Moves an order's reservation from `from` to `to`, adjusting each product with
/// `product_sql` (bound: quantity, now, product id). Returns the products touched; none
/// when nothing was in `from` (a redelivery).
async fn settle<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    from: &str,
    to: &str,
    product_sql: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT product_id, quantity FROM reservations WHERE order_id = $1 AND state = $2 ORDER BY product_id",
            [order_id.into(), from.into()],
        ))
        .await?;
    let mut touched = Vec::with_capacity(rows.len());
    for row in rows {
        let product_id: Uuid = row.try_get("", "product_id")?;
        let quantity: i64 = row.try_get("", "quantity")?;
        // The line moves first, and the product only if this transaction moved it: a
        // concurrent settlement of the same line (another replica) waits for the row and
        // then finds it no longer in `from`.
        let moved = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "UPDATE reservations SET state = $1, updated_at = $2 WHERE order_id = $3 AND product_id = $4 AND state = $5",
                [to.into(), now.into(), order_id.into(), product_id.into(), from.into()],
            ))
            .await?;
        if moved.rows_affected() == 0 {
            continue;
        }
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            product_sql,
            [quantity.into(), now.into(), product_id.into()],
        ))
        .await?;
        touched.push(product_id);
    }
    Ok(touched)
}

/// A paid order's held units are sold: they leave `on_hand` and `reserved` together and
/// count in `units_sold`.
pub async fn commit<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    settle(
        db,
        order_id,
        "held",
        "committed",
        "UPDATE products SET on_hand = on_hand - $1, reserved = reserved - $1, units_sold = units_sold + $1, \
         stock_version = stock_version + 1, updated_at = $2 WHERE id = $3",
        now,
    )
    .await
}

/// A sold order that was cancelled before shipping: its units go back on the shelf.
pub async fn restock<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    settle(
        db,
        order_id,
        "committed",
        "restocked",
        "UPDATE products SET on_hand = on_hand + $1, units_sold = units_sold - $1, \
         stock_version = stock_version + 1, updated_at = $2 WHERE id = $3",
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_summed_per_product_in_id_order() {
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let summed: Vec<_> = per_product([(a, 2), (b, 1), (a, 3)]).into_iter().collect();
        assert_eq!(summed, [(b, 1), (a, 5)]);
    }
}
