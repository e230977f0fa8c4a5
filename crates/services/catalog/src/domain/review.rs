//! Reviews as the catalog accepts them, and what each one adds to its product's rating.

use platform::validate::Fields;

pub const MAX_TITLE: usize = 120;
pub const MAX_BODY: usize = 5000;
/// The name shown with a review when catalog does not know the customer's: access
/// tokens carry no name (`contracts::claims::AccessClaims`), and catalog keeps no
/// customer data of its own.
pub const ANONYMOUS_AUTHOR: &str = "Customer";

/// A rating: a whole number of stars from 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stars(u8);

impl Stars {
    /// Accepts the JSON number a client sent; `2.5`, `2.0`, `0` and `6` are refused.
    pub fn parse(raw: &serde_json::Number) -> Result<Self, String> {
        match raw.as_i64() {
            Some(n @ 1..=5) => Ok(Self(n as u8)),
            _ => Err("must be a whole number from 1 to 5".into()),
        }
    }

    /// A rating read back from the store, which only ever holds parsed ones.
    pub fn from_stored(n: i32) -> Self {
        Self(n.clamp(1, 5) as u8)
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

/// Checks an optional title: one line of at most [`MAX_TITLE`] characters; blank means
/// no title.
pub fn parse_title(f: &mut Fields, raw: &str) -> Option<String> {
    f.text("title", raw, 0, MAX_TITLE).filter(|t| !t.is_empty())
}

/// Checks a body: at most [`MAX_BODY`] characters, possibly empty, newlines kept. `None`
/// when invalid (reported in `f`).
pub fn parse_body(f: &mut Fields, raw: &str) -> Option<String> {
    f.multiline("body", raw, 0, MAX_BODY)
}

/// What one review adds to its product's rating: its stars while visible, nothing
/// while hidden (or once it is gone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contribution {
    pub count: i64,
    pub sum: i64,
}

impl Contribution {
    pub const NONE: Self = Self { count: 0, sum: 0 };

    pub fn of(stars: Stars, hidden: bool) -> Self {
        if hidden {
            Self::NONE
        } else {
            Self {
                count: 1,
                sum: stars.get(),
            }
        }
    }

    /// The change to a product's `(rating_count, rating_sum)` when a review's
    /// contribution goes from `self` to `after`.
    pub fn change_to(self, after: Self) -> Self {
        Self {
            count: after.count - self.count,
            sum: after.sum - self.sum,
        }
    }

    pub fn is_none(self) -> bool {
        self == Self::NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(json: &str) -> serde_json::Number {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn only_whole_stars_from_one_to_five_are_ratings() {
        for ok in ["1", "3", "5"] {
            assert!(Stars::parse(&number(ok)).is_ok(), "{ok}");
        }
        for bad in ["0", "6", "-1", "2.5", "2.0", "1e3", "18446744073709551615"] {
            assert!(Stars::parse(&number(bad)).is_err(), "{bad}");
        }
        assert_eq!(Stars::parse(&number("4")).unwrap().get(), 4);
    }

    #[test]
    fn titles_are_one_bounded_line_and_blank_means_none() {
        let mut f = Fields::new();
        assert_eq!(
            parse_title(&mut f, "  Great mug "),
            Some("Great mug".into())
        );
        assert_eq!(parse_title(&mut f, "   "), None);
        assert!(f.is_empty());
        assert_eq!(
            parse_title(&mut f, &"a".repeat(MAX_TITLE)).map(|t| t.len()),
            Some(120)
        );
        assert_eq!(parse_title(&mut f, &"a".repeat(MAX_TITLE + 1)), None);
        assert_eq!(parse_title(&mut f, "two\nlines"), None);
        assert!(f.finish().is_err());
    }

    #[test]
    fn bodies_may_be_empty_and_keep_their_line_breaks() {
        let mut f = Fields::new();
        assert_eq!(parse_body(&mut f, ""), Some(String::new()));
        assert_eq!(
            parse_body(&mut f, "Good.\r\nWould buy again."),
            Some("Good.\nWould buy again.".into())
        );
        assert!(f.is_empty());
        assert_eq!(parse_body(&mut f, &"é".repeat(MAX_BODY + 1)), None);
        assert!(!f.is_empty());
    }

    #[test]
    fn hidden_reviews_contribute_nothing_to_the_rating() {
        let (four, two) = (Stars::from_stored(4), Stars::from_stored(2));
        let visible = Contribution::of(four, false);
        assert_eq!(visible, Contribution { count: 1, sum: 4 });
        assert!(Contribution::of(four, true).is_none());
        // Created, edited, hidden, shown again, deleted.
        assert_eq!(
            Contribution::NONE.change_to(visible),
            Contribution { count: 1, sum: 4 }
        );
        assert_eq!(
            visible.change_to(Contribution::of(two, false)),
            Contribution { count: 0, sum: -2 }
        );
        assert_eq!(
            visible.change_to(Contribution::of(four, true)),
            Contribution { count: -1, sum: -4 }
        );
        assert_eq!(
            Contribution::of(four, true).change_to(visible),
            Contribution { count: 1, sum: 4 }
        );
        assert_eq!(
            visible.change_to(Contribution::NONE),
            Contribution { count: -1, sum: -4 }
        );
        assert!(
            Contribution::of(four, true)
                .change_to(Contribution::of(two, true))
                .is_none()
        );
    }
}
