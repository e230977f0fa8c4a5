//! OpenAPI schemas for the text a request carries, saying exactly what the validators in
//! [`crate::validate`] accept, so a client (or a generator of test requests) can tell a
//! valid request from the document alone.
//!
//! Used on request fields as `#[schema(schema_with = platform::schema::line::<1, 100>)]`.
//! The patterns follow the validators to the character: surrounding whitespace is
//! trimmed (Unicode `White_Space`, as `str::trim`), and the length bounds count the
//! characters that remain.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};

/// `str::trim`'s whitespace (Unicode `White_Space`), as a regex class body.
const WS: &str =
    "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/// What [`crate::validate::is_invisible_or_reordering`] refuses: control characters,
/// bidi controls, zero-width characters, separators and the byte-order mark.
const INVISIBLE: &str = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb";

/// A trimmed text of `min..=max` characters, each matched by `inner`, the first and
/// last not whitespace; surrounding whitespace allowed. `min` 0 also allows a text that
/// is all whitespace (it trims to nothing).
fn trimmed_pattern(inner: &str, min: usize, max: usize) -> String {
    let edge = format!("[^{WS}{INVISIBLE}]");
    let core = match (min.max(1), max.max(1)) {
        (_, 1) => edge.clone(),
        (1, max) => format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2),
        (min, max) => format!("{edge}{inner}{{{},{}}}{edge}", min - 2, max - 2),
    };
    let text = format!("^[{WS}]*{core}[{WS}]*$");
    if min == 0 {
        format!("{text}|^[{WS}]*$")
    } else {
        text
    }
}

fn string(pattern: String, nullable: bool) -> Object {
    let ty = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .pattern(Some(pattern))
        .build()
}

/// One line of `MIN..=MAX` characters (see [`crate::validate::Fields::text`]).
pub fn line<const MIN: usize, const MAX: usize>() -> Object {
    string(line_pattern(MIN, MAX), false)
}

/// [`line`], or `null` / left out.
pub fn line_or_null<const MIN: usize, const MAX: usize>() -> Object {
    string(line_pattern(MIN, MAX), true)
}

fn line_pattern(min: usize, max: usize) -> String {
    trimmed_pattern(&format!("[^{INVISIBLE}]"), min, max)
}

/// Text of at most `MAX` characters that may span lines (see
/// [`crate::validate::Fields::multiline`]); empty allowed.
pub fn multiline<const MAX: usize>() -> Object {
    string(multiline_pattern(MAX), false)
}

pub fn multiline_or_null<const MAX: usize>() -> Object {
    string(multiline_pattern(MAX), true)
}

fn multiline_pattern(max: usize) -> String {
    // Newlines (LF, or CRLF counted as one) and tabs are the only control characters a
    // text may keep.
    let invisible_but_lines =
        INVISIBLE.replace("\\u0000-\\u001f", "\\u0000-\\u0008\\u000b-\\u001f");
    trimmed_pattern(&format!("(?:[^{invisible_but_lines}]|\\r\\n)"), 0, max)
}

/// An email address as [`crate::validate::parse_email`] accepts it: a local part of the
/// characters RFC 5322 allows unquoted (dots between them), at most 64; a domain of two
/// or more labels of letters, digits and inner hyphens; 254 characters in all.
pub fn email() -> Object {
    email_schema(false)
}

pub fn email_or_null() -> Object {
    email_schema(true)
}

fn email_schema(nullable: bool) -> Object {
    let atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let pattern = format!(
        "^[{WS}]*{atom}{{1,16}}(?:\\.{atom}{{1,15}}){{0,2}}@{label}(?:\\.{label}){{1,3}}[{WS}]*$"
    );
    // No `format: email`: validators of that format refuse the surrounding whitespace
    // the shop trims, and the pattern says everything the shop checks.
    let mut schema = string(pattern, nullable);
    schema.max_length = Some(254);
    schema
}

/// An ISO 3166-1 alpha-2 country code in use, upper-case.
pub fn country() -> Object {
    let codes: Vec<&str> = crate::validate::COUNTRY_CODES.split(' ').collect();
    enumerated(&codes)
}

pub fn country_or_null() -> Object {
    let codes: Vec<&str> = crate::validate::COUNTRY_CODES.split(' ').collect();
    enumerated_or_null(&codes)
}

/// An ISO 4217 currency code in use.
pub fn currency() -> Object {
    let codes: Vec<&str> = crate::validate::CURRENCY_CODES.split(' ').collect();
    enumerated(&codes)
}

pub fn currency_or_null() -> Object {
    let codes: Vec<&str> = crate::validate::CURRENCY_CODES.split(' ').collect();
    enumerated_or_null(&codes)
}

/// One of `values`, exactly.
pub fn enumerated(values: &[&str]) -> Object {
    enumerated_schema(values, false)
}

/// One of `values`, or `null` / left out.
pub fn enumerated_or_null(values: &[&str]) -> Object {
    enumerated_schema(values, true)
}

fn enumerated_schema(values: &[&str], nullable: bool) -> Object {
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    let ty = if nullable {
        values.push(serde_json::Value::Null);
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .enum_values(Some(values))
        .build()
}

/// A URL slug: 1 to 80 lower-case letters and digits in words joined by single hyphens.
pub fn slug_or_null() -> Object {
    let mut schema = string("^[a-z0-9]+(?:-[a-z0-9]+)*$".into(), true);
    schema.max_length = Some(80);
    schema
}

/// A phone number: digits, spaces, `+ - ( ) .`, at least six digits, 32 characters.
pub fn phone_or_null() -> Object {
    let mut schema = string(
        format!("^[{WS}]*[ +().\\-]*(?:[0-9][ +().\\-]*){{6,}}[{WS}]*$"),
        true,
    );
    schema.max_length = Some(32);
    schema
}

/// A postal code: 1 to 16 letters, digits, inner spaces and hyphens.
pub fn postal_code_or_null() -> Object {
    string(
        format!("^[{WS}]*[A-Za-z0-9-](?:[A-Za-z0-9 -]{{0,14}}[A-Za-z0-9-])?[{WS}]*$"),
        true,
    )
}

/// `base`'s schema with `fields` required: for an input type shared by create (where
/// they must be sent) and edit (where each may be left out).
pub fn requiring(base: &str, fields: &[&str]) -> RefOr<Schema> {
    // Sent, and not null: any value but null, which the edit shape allows ("unchanged").
    let not_null = || {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Integer,
                Type::Number,
                Type::Boolean,
                Type::Array,
                Type::Object,
            ]))
            .build()
    };
    let mut required = fields.iter().fold(
        ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::new(Type::Object)),
        |b, f| b.property(*f, not_null()),
    );
    for f in fields {
        required = required.required(*f);
    }
    let required = required.build();
    RefOr::T(Schema::AllOf(
        utoipa::openapi::schema::AllOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(base))
            .item(required)
            .build(),
    ))
}

/// Declares a schema-only type `$name`: `$base` with `$fields` required. The handler
/// still reads `$base` (and names every missing field at once); the document says what
/// creating one needs.
#[macro_export]
macro_rules! required_fields_schema {
    ($(#[$meta:meta])* $name:ident = $base:ty { $($field:literal),+ $(,)? }) => {
        $(#[$meta])*
        pub struct $name;

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::schema::requiring(
                    &<$base as ::utoipa::ToSchema>::name(),
                    &[$($field),+],
                )
            }
        }

        impl ::utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema>,
                )>,
            ) {
                schemas.push((
                    <$base as ::utoipa::ToSchema>::name().into_owned(),
                    <$base as ::utoipa::PartialSchema>::schema(),
                ));
                <$base as ::utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

/// A schema wrapped for the places utoipa wants a `RefOr<Schema>`.
pub fn inline(object: Object) -> RefOr<Schema> {
    RefOr::T(Schema::Object(object))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex::Regex;

    use super::*;
    use crate::validate::{Fields, parse_email};

    /// The patterns are written for ECMA-262 and Python (what clients and test
    /// generators read); Rust's `regex` reads this subset the same way, so here each
    /// pattern is held to its validator.
    fn regex(pattern: &str) -> Regex {
        Regex::new(pattern).expect("a valid pattern")
    }

    /// Strings a generator might send: letters, spaces of every kind, controls, bidi
    /// and zero-width characters, newlines.
    fn tricky() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('Z'),
                Just('é'),
                Just('李'),
                Just(' '),
                Just('\t'),
                Just('\n'),
                Just('\r'),
                Just('\u{a0}'),
                Just('\u{3000}'),
                Just('\u{0}'),
                Just('\u{85}'),
                Just('\u{200b}'),
                Just('\u{202e}'),
                Just('\u{2028}'),
                Just('\u{feff}'),
            ],
            0..8,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn the_line_pattern_accepts_exactly_what_fields_text_accepts(s in tricky(), min in 1usize..4, extra in 0usize..4) {
            let max = min + extra;
            let mut f = Fields::new();
            let accepted = f.text("x", &s, min, max).is_some();
            prop_assert_eq!(regex(&line_pattern(min, max)).is_match(&s), accepted, "{:?} {}..={}", s, min, max);
        }

        #[test]
        fn the_multiline_pattern_accepts_exactly_what_fields_multiline_accepts(s in tricky(), max in 1usize..6) {
            let mut f = Fields::new();
            let accepted = f.multiline("x", &s, 0, max).is_some();
            prop_assert_eq!(regex(&multiline_pattern(max)).is_match(&s), accepted, "{:?} ..={}", s, max);
        }

        #[test]
        fn an_email_the_pattern_accepts_is_one_the_parser_accepts(
            s in "[ ]{0,2}[a-z0-9.+_-]{1,20}@[a-z0-9.-]{1,20}[ ]{0,2}"
        ) {
            let pattern = email_schema(false).pattern.expect("pattern");
            if regex(&pattern).is_match(&s) {
                prop_assert!(parse_email(&s).is_ok(), "{:?}", s);
            }
        }
    }

    #[test]
    fn examples_of_each_pattern() {
        let name = regex(&line_pattern(1, 5));
        for ok in ["Ann", " Ann ", "A b", "\tAnn\n"] {
            assert!(name.is_match(ok), "{ok:?}");
        }
        for bad in ["", "   ", "Ann\nB", "Annabel", "A\u{202e}b"] {
            assert!(!name.is_match(bad), "{bad:?}");
        }
        let email = regex(&email_schema(false).pattern.expect("pattern"));
        assert!(email.is_match("ann.smith+shop@mail.example.com"));
        assert!(!email.is_match("ann@localhost"));
        assert!(!email.is_match("ann..smith@example.com"));
    }
}
