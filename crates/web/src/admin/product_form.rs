//! The product form: what staff type, read into the API's body (prices in major units,
//! measures as whole numbers), and, after a conflict, the fields where the saved
//! product and the member's edit differ.

use serde_json::{Map, Value, json};

use super::parse_amount;
use super::products::ApiProduct;
use crate::api::FieldError;

/// A product's fields as the form holds them: text, as typed.
#[derive(Clone, Default)]
pub struct Fields {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub price: String,
    pub currency: String,
    pub weight_grams: String,
    pub length_mm: String,
    pub width_mm: String,
    pub height_mm: String,
    pub stock: String,
    pub category_ids: Vec<String>,
}

impl Fields {
    pub(super) fn of(p: &ApiProduct) -> Self {
        Self {
            name: p.name.clone(),
            slug: p.slug.clone(),
            description: p.description.clone(),
            price: major(p.price, &p.currency),
            currency: p.currency.clone(),
            weight_grams: p.weight_grams.to_string(),
            length_mm: p.length_mm.to_string(),
            width_mm: p.width_mm.to_string(),
            height_mm: p.height_mm.to_string(),
            stock: String::new(),
            category_ids: p.category_ids.clone(),
        }
    }

    /// The fields of a posted form (`category_ids` may come several times).
    pub(super) fn posted(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Self {
            name: one("name"),
            slug: one("slug"),
            description: one("description"),
            price: one("price"),
            currency: one("currency").trim().to_ascii_uppercase(),
            weight_grams: one("weight_grams"),
            length_mm: one("length_mm"),
            width_mm: one("width_mm"),
            height_mm: one("height_mm"),
            stock: one("stock"),
            category_ids: pairs
                .iter()
                .filter(|(k, _)| k == "category_ids")
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// The API's body for these fields, or the fields the page itself cannot read.
    pub(super) fn body(&self, creating: bool) -> Result<Map<String, Value>, Vec<FieldError>> {
        let mut body = Map::new();
        let mut errors = Vec::new();
        body.insert("name".into(), json!(self.name.trim()));
        // Empty: made from the name on create, kept as it is on an edit.
        if !self.slug.trim().is_empty() {
            body.insert("slug".into(), json!(self.slug.trim()));
        }
        body.insert("description".into(), json!(self.description));
        body.insert("currency".into(), json!(self.currency));
        match parse_amount(&self.price, &self.currency) {
            Ok(Some(price)) => {
                body.insert("price".into(), json!(price));
            }
            Ok(None) => errors.push(field("price", "is required")),
            Err(message) => errors.push(field("price", &message)),
        }
        let mut whole = |name: &str, text: &str, required: bool| match text.trim() {
            "" if !required => {}
            "" => errors.push(field(name, "is required")),
            t => match t.parse::<i64>() {
                Ok(n) => {
                    body.insert(name.into(), json!(n));
                }
                Err(_) => errors.push(field(name, "must be a whole number")),
            },
        };
        whole("weight_grams", &self.weight_grams, true);
        whole("length_mm", &self.length_mm, true);
        whole("width_mm", &self.width_mm, true);
        whole("height_mm", &self.height_mm, true);
        if creating {
            whole("stock", &self.stock, false);
        }
        body.insert("category_ids".into(), json!(self.category_ids));
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }
}

pub(super) fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

/// Minor units as staff type them: `1250` USD is `12.50`.
pub(super) fn major(minor: i64, currency: &str) -> String {
    let decimals = contracts::money::decimals(currency);
    if decimals == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(decimals);
    format!(
        "{}.{:0width$}",
        minor / scale,
        (minor % scale).abs(),
        width = decimals as usize
    )
}

/// One field as saved and as the member typed it, side by side after a conflict.
pub struct Difference {
    pub label: &'static str,
    pub theirs: String,
    pub mine: String,
}

/// The fields where the saved product and the member's edit differ.
pub(super) fn differences(theirs: &Fields, mine: &Fields) -> Vec<Difference> {
    let pairs: [(&'static str, &String, &String); 9] = [
        ("Name", &theirs.name, &mine.name),
        ("Slug", &theirs.slug, &mine.slug),
        ("Description", &theirs.description, &mine.description),
        ("Price", &theirs.price, &mine.price),
        ("Currency", &theirs.currency, &mine.currency),
        ("Weight (g)", &theirs.weight_grams, &mine.weight_grams),
        ("Length (mm)", &theirs.length_mm, &mine.length_mm),
        ("Width (mm)", &theirs.width_mm, &mine.width_mm),
        ("Height (mm)", &theirs.height_mm, &mine.height_mm),
    ];
    let mut out: Vec<Difference> = pairs
        .into_iter()
        .filter(|(_, a, b)| a.trim() != b.trim())
        .map(|(label, a, b)| Difference {
            label,
            theirs: a.clone(),
            mine: b.clone(),
        })
        .collect();
    let (mut a, mut b) = (theirs.category_ids.clone(), mine.category_ids.clone());
    a.sort();
    b.sort();
    if a != b {
        out.push(Difference {
            label: "Categories",
            theirs: format!("{} chosen", a.len()),
            mine: format!("{} chosen", b.len()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_shown_as_staff_type_them() {
        assert_eq!(major(1_250, "USD"), "12.50");
        assert_eq!(major(5, "USD"), "0.05");
        assert_eq!(major(1_500, "JPY"), "1500");
        assert_eq!(
            parse_amount(&major(123_456, "USD"), "USD"),
            Ok(Some(123_456))
        );
    }

    #[test]
    fn a_conflict_names_only_the_fields_that_differ() {
        let theirs = Fields {
            name: "Blue Mug".into(),
            price: "12.50".into(),
            ..Fields::default()
        };
        let mine = Fields {
            name: "Blue Mug".into(),
            price: "11.00".into(),
            ..Fields::default()
        };
        let d = differences(&theirs, &mine);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].label, d[0].theirs.as_str(), d[0].mine.as_str()),
            ("Price", "12.50", "11.00")
        );
    }
}
