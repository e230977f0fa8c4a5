//! Products as the catalog accepts them.

use platform::validate::Fields;

/// Upper bound for a price in minor units (ten billion of a currency's major unit).
pub const MAX_PRICE: i64 = 1_000_000_000_000;
/// The longest side and the heaviest weight we accept: 10 m and 100 t. Anything bigger
/// is a typo, and these bounds keep a quote's arithmetic exact: a hundred lines of a
/// thousand such parcels come to 10¹⁷ mm³ and 10¹³ g, far inside an `i64`.
pub const MAX_MM: i64 = 10_000;
pub const MAX_GRAMS: i64 = 100_000_000;
pub const MAX_CATEGORIES: usize = 20;

/// Turns a name into a URL slug: lower-case ASCII letters and digits joined by hyphens.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars()
        .take(80)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// A slug a client chose: 1–80 of `a-z`, `0-9` and single inner hyphens, not a UUID
/// (UUIDs are how products are addressed by id on the same path).
pub fn parse_slug(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 80
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
        && !raw.ends_with('-')
        && !raw.contains("--");
    if !ok {
        return Err(
            "must be 1–80 lower-case letters, digits and single hyphens, like red-shoes-42".into(),
        );
    }
    if uuid::Uuid::parse_str(raw).is_ok() {
        return Err("must not look like an id".into());
    }
    Ok(raw.to_owned())
}

pub use platform::validate::parse_currency;

/// The name, slug and description every catalog entry has, as sent.
pub struct NamingInput<'a> {
    pub name: Option<&'a str>,
    pub slug: Option<&'a str>,
    pub description: Option<&'a str>,
}

/// Validated naming; `None` fields failed and are reported in `f`.
pub struct Naming {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
}

/// Validates naming over `base` (the current values for an edit): the name is required
/// on create, the slug defaults to one made from the name, the description to empty.
pub fn parse_naming(
    f: &mut Fields,
    input: NamingInput<'_>,
    base: Option<(&str, &str, &str)>,
    max_description: usize,
) -> Naming {
    let name = match (input.name, base) {
        (Some(n), _) => f.text("name", n, 1, 200),
        (None, Some((n, _, _))) => Some(n.to_owned()),
        (None, None) => {
            f.add("name", "is required");
            None
        }
    };
    let slug = match (input.slug, base, &name) {
        (Some(raw), _, _) => f.parse("slug", parse_slug(raw)),
        (None, Some((_, s, _)), _) => Some(s.to_owned()),
        // A name with no Latin letters or digits (`茶碗`) still gets a working URL.
        (None, None, Some(n)) => Some(slugify(n)).filter(|s| !s.is_empty()).or_else(|| {
            let id = uuid::Uuid::new_v4().simple().to_string();
            Some(format!("item-{}", &id[..12]))
        }),
        (None, None, None) => None,
    };
    let description = match (input.description, base) {
        (Some(d), _) => f.multiline("description", d, 0, max_description),
        (None, Some((_, _, d))) => Some(d.to_owned()),
        (None, None) => Some(String::new()),
    };
    Naming {
        name,
        slug,
        description,
    }
}

pub fn check_amount(f: &mut Fields, field: &str, value: i64, max: i64) {
    if value < 0 {
        f.add(field, "must not be negative");
    } else if value > max {
        f.add(field, format!("must be at most {max}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_become_readable_slugs() {
        assert_eq!(slugify("Red Shoes, size 42!"), "red-shoes-size-42");
        assert_eq!(slugify("  Café  au lait "), "caf-au-lait");
        assert_eq!(slugify("---"), "");
    }

    #[test]
    fn slugs_and_currencies_are_checked() {
        assert!(parse_slug("red-shoes").is_ok());
        for bad in [
            "",
            "Red",
            "a--b",
            "-a",
            "a-",
            "a b",
            &"a".repeat(81),
            "0191f0a4-5d6c-7000-8000-000000000000",
        ] {
            assert!(parse_slug(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_currency("idr").unwrap(), "IDR");
        assert!(parse_currency("US").is_err());
        assert!(parse_currency("U$D").is_err());
    }

    proptest! {
        #[test]
        fn every_slugified_name_is_a_valid_slug_or_empty(name in "\\PC{0,120}") {
            let s = slugify(&name);
            prop_assert!(s.is_empty() || parse_slug(&s).is_ok() || uuid::Uuid::parse_str(&s).is_ok(), "{}", s);
        }
    }
}
