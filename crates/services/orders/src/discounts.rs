//! Discount codes in use: the cart priced with its code, putting a code on the cart,
//! and claiming a use of it in the order's transaction. An order that ends unbought
//! gives its use back (`store::discounts::give_back`, beside the status change).

use chrono::{DateTime, Utc};
use platform::error::{ApiError, ApiResult};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::cart::{self, CartView};
use crate::domain::discount::{Applied, Refusal};
use crate::store::discounts::{self, Discount};
use crate::store::replicas::Product;
use crate::store::{carts, replicas};

/// A refusal as an answer: a conflict between the code and the cart as it is.
pub(crate) fn refused(r: &Refusal) -> ApiError {
    ApiError::conflict(r.code(), r.detail())
}

/// The customer's cart at current prices, with its code applied (or the reason it does
/// not apply), and the products it was priced from.
pub(crate) async fn priced_cart<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(CartView, Vec<Product>)> {
    let lines = carts::lines(db, customer_id).await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let products = replicas::products(db, &ids).await?;
    let mut view = cart::view(lines, &products);
    if let Some(code) = discounts::of_cart(db, customer_id).await? {
        let used = discounts::uses_by(db, code.id, customer_id).await?;
        // The outcome is in the view, problem and all.
        let _ = view.apply_code(&code.code, &code.rules(), &products, now, used);
    }
    Ok((view, products))
}

/// Puts the code the customer typed on the cart, if it applies to the cart as it is.
pub(crate) async fn put_on_cart<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    typed: &str,
    now: DateTime<Utc>,
) -> ApiResult<CartView> {
    let code = discounts::by_code(db, typed)
        .await?
        .ok_or_else(|| refused(&Refusal::Unknown))?;
    let (mut view, products) = priced_cart(db, customer_id, now).await?;
    let used = discounts::uses_by(db, code.id, customer_id).await?;
    view.apply_code(&code.code, &code.rules(), &products, now, used)
        .map_err(|r| refused(&r))?;
    discounts::put_on_cart(db, customer_id, code.id, now).await?;
    Ok(view)
}

/// Claims a use of the cart's code for `order_id`, inside the order's transaction, and
/// applies it to `view` (the lines being bought). `None` when the cart holds no code;
/// a refusal when it no longer applies, used up by others meanwhile included.
///
/// The use is counted first: that update holds the code's row until the transaction
/// ends, so the checks that follow (this customer's uses among them) see every use
/// committed before and none can slip in beside them.
pub(crate) async fn claim<C: ConnectionTrait>(
    work: &C,
    customer_id: Uuid,
    order_id: Uuid,
    view: &mut CartView,
    products: &[Product],
    now: DateTime<Utc>,
) -> ApiResult<Option<(Discount, Applied)>> {
    let Some(held) = discounts::of_cart(work, customer_id).await? else {
        return Ok(None);
    };
    if !discounts::count_use(work, held.id).await? {
        let refusal = match held.rules().active {
            true => Refusal::UsedUp,
            false => Refusal::Unknown,
        };
        return Err(refused(&refusal));
    }
    let mut code = discounts::get(work, held.id)
        .await?
        .ok_or_else(|| refused(&Refusal::Unknown))?;
    // Judged as it stood before this use.
    code.times_used -= 1;
    let used = discounts::uses_by(work, code.id, customer_id).await?;
    let applied = view
        .apply_code(&code.code, &code.rules(), products, now, used)
        .map_err(|r| refused(&r))?;
    discounts::record_use(work, code.id, order_id, customer_id, now).await?;
    discounts::take_off_cart(work, customer_id).await?;
    Ok(Some((code, applied)))
}
