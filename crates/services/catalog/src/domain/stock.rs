//! Stock arithmetic: what a staff change does to a product's counts.

use platform::validate::MAX_COUNT;

/// A product's stock. `reserved` units belong to orders awaiting payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Stock {
    pub fn available(self) -> i64 {
        (self.on_hand - self.reserved).max(0)
    }
}

/// A change staff asks for: a new count, or a delta from a delivery or a stock take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockChange {
    Set(i64),
    Adjust(i64),
}

/// Why a change cannot apply.
#[derive(Debug, PartialEq, Eq)]
pub enum StockError {
    /// The count would drop below what is reserved for orders (or below zero).
    BelowReserved { reserved: i64 },
    /// The count would pass [`MAX_COUNT`], the bound of every count in the shop.
    AboveMaximum,
}

/// The on-hand count after `change`; never negative, never below the reservations.
pub fn apply(stock: Stock, change: StockChange) -> Result<i64, StockError> {
    let next = match change {
        StockChange::Set(n) => n,
        StockChange::Adjust(d) => stock.on_hand.saturating_add(d),
    };
    if next < stock.reserved.max(0) || next < 0 {
        return Err(StockError::BelowReserved {
            reserved: stock.reserved,
        });
    }
    if next > MAX_COUNT {
        return Err(StockError::AboveMaximum);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_never_drops_below_zero_or_the_reservations() {
        let s = Stock {
            on_hand: 10,
            reserved: 3,
        };
        assert_eq!(s.available(), 7);
        assert_eq!(apply(s, StockChange::Set(5)), Ok(5));
        assert_eq!(apply(s, StockChange::Adjust(-7)), Ok(3));
        assert!(apply(s, StockChange::Adjust(-8)).is_err());
        assert!(apply(s, StockChange::Set(2)).is_err());
        assert!(
            apply(
                Stock {
                    on_hand: 0,
                    reserved: 0
                },
                StockChange::Set(-1)
            )
            .is_err()
        );
        assert_eq!(apply(s, StockChange::Adjust(MAX_COUNT - 10)), Ok(MAX_COUNT));
        assert_eq!(
            apply(s, StockChange::Adjust(MAX_COUNT - 9)),
            Err(StockError::AboveMaximum)
        );
    }
}
