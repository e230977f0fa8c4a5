//! A cart as the customer sees it: current prices, what is selected for checkout, and
//! a warning on every line that is not what it was when it was added.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::discount::{Applied, Code, CodeProblem, Line, Refusal};
use crate::store::carts::CartLine;
use crate::store::replicas::Product;

/// Most units of one product in a cart.
pub const MAX_QUANTITY: i32 = 99;
/// Most lines in a cart.
pub const MAX_LINES: usize = 100;

/// Why a line needs the customer's attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The price changed since the customer last looked at this line.
    PriceChanged { was: i64, now: i64 },
    /// None left.
    OutOfStock,
    /// Fewer left than the line asks for.
    InsufficientStock { available: i64 },
    /// No longer sold.
    Unavailable,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LineView {
    pub product_id: Uuid,
    pub name: String,
    pub slug: String,
    /// The current price, minor units.
    pub unit_price: i64,
    pub currency: String,
    pub quantity: i32,
    /// Whether checkout buys this line.
    pub selected: bool,
    pub line_total: i64,
    /// This line's share of the discount code's reduction, minor units.
    pub discount: i64,
    pub warnings: Vec<Warning>,
    pub added_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CartView {
    pub lines: Vec<LineView>,
    /// Units in the cart, selected or not.
    pub item_count: i64,
    /// Units in the selected lines.
    pub selected_count: i64,
    /// Of the selected lines that can be bought, minor units of `currency`.
    pub subtotal: i64,
    /// What the discount code takes off the subtotal (shipping aside).
    pub discount: i64,
    pub currency: Option<String>,
    /// The discount code on the cart, and why it does not apply if it does not.
    pub code: Option<CartCode>,
    /// Whether every selected line can be bought as it is (and the code, if any,
    /// applies).
    pub ready_for_checkout: bool,
}

/// A discount code on the cart.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CartCode {
    pub code: String,
    /// `percentage`, `fixed_amount` or `free_shipping`.
    pub kind: String,
    /// Whether checkout waives the shipping.
    pub free_shipping: bool,
    /// Why the code does not apply to the cart as it is now; checkout refuses until the
    /// cart or the code changes.
    pub problem: Option<CodeProblem>,
}

/// Whether a warning keeps a line from being bought.
fn blocks(w: &Warning) -> bool {
    matches!(
        w,
        Warning::OutOfStock | Warning::Unavailable | Warning::InsufficientStock { .. }
    )
}

impl CartView {
    /// Applies the code `text` (with rules `code`, used `used_by_customer` times by this
    /// customer) to the selected lines that can be bought: each line's share, the
    /// discount, and the code's state; what it takes off, or why it does not apply.
    pub fn apply_code(
        &mut self,
        text: &str,
        code: &Code,
        products: &[Product],
        now: chrono::DateTime<chrono::Utc>,
        used_by_customer: i64,
    ) -> Result<Applied, Refusal> {
        let categories: Vec<Vec<Uuid>> = self
            .lines
            .iter()
            .map(|l| {
                products
                    .iter()
                    .find(|p| p.id == l.product_id)
                    .map(Product::category_ids)
                    .unwrap_or_default()
            })
            .collect();
        let lines: Vec<Line<'_>> = self
            .lines
            .iter()
            .zip(&categories)
            .map(|(l, category_ids)| Line {
                product_id: l.product_id,
                category_ids,
                total: if l.selected && !l.warnings.iter().any(blocks) {
                    l.line_total
                } else {
                    0
                },
            })
            .collect();
        let currency = self.currency.clone().unwrap_or_default();
        let outcome = code.apply(now, &currency, self.subtotal, used_by_customer, &lines);
        self.code = Some(CartCode {
            code: text.to_owned(),
            kind: code.kind.name().to_owned(),
            free_shipping: matches!(&outcome, Ok(a) if a.free_shipping),
            problem: outcome.as_ref().err().map(Refusal::problem),
        });
        match &outcome {
            Ok(applied) => {
                for (line, share) in self.lines.iter_mut().zip(&applied.lines) {
                    line.discount = *share;
                }
                self.discount = applied.goods();
            }
            Err(_) => self.ready_for_checkout = false,
        }
        outcome
    }
}

pub fn view(lines: Vec<CartLine>, products: &[Product]) -> CartView {
    let mut out = Vec::with_capacity(lines.len());
    let (mut items, mut selected_count, mut subtotal) = (0i64, 0i64, 0i64);
    let mut currency: Option<String> = None;
    let mut ready = true;
    for line in lines {
        let quantity = i64::from(line.quantity);
        items += quantity;
        let product = products.iter().find(|p| p.id == line.product_id);
        let mut warnings = Vec::new();
        let (name, slug, price, line_currency) = match product {
            Some(p) => (p.name.clone(), p.slug.clone(), p.price, p.currency.clone()),
            None => (
                String::new(),
                String::new(),
                line.seen_price,
                line.seen_currency.clone(),
            ),
        };
        match product {
            Some(p) if p.active => {
                if p.available <= 0 {
                    warnings.push(Warning::OutOfStock);
                } else if p.available < quantity {
                    warnings.push(Warning::InsufficientStock {
                        available: p.available,
                    });
                }
                if p.price != line.seen_price || p.currency != line.seen_currency {
                    warnings.push(Warning::PriceChanged {
                        was: line.seen_price,
                        now: p.price,
                    });
                }
            }
            _ => warnings.push(Warning::Unavailable),
        }
        let buyable = !warnings.iter().any(blocks);
        if line.selected {
            selected_count += quantity;
            ready &= buyable;
            if buyable {
                subtotal = subtotal.saturating_add(price.saturating_mul(quantity));
                currency.get_or_insert_with(|| line_currency.clone());
            }
        }
        out.push(LineView {
            product_id: line.product_id,
            name,
            slug,
            unit_price: price,
            currency: line_currency,
            quantity: line.quantity,
            selected: line.selected,
            line_total: price.saturating_mul(quantity),
            discount: 0,
            warnings,
            added_at: line.added_at,
        });
    }
    CartView {
        lines: out,
        item_count: items,
        selected_count,
        subtotal,
        discount: 0,
        currency,
        code: None,
        ready_for_checkout: ready && selected_count > 0,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn product(price: i64, available: i64, active: bool) -> Product {
        Product {
            id: Uuid::from_u128(1),
            slug: "mug".into(),
            name: "Mug".into(),
            price,
            currency: "USD".into(),
            weight_grams: 300,
            active,
            available,
            categories: serde_json::json!([]),
        }
    }

    fn line(quantity: i32, seen_price: i64, selected: bool) -> CartLine {
        CartLine {
            product_id: Uuid::from_u128(1),
            quantity,
            selected,
            seen_price,
            seen_currency: "USD".into(),
            added_at: Utc::now(),
        }
    }

    #[test]
    fn a_plain_line_counts_toward_the_subtotal() {
        let cart = view(vec![line(2, 500, true)], &[product(500, 10, true)]);
        assert_eq!(cart.subtotal, 1000);
        assert_eq!((cart.item_count, cart.selected_count), (2, 2));
        assert!(cart.lines[0].warnings.is_empty());
        assert!(cart.ready_for_checkout);
    }

    #[test]
    fn a_price_change_is_pointed_out_but_does_not_block() {
        let cart = view(vec![line(1, 500, true)], &[product(650, 10, true)]);
        assert_eq!(
            cart.lines[0].warnings,
            [Warning::PriceChanged { was: 500, now: 650 }]
        );
        assert_eq!(cart.subtotal, 650, "the current price is what is paid");
        assert!(cart.ready_for_checkout);
    }

    #[test]
    fn stock_problems_and_archived_products_block_checkout() {
        for (p, expected) in [
            (product(500, 0, true), Warning::OutOfStock),
            (
                product(500, 1, true),
                Warning::InsufficientStock { available: 1 },
            ),
            (product(500, 10, false), Warning::Unavailable),
        ] {
            let cart = view(vec![line(2, 500, true)], &[p]);
            assert_eq!(cart.lines[0].warnings, [expected]);
            assert_eq!(cart.subtotal, 0);
            assert!(!cart.ready_for_checkout);
        }
        let unknown = view(vec![line(1, 500, true)], &[]);
        assert_eq!(unknown.lines[0].warnings, [Warning::Unavailable]);
    }

    #[test]
    fn unselected_lines_are_kept_but_not_bought() {
        let cart = view(vec![line(3, 500, false)], &[product(500, 10, true)]);
        assert_eq!(
            (cart.item_count, cart.selected_count, cart.subtotal),
            (3, 0, 0)
        );
        assert!(!cart.ready_for_checkout, "nothing selected");
    }
}
