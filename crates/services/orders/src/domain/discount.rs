//! Discount codes: when a code applies to a cart, and how much it takes off each line.
//!
//! Pure rules, no storage: the cart shows what they decide, and checkout decides again
//! in the order's transaction with the code's row locked, so what the cart promised and
//! what the order charges come from the same arithmetic.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a code takes off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// This percentage (1–100) of the lines it applies to.
    Percentage(u8),
    /// This many minor units of the code's currency, at most the lines it applies to.
    FixedAmount(i64),
    /// The shipping.
    FreeShipping,
}

impl Kind {
    pub const NAMES: [&'static str; 3] = ["percentage", "fixed_amount", "free_shipping"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::Percentage(_) => "percentage",
            Self::FixedAmount(_) => "fixed_amount",
            Self::FreeShipping => "free_shipping",
        }
    }
}

/// A code as the rules need it.
#[derive(Clone, Debug)]
pub struct Code {
    pub kind: Kind,
    /// Of the fixed amount and the minimum subtotal; `None` for a code that names
    /// neither, which applies in any currency.
    pub currency: Option<String>,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub times_used: i64,
    /// Products the code is limited to, and categories; both empty: every product.
    pub product_ids: Vec<Uuid>,
    pub category_ids: Vec<Uuid>,
    pub active: bool,
}

/// A cart line as the rules see it.
#[derive(Clone, Debug)]
pub struct Line<'a> {
    pub product_id: Uuid,
    pub category_ids: &'a [Uuid],
    /// Unit price times quantity, minor units.
    pub total: i64,
}

/// Why a code does not apply. Each is a stable problem `code` for clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such code, or staff switched it off or deleted it.
    Unknown,
    NotStarted,
    Expired,
    UsedUp,
    /// This customer has used it as often as one customer may.
    AlreadyUsed,
    BelowMinimum {
        minimum: i64,
        currency: String,
    },
    /// None of the lines is one it is for, or they are in another currency.
    NotApplicable,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown => "discount_unknown",
            Self::NotStarted => "discount_not_started",
            Self::Expired => "discount_expired",
            Self::UsedUp => "discount_used_up",
            Self::AlreadyUsed => "discount_already_used",
            Self::BelowMinimum { .. } => "discount_below_minimum",
            Self::NotApplicable => "discount_not_applicable",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Self::Unknown => "there is no such discount code".into(),
            Self::NotStarted => "this code cannot be used yet".into(),
            Self::Expired => "this code has expired".into(),
            Self::UsedUp => "this code has been used as often as it may be".into(),
            Self::AlreadyUsed => "you have already used this code".into(),
            Self::BelowMinimum { minimum, currency } => format!(
                "this code needs a subtotal of at least {}",
                contracts::money::display(*minimum, currency)
            ),
            Self::NotApplicable => "this code is not for what is in your cart".into(),
        }
    }

    /// As a problem the client can show beside the code.
    pub fn problem(&self) -> CodeProblem {
        CodeProblem {
            code: self.code().into(),
            detail: self.detail(),
        }
    }
}

/// Why a code in the cart does not apply now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CodeProblem {
    /// `discount_unknown`, `discount_not_started`, `discount_expired`,
    /// `discount_used_up`, `discount_already_used`, `discount_below_minimum` or
    /// `discount_not_applicable`.
    pub code: String,
    pub detail: String,
}

/// What a code takes off a cart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Per line, in the order given; sums to the goods' discount exactly.
    pub lines: Vec<i64>,
    /// Whether the shipping is waived.
    pub free_shipping: bool,
}

impl Applied {
    pub fn goods(&self) -> i64 {
        self.lines.iter().sum()
    }
}

impl Code {
    fn covers(&self, line: &Line<'_>) -> bool {
        (self.product_ids.is_empty() && self.category_ids.is_empty())
            || self.product_ids.contains(&line.product_id)
            || line
                .category_ids
                .iter()
                .any(|c| self.category_ids.contains(c))
    }

    /// Whether the code applies to `lines` (priced in `currency`, with `subtotal` of
    /// the whole cart) at `now` for a customer who has used it `used_by_customer` times,
    /// and if so what it takes off each line.
    pub fn apply(
        &self,
        now: DateTime<Utc>,
        currency: &str,
        subtotal: i64,
        used_by_customer: i64,
        lines: &[Line<'_>],
    ) -> Result<Applied, Refusal> {
        if !self.active {
            return Err(Refusal::Unknown);
        }
        if self.starts_at.is_some_and(|at| now < at) {
            return Err(Refusal::NotStarted);
        }
        if self.ends_at.is_some_and(|at| now >= at) {
            return Err(Refusal::Expired);
        }
        if self.usage_limit.is_some_and(|n| self.times_used >= n) {
            return Err(Refusal::UsedUp);
        }
        if self
            .per_customer_limit
            .is_some_and(|n| used_by_customer >= n)
        {
            return Err(Refusal::AlreadyUsed);
        }
        if self.currency.as_deref().is_some_and(|c| c != currency) {
            return Err(Refusal::NotApplicable);
        }
        let weights: Vec<i64> = lines
            .iter()
            .map(|l| if self.covers(l) { l.total.max(0) } else { 0 })
            .collect();
        let eligible: i64 = weights.iter().sum();
        if eligible == 0 {
            return Err(Refusal::NotApplicable);
        }
        if let Some(minimum) = self.min_subtotal.filter(|m| subtotal < *m) {
            return Err(Refusal::BelowMinimum {
                minimum,
                currency: currency.to_owned(),
            });
        }
        let (off, free_shipping) = match self.kind {
            Kind::Percentage(percent) => (percentage_of(eligible, percent), false),
            Kind::FixedAmount(amount) => (amount.clamp(0, eligible), false),
            Kind::FreeShipping => (0, true),
        };
        Ok(Applied {
            lines: allocate(off, &weights),
            free_shipping,
        })
    }
}

/// `percent` of `amount` in minor units, rounded half to even: the one rounding rule
/// for money in the shop.
pub fn percentage_of(amount: i64, percent: u8) -> i64 {
    let scaled = i128::from(amount) * i128::from(percent);
    let (whole, rest) = (scaled / 100, scaled % 100);
    let rounded = if rest > 50 || (rest == 50 && whole % 2 == 1) {
        whole + 1
    } else {
        whole
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// Splits `amount` over `weights` in proportion, in whole minor units that sum to
/// `amount` exactly (largest remainder; ties go to the earlier line). A line of weight
/// zero gets nothing; `amount` is at most the sum of the weights.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 || amount <= 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let product = amount * i128::from((*w).max(0));
        shares.push(product / total);
        remainders.push((product % total, i));
    }
    let mut left = amount - shares.iter().sum::<i128>();
    // Largest remainder first; among equals, the earlier line.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (rest, i) in remainders {
        if left == 0 {
            break;
        }
        if rest > 0 {
            shares[i] += 1;
            left -= 1;
        }
    }
    shares
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    fn code(kind: Kind) -> Code {
        Code {
            kind,
            currency: None,
            min_subtotal: None,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: None,
            times_used: 0,
            product_ids: Vec::new(),
            category_ids: Vec::new(),
            active: true,
        }
    }

    fn line(n: u128, total: i64) -> Line<'static> {
        Line {
            product_id: Uuid::from_u128(n),
            category_ids: &[],
            total,
        }
    }

    #[test]
    fn a_percentage_rounds_half_to_even() {
        assert_eq!(percentage_of(1250, 10), 125);
        assert_eq!(percentage_of(5, 10), 0, "0.5 rounds to the even 0");
        assert_eq!(percentage_of(15, 10), 2, "1.5 rounds to the even 2");
        assert_eq!(percentage_of(25, 10), 2, "2.5 rounds to the even 2");
        assert_eq!(percentage_of(26, 10), 3);
        assert_eq!(percentage_of(999, 100), 999);
        assert_eq!(percentage_of(i64::MAX, 100), i64::MAX);
    }

    #[test]
    fn a_split_sums_to_the_amount_and_follows_the_weights() {
        assert_eq!(allocate(100, &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(allocate(10, &[300, 0, 700]), [3, 0, 7]);
        assert_eq!(allocate(0, &[5, 5]), [0, 0]);
        assert_eq!(allocate(7, &[0, 0]), [0, 0]);
        assert_eq!(allocate(1, &[2, 3]), [0, 1], "the larger remainder wins");
    }

    #[test]
    fn a_code_is_refused_outside_its_window_and_limits() {
        let now = Utc::now();
        let lines = [line(1, 1000)];
        let refusal = |c: &Code, used: i64| c.apply(now, "USD", 1000, used, &lines).err();
        let mut c = code(Kind::Percentage(10));
        c.starts_at = Some(now + Duration::minutes(1));
        assert_eq!(refusal(&c, 0), Some(Refusal::NotStarted));
        c.starts_at = Some(now);
        c.ends_at = Some(now);
        assert_eq!(
            refusal(&c, 0),
            Some(Refusal::Expired),
            "ends_at is exclusive"
        );
        c.ends_at = None;
        c.usage_limit = Some(3);
        c.times_used = 3;
        assert_eq!(refusal(&c, 0), Some(Refusal::UsedUp));
        c.times_used = 2;
        c.per_customer_limit = Some(1);
        assert_eq!(refusal(&c, 1), Some(Refusal::AlreadyUsed));
        assert_eq!(refusal(&c, 0), None);
        c.active = false;
        assert_eq!(refusal(&c, 0), Some(Refusal::Unknown));
    }

    #[test]
    fn a_code_applies_to_its_products_and_categories_only() {
        let now = Utc::now();
        let shirts = [Uuid::from_u128(77)];
        let lines = [
            line(1, 1000),
            Line {
                product_id: Uuid::from_u128(2),
                category_ids: &shirts,
                total: 3000,
            },
        ];
        let mut c = code(Kind::Percentage(50));
        c.category_ids = shirts.to_vec();
        assert_eq!(
            c.apply(now, "USD", 4000, 0, &lines).map(|a| a.lines),
            Ok(vec![0, 1500])
        );
        c.category_ids.clear();
        c.product_ids = vec![Uuid::from_u128(9)];
        assert_eq!(
            c.apply(now, "USD", 4000, 0, &lines).err(),
            Some(Refusal::NotApplicable)
        );
    }

    #[test]
    fn a_fixed_amount_needs_its_currency_and_never_exceeds_the_goods() {
        let now = Utc::now();
        let mut c = code(Kind::FixedAmount(5000));
        c.currency = Some("USD".into());
        let lines = [line(1, 1000), line(2, 3000)];
        assert_eq!(
            c.apply(now, "USD", 4000, 0, &lines).map(|a| a.lines),
            Ok(vec![1000, 3000])
        );
        assert_eq!(
            c.apply(now, "EUR", 4000, 0, &lines).err(),
            Some(Refusal::NotApplicable)
        );
        c.min_subtotal = Some(5000);
        assert_eq!(
            c.apply(now, "USD", 4000, 0, &lines).err(),
            Some(Refusal::BelowMinimum {
                minimum: 5000,
                currency: "USD".into()
            })
        );
    }

    #[test]
    fn free_shipping_takes_nothing_off_the_goods() {
        let applied = code(Kind::FreeShipping)
            .apply(Utc::now(), "USD", 1000, 0, &[line(1, 1000)])
            .expect("applies");
        assert_eq!(applied.goods(), 0);
        assert!(applied.free_shipping);
    }

    proptest! {
        /// Whatever the cart and the code, the lines' shares add up to the discount to
        /// the minor unit, no share is negative or above its line, and the discount is
        /// what the code promises.
        #[test]
        fn shares_add_up_to_the_discount(
            totals in prop::collection::vec(0i64..10_000_000, 1..20),
            covered in prop::collection::vec(any::<bool>(), 20),
            percent in 1u8..=100,
            fixed in 1i64..100_000_000,
            use_percent in any::<bool>(),
        ) {
            let lines: Vec<Line<'_>> = totals
                .iter()
                .enumerate()
                .map(|(i, t)| line(i as u128, *t))
                .collect();
            let mut c = code(if use_percent { Kind::Percentage(percent) } else { Kind::FixedAmount(fixed) });
            c.product_ids = lines
                .iter()
                .zip(&covered)
                .filter(|(_, on)| **on)
                .map(|(l, _)| l.product_id)
                .collect();
            let eligible: i64 = lines
                .iter()
                .filter(|l| c.product_ids.is_empty() || c.product_ids.contains(&l.product_id))
                .map(|l| l.total)
                .sum();
            let subtotal = totals.iter().sum();
            match c.apply(Utc::now(), "USD", subtotal, 0, &lines) {
                Ok(applied) => {
                    let expected = match c.kind {
                        Kind::Percentage(p) => percentage_of(eligible, p),
                        Kind::FixedAmount(a) => a.min(eligible),
                        Kind::FreeShipping => 0,
                    };
                    prop_assert_eq!(applied.goods(), expected);
                    for (share, l) in applied.lines.iter().zip(&lines) {
                        prop_assert!(*share >= 0 && *share <= l.total);
                    }
                }
                Err(refusal) => prop_assert_eq!((refusal, eligible), (Refusal::NotApplicable, 0)),
            }
        }
    }
}
