//! Shipping addresses: what must be there and what each field may hold.

use platform::validate::Fields;
use serde::Deserialize;
use utoipa::ToSchema;

/// An address as a client sends it (create, or the full set for an edit).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[schema(schema_with = platform::schema::line_or_null::<1, 40>)]
    pub label: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 120>)]
    pub recipient_name: Option<String>,
    #[schema(schema_with = platform::schema::phone_or_null)]
    pub phone: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 200>)]
    pub line1: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<0, 200>)]
    pub line2: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 100>)]
    pub city: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<0, 100>)]
    pub region: Option<String>,
    #[schema(schema_with = platform::schema::postal_code_or_null)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `ID`, `US`, `DE`.
    #[schema(schema_with = platform::schema::country_or_null)]
    pub country: Option<String>,
    #[schema(schema_with = platform::schema::line_or_null::<0, 500>)]
    pub note: Option<String>,
    /// Expected version when editing; a stale one is refused.
    pub version: Option<i64>,
}

/// A complete, valid address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub label: String,
    pub recipient_name: String,
    pub phone: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub note: Option<String>,
}

impl Address {
    /// Validates a full address; `base` supplies unchanged fields for a partial edit.
    pub fn parse(input: &AddressInput, base: Option<&Address>) -> Result<Self, platform::ApiError> {
        let mut f = Fields::new();
        let pick =
            |new: &Option<String>, old: Option<&String>| new.clone().or_else(|| old.cloned());
        let pick_opt = |new: &Option<String>, old: Option<&Option<String>>| match new {
            Some(v) => Some(v.clone()),
            None => old.cloned().flatten(),
        };
        let required = |f: &mut Fields, field: &str, v: Option<String>, max: usize| match v {
            Some(v) => f.text(field, &v, 1, max),
            None => {
                f.add(field, "is required");
                None
            }
        };
        let optional = |f: &mut Fields, field: &str, v: Option<String>, max: usize| match v {
            Some(v) if !v.trim().is_empty() => f.text(field, &v, 1, max),
            _ => None,
        };
        let label = pick(&input.label, base.map(|b| &b.label)).unwrap_or_else(|| "Home".into());
        let label = f.text("label", &label, 1, 40);
        let recipient_name = required(
            &mut f,
            "recipient_name",
            pick(&input.recipient_name, base.map(|b| &b.recipient_name)),
            120,
        );
        let phone = required(
            &mut f,
            "phone",
            pick(&input.phone, base.map(|b| &b.phone)),
            32,
        );
        if let Some(p) = &phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            f.check(
                digits >= 6
                    && p.chars()
                        .all(|c| c.is_ascii_digit() || " +-().".contains(c)),
                "phone",
                "must be a phone number of digits, spaces, +, -, ( and )",
            );
        }
        let line1 = required(
            &mut f,
            "line1",
            pick(&input.line1, base.map(|b| &b.line1)),
            200,
        );
        let line2 = optional(
            &mut f,
            "line2",
            pick_opt(&input.line2, base.map(|b| &b.line2)),
            200,
        );
        let city = required(
            &mut f,
            "city",
            pick(&input.city, base.map(|b| &b.city)),
            100,
        );
        let region = optional(
            &mut f,
            "region",
            pick_opt(&input.region, base.map(|b| &b.region)),
            100,
        );
        let postal_code = required(
            &mut f,
            "postal_code",
            pick(&input.postal_code, base.map(|b| &b.postal_code)),
            16,
        );
        if let Some(pc) = &postal_code {
            f.check(
                pc.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'),
                "postal_code",
                "may only contain letters, digits, spaces and hyphens",
            );
        }
        let country = required(
            &mut f,
            "country",
            pick(&input.country, base.map(|b| &b.country)),
            2,
        )
        .map(|c| c.to_ascii_uppercase());
        if let Some(c) = &country {
            f.check(
                platform::validate::is_country_code(c),
                "country",
                "must be an ISO 3166-1 alpha-2 country code, e.g. ID or US",
            );
        }
        let note = optional(
            &mut f,
            "note",
            pick_opt(&input.note, base.map(|b| &b.note)),
            500,
        );
        f.finish()?;
        match (
            label,
            recipient_name,
            phone,
            line1,
            city,
            postal_code,
            country,
        ) {
            (
                Some(label),
                Some(recipient_name),
                Some(phone),
                Some(line1),
                Some(city),
                Some(postal_code),
                Some(country),
            ) => Ok(Self {
                label,
                recipient_name,
                phone,
                line1,
                line2,
                city,
                region,
                postal_code,
                country,
                note,
            }),
            _ => Err(platform::ApiError::field("address", "is incomplete")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> AddressInput {
        AddressInput {
            recipient_name: Some("Ann Lee".into()),
            phone: Some("+62 812-3456-7890".into()),
            line1: Some("Jl. Sudirman 1".into()),
            city: Some("Jakarta".into()),
            postal_code: Some("10220".into()),
            country: Some("id".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_address_parses_and_normalises_the_country() {
        let a = Address::parse(&full(), None).unwrap();
        assert_eq!(a.country, "ID");
        assert_eq!(a.label, "Home");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let input = AddressInput {
            phone: Some("call me".into()),
            country: Some("XX".into()),
            ..Default::default()
        };
        let Err(platform::ApiError::Validation(errors)) = Address::parse(&input, None) else {
            panic!("expected errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "recipient_name",
            "phone",
            "line1",
            "city",
            "postal_code",
            "country",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn a_partial_edit_keeps_the_other_fields() {
        let base = Address::parse(&full(), None).unwrap();
        let edit = AddressInput {
            city: Some("Bandung".into()),
            ..Default::default()
        };
        let a = Address::parse(&edit, Some(&base)).unwrap();
        assert_eq!(a.city, "Bandung");
        assert_eq!(a.line1, base.line1);
    }
}
