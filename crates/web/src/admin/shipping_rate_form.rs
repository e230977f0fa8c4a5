//! The rate form: what a member types (carrier, service, a table of weight brackets
//! with prices in major units, free-over, days), read into the API's rate body, and the
//! saved rate put back into the form. Mistakes the page can see itself are told beside
//! their fields without asking the API.

use serde_json::{Map, Value, json};

use super::parse_amount;
use super::product_form::major;
use super::shipping_rates::ApiRate;
use crate::api::FieldError;
use crate::view::Form;

/// Empty bracket rows a form offers beyond the filled ones.
const SPARE_ROWS: usize = 3;
/// The API takes at most this many brackets.
const MAX_ROWS: usize = 50;

#[derive(Clone, Default)]
pub struct BracketRow {
    pub grams: String,
    pub price: String,
}

/// What a rate form holds: the saved rate, or what the member typed.
pub struct RateDraft {
    pub carrier: String,
    pub service_code: String,
    pub name: String,
    pub currency: String,
    /// The filled rows and a few empty ones.
    pub brackets: Vec<BracketRow>,
    pub free_over: String,
    pub min_days: String,
    pub max_days: String,
    pub active: bool,
    pub version: i64,
}

/// One text field of the rate form: the API's name for it (for its message), the
/// form's name, what it says and holds.
pub struct TextField {
    pub field: &'static str,
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
}

fn text_field(
    field: &'static str,
    label: &'static str,
    value: &str,
    hint: &'static str,
) -> TextField {
    TextField {
        field,
        key: field,
        label,
        value: value.to_owned(),
        hint,
    }
}

impl RateDraft {
    pub(super) fn new() -> Self {
        Self {
            carrier: String::new(),
            service_code: String::new(),
            name: String::new(),
            currency: "USD".into(),
            brackets: vec![BracketRow::default(); SPARE_ROWS],
            free_over: String::new(),
            min_days: "1".into(),
            max_days: "3".into(),
            active: true,
            version: 0,
        }
    }

    pub(super) fn of(r: &ApiRate) -> Self {
        let mut brackets: Vec<BracketRow> = r
            .brackets
            .iter()
            .map(|b| BracketRow {
                grams: b.up_to_grams.to_string(),
                price: major(b.price, &r.currency),
            })
            .collect();
        pad(&mut brackets);
        Self {
            carrier: r.carrier.clone(),
            service_code: r.service_code.clone(),
            name: r.name.clone(),
            currency: r.currency.clone(),
            brackets,
            free_over: r
                .free_over
                .map(|n| major(n, &r.currency))
                .unwrap_or_default(),
            min_days: r.min_days.to_string(),
            max_days: r.max_days.to_string(),
            active: r.active,
            version: r.version,
        }
    }

    /// The fields above the bracket table.
    pub fn top_fields(&self) -> Vec<TextField> {
        vec![
            text_field("carrier", "Carrier", &self.carrier, ""),
            text_field(
                "service_code",
                "Service code",
                &self.service_code,
                "What checkout records, unique in the zone: letters, digits, - or _, like express.",
            ),
            // `rate_name`: the zone's own form on the same page has a `name`.
            TextField {
                key: "rate_name",
                ..text_field(
                    "name",
                    "Service name",
                    &self.name,
                    "What shoppers read, like Express.",
                )
            },
            text_field(
                "currency",
                "Currency",
                &self.currency,
                "Three letters, like USD; the prices below are in it.",
            ),
        ]
    }

    /// The fields below the bracket table.
    pub fn bottom_fields(&self) -> Vec<TextField> {
        vec![
            text_field(
                "free_over",
                "Free over",
                &self.free_over,
                "Goods worth at least this ship free, like 75.00; leave empty for never.",
            ),
            text_field("min_days", "Fewest days", &self.min_days, ""),
            text_field("max_days", "Most days", &self.max_days, ""),
        ]
    }

    /// The draft from a posted form: its fields by name, the bracket rows in order
    /// (`up_to_grams` and `bracket_price` repeat, one pair a row).
    pub(super) fn posted(pairs: Vec<(String, String)>) -> Self {
        let mut d = Self {
            active: false,
            min_days: String::new(),
            max_days: String::new(),
            currency: String::new(),
            brackets: Vec::new(),
            ..Self::new()
        };
        let (mut grams, mut prices) = (Vec::new(), Vec::new());
        for (key, value) in pairs {
            match key.as_str() {
                "carrier" => d.carrier = value,
                "service_code" => d.service_code = value,
                "rate_name" => d.name = value,
                "currency" => d.currency = value,
                "free_over" => d.free_over = value,
                "min_days" => d.min_days = value,
                "max_days" => d.max_days = value,
                "active" => d.active = value == "true",
                "version" => d.version = value.trim().parse().unwrap_or_default(),
                "up_to_grams" => grams.push(value),
                "bracket_price" => prices.push(value),
                _ => {}
            }
        }
        let rows = grams.len().max(prices.len()).min(MAX_ROWS);
        d.brackets = (0..rows)
            .map(|i| BracketRow {
                grams: grams.get(i).cloned().unwrap_or_default(),
                price: prices.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        pad(&mut d.brackets);
        d
    }

    /// The API's body, or the fields typed wrong (told before asking the API).
    pub(super) fn body(&self, editing: bool) -> Result<Map<String, Value>, Vec<FieldError>> {
        let currency = self.currency.trim().to_ascii_uppercase();
        let mut wrong = Vec::new();
        let mut complain = |field: &str, message: String| {
            wrong.push(FieldError {
                field: field.into(),
                message,
            });
        };
        let mut brackets = Vec::new();
        for (i, row) in self.brackets.iter().enumerate() {
            let (g, p) = (row.grams.trim(), row.price.trim());
            if g.is_empty() && p.is_empty() {
                continue;
            }
            let grams = g.parse::<i64>().ok().filter(|g| *g > 0);
            let price = price_of(p, &currency);
            match (grams, price) {
                (Some(grams), Ok(price)) => {
                    brackets.push(json!({"up_to_grams": grams, "price": price}));
                }
                (None, _) => complain(
                    "brackets",
                    format!(
                        "row {}: the weight must be a whole number of grams, like 1000",
                        i + 1
                    ),
                ),
                (_, Err(e)) => complain("brackets", format!("row {}: the price {e}", i + 1)),
            }
        }
        let free_over = match self.free_over.trim() {
            "" => None,
            typed => match price_of(typed, &currency) {
                Ok(n) => Some(n),
                Err(e) => {
                    complain("free_over", e);
                    None
                }
            },
        };
        let mut days = |field: &str, typed: &str| match typed.trim().parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                complain(field, "must be a whole number of days, like 3".into());
                None
            }
        };
        let min_days = days("min_days", &self.min_days);
        let max_days = days("max_days", &self.max_days);
        if !wrong.is_empty() {
            // One message per field: the rows' complaints together.
            let mut joined: Vec<FieldError> = Vec::new();
            for e in wrong {
                match joined.iter_mut().find(|j| j.field == e.field) {
                    Some(j) => j.message = format!("{}; {}", j.message, e.message),
                    None => joined.push(e),
                }
            }
            return Err(joined);
        }
        let mut body = Map::new();
        body.insert("carrier".into(), json!(self.carrier.trim()));
        body.insert("service_code".into(), json!(self.service_code.trim()));
        body.insert("name".into(), json!(self.name.trim()));
        body.insert("currency".into(), json!(currency));
        body.insert("brackets".into(), Value::Array(brackets));
        body.insert("free_over".into(), json!(free_over));
        body.insert("min_days".into(), json!(min_days));
        body.insert("max_days".into(), json!(max_days));
        body.insert("active".into(), json!(self.active));
        if editing {
            body.insert("version".into(), json!(self.version));
        }
        Ok(body)
    }
}

/// The bracket rows with a few empty ones to fill.
fn pad(rows: &mut Vec<BracketRow>) {
    while rows
        .last()
        .is_some_and(|r| r.grams.trim().is_empty() && r.price.trim().is_empty())
    {
        rows.pop();
    }
    let want = (rows.len() + SPARE_ROWS).min(MAX_ROWS);
    rows.resize(want, BracketRow::default());
}

/// A price in major units, where nothing ("0", "0.00") is a price too: a free bracket.
fn price_of(text: &str, currency: &str) -> Result<i64, String> {
    let t = text.trim();
    match parse_amount(t, currency) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err("is required".into()),
        Err(e) => {
            // Zero, well formed: "10.00" is a good amount when "0.00" is.
            let zero = t.starts_with('0') && t.bytes().all(|b| b == b'0' || b == b'.');
            if zero && parse_amount(&format!("1{t}"), currency).is_ok() {
                Ok(0)
            } else {
                Err(e)
            }
        }
    }
}

pub(super) fn refused_locally(errors: Vec<FieldError>) -> Form {
    Form {
        problem: Some("Some fields need another look; each says what is wrong.".into()),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_bracket_is_typed_as_nothing() {
        assert_eq!(price_of("0", "USD"), Ok(0));
        assert_eq!(price_of("0.00", "USD"), Ok(0));
        assert_eq!(price_of("12.50", "USD"), Ok(1_250));
        assert!(price_of("0.000", "USD").is_err());
        assert!(price_of(".0", "USD").is_err());
        assert!(price_of("", "USD").is_err());
        assert_eq!(major(1_250, "USD"), "12.50");
        assert_eq!(major(1_500, "JPY"), "1500");
    }
}
