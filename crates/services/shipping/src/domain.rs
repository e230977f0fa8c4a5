//! Shipping rules, free of storage: which zone a destination falls in, what a parcel
//! weighs for the carrier, and what a rate charges for it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Carriers bill the larger of the actual weight and the volumetric weight: the volume
/// in cm³ divided by 5000 gives kilograms, so mm³ divided by 5000 gives grams.
pub const VOLUMETRIC_DIVISOR_MM3_PER_GRAM: i64 = 5000;

/// One kind of item in a shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parcel {
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub quantity: i64,
}

pub use contracts::shipping::Weights;

pub fn weigh(parcels: &[Parcel]) -> Weights {
    let mut actual = 0i64;
    let mut volume = 0i64;
    for p in parcels {
        actual = actual.saturating_add(p.weight_grams.saturating_mul(p.quantity));
        let one = p
            .length_mm
            .saturating_mul(p.width_mm)
            .saturating_mul(p.height_mm);
        volume = volume.saturating_add(one.saturating_mul(p.quantity));
    }
    // Rounded up: a carrier never bills a fraction of a gram in the shipper's favour.
    let d = VOLUMETRIC_DIVISOR_MM3_PER_GRAM;
    let volumetric = volume / d + i64::from(volume % d != 0);
    Weights {
        actual_grams: actual,
        volumetric_grams: volumetric,
        chargeable_grams: actual.max(volumetric),
    }
}

/// A step of a rate table: shipments up to `up_to_grams` cost `price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bracket {
    pub up_to_grams: i64,
    /// Minor units of the rate's currency.
    pub price: i64,
}

/// Checks a rate table: at least one step, weights strictly increasing and positive,
/// prices not negative.
pub fn check_brackets(brackets: &[Bracket]) -> Result<(), String> {
    if brackets.is_empty() || brackets.len() > 50 {
        return Err("give between 1 and 50 weight brackets".into());
    }
    let mut last = 0;
    for b in brackets {
        if b.up_to_grams <= last {
            return Err("up_to_grams must be positive and strictly increasing".into());
        }
        if !(0..=100_000_000).contains(&b.price) {
            return Err("each price must be between 0 and 100000000".into());
        }
        last = b.up_to_grams;
    }
    Ok(())
}

/// The price of shipping `grams` on a table, or `None` when it is too heavy for it.
/// Free when the goods are worth at least `free_over` (in the same currency).
pub fn price(
    brackets: &[Bracket],
    grams: i64,
    goods_value: Option<i64>,
    free_over: Option<i64>,
) -> Option<i64> {
    let bracket = brackets.iter().find(|b| grams <= b.up_to_grams)?;
    match (goods_value, free_over) {
        (Some(value), Some(threshold)) if value >= threshold => Some(0),
        _ => Some(bracket.price),
    }
}

/// How specifically a zone covers a postal code: `None` when it does not, otherwise the
/// length of the matching prefix (0 for a zone covering the whole country).
pub fn coverage(prefixes: &[String], postal_code: Option<&str>) -> Option<usize> {
    if prefixes.is_empty() {
        return Some(0);
    }
    let code = normalise_postal(postal_code?);
    prefixes
        .iter()
        .filter(|p| code.starts_with(p.as_str()))
        .map(String::len)
        .max()
}

/// Postal codes compare without spaces or dashes and in upper case (`SW1A 1AA`).
pub fn normalise_postal(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parcel(weight: i64, dims: (i64, i64, i64), quantity: i64) -> Parcel {
        Parcel {
            weight_grams: weight,
            length_mm: dims.0,
            width_mm: dims.1,
            height_mm: dims.2,
            quantity,
        }
    }

    #[test]
    fn a_dense_parcel_is_billed_by_its_weight() {
        // 10 × 10 × 10 cm = 1000 cm³ → 200 g volumetric; it weighs 2 kg.
        let w = weigh(&[parcel(2000, (100, 100, 100), 1)]);
        assert_eq!(
            w,
            Weights {
                actual_grams: 2000,
                volumetric_grams: 200,
                chargeable_grams: 2000
            }
        );
    }

    #[test]
    fn a_bulky_parcel_is_billed_by_its_volume() {
        // Two pillows of 50 × 40 × 20 cm (40,000 cm³ → 8 kg each) weighing 500 g.
        let w = weigh(&[parcel(500, (500, 400, 200), 2)]);
        assert_eq!(w.actual_grams, 1000);
        assert_eq!(w.volumetric_grams, 16_000);
        assert_eq!(w.chargeable_grams, 16_000);
    }

    #[test]
    fn volumetric_weight_rounds_up() {
        assert_eq!(weigh(&[parcel(0, (1, 1, 1), 1)]).volumetric_grams, 1);
    }

    #[test]
    fn the_first_bracket_that_holds_the_weight_prices_it() {
        let table = [
            Bracket {
                up_to_grams: 1000,
                price: 500,
            },
            Bracket {
                up_to_grams: 5000,
                price: 900,
            },
        ];
        assert_eq!(price(&table, 1, None, None), Some(500));
        assert_eq!(price(&table, 1000, None, None), Some(500));
        assert_eq!(price(&table, 1001, None, None), Some(900));
        assert_eq!(price(&table, 5001, None, None), None, "too heavy");
        assert_eq!(price(&table, 10, Some(5000), Some(5000)), Some(0), "free");
        assert_eq!(price(&table, 10, Some(4999), Some(5000)), Some(500));
    }

    #[test]
    fn brackets_must_increase() {
        let b = |up_to_grams, price| Bracket { up_to_grams, price };
        assert!(check_brackets(&[b(100, 1), b(200, 2)]).is_ok());
        assert!(check_brackets(&[]).is_err());
        assert!(check_brackets(&[b(200, 1), b(100, 2)]).is_err());
        assert!(check_brackets(&[b(0, 1)]).is_err());
        assert!(check_brackets(&[b(100, -1)]).is_err());
    }

    #[test]
    fn the_longest_postal_prefix_is_the_most_specific() {
        let remote = vec!["995".to_owned(), "9968".to_owned()];
        assert_eq!(coverage(&[], Some("10001")), Some(0));
        assert_eq!(coverage(&[], None), Some(0));
        assert_eq!(coverage(&remote, Some("99501")), Some(3));
        assert_eq!(coverage(&remote, Some("99681")), Some(4));
        assert_eq!(coverage(&remote, Some("10001")), None);
        assert_eq!(coverage(&remote, None), None);
        assert_eq!(
            coverage(&["SW1".to_owned()], Some("sw1a 1aa")),
            Some(3),
            "spaces and case do not matter"
        );
    }
}
