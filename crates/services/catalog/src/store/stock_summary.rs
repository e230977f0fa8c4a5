//! The stock figures staff start their day with: how many products are sold out, how
//! many are running low, and the lowest of them. Archived products do not count.

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entities::product;

/// A product as the figures list it.
pub struct LowProduct {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub on_hand: i64,
    pub reserved: i64,
}

pub struct StockSummary {
    /// Nothing left to sell (all on hand is reserved, or none is).
    pub out_of_stock: u64,
    /// Some left, fewer than the threshold.
    pub low: u64,
    /// The products with the fewest left, sold-out ones first.
    pub lowest: Vec<LowProduct>,
}

fn available() -> SimpleExpr {
    Expr::col(product::Column::OnHand).sub(Expr::col(product::Column::Reserved))
}

/// The figures with "low" meaning fewer than `below` available, and the `lowest` first
/// products under it.
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    below: i64,
    lowest: u64,
) -> Result<StockSummary, DbErr> {
    let active = || product::Entity::find().filter(product::Column::Active.eq(true));
    let out_of_stock = active().filter(available().lte(0)).count(db).await?;
    let low = active()
        .filter(available().gt(0))
        .filter(available().lt(below))
        .count(db)
        .await?;
    let lowest = active()
        .filter(available().lt(below))
        .order_by_asc(available())
        .order_by_asc(product::Column::Name)
        .order_by_asc(product::Column::Id)
        .limit(lowest)
        .all(db)
        .await?
        .into_iter()
        .map(|p| LowProduct {
            id: p.id,
            name: p.name,
            slug: p.slug,
            on_hand: p.on_hand,
            reserved: p.reserved,
        })
        .collect();
    Ok(StockSummary {
        out_of_stock,
        low,
        lowest,
    })
}
