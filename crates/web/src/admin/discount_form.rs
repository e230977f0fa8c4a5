//! The discount code form: what a member types (the code, what it takes off as a
//! percentage or in major units of its currency, its window in UTC, its limits, the
//! categories and products it is limited to), read into the API's body; a saved code
//! (as the API gives it) put back into the form; and the API's refusal shown beside the
//! fields. Text the page cannot read (an amount like "12.5.0", a date that is no date,
//! an id that is no id) is told beside its field without asking the API; the rules
//! themselves (how a code is spelled, what each kind needs) are the API's, and its
//! words are shown.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::parse_amount;
use super::product_form::major;
use crate::api::{FieldError, Problem};
use crate::view::Form;

/// The kinds of code, as the API names them and the form offers them.
const KINDS: [(&str, &str); 3] = [
    ("percentage", "A percentage off the goods"),
    ("fixed_amount", "An amount off the goods"),
    ("free_shipping", "Free shipping"),
];

/// The fields the form shows a message beside, by the API's names; a message for any
/// other field is told at the top of the form.
const SHOWN: [&str; 13] = [
    "code",
    "kind",
    "percent",
    "amount",
    "currency",
    "min_subtotal",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "applies_to.category_ids",
    "applies_to.product_ids",
    "active",
];

/// What a code is limited to; both lists empty: every product.
#[derive(Clone, Default, Deserialize)]
pub(super) struct ApiAppliesTo {
    #[serde(default)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub product_ids: Vec<String>,
}

/// A code as the API gives it (the fields the pages use).
#[derive(Clone, Deserialize)]
pub(super) struct ApiDiscount {
    pub id: String,
    pub code: String,
    pub kind: String,
    pub percent: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    #[serde(default)]
    pub applies_to: ApiAppliesTo,
    pub active: bool,
    pub times_used: i64,
    pub version: i64,
}

/// One kind in the form's choice.
pub struct KindChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// What a code's form holds: the saved code, or what the member typed.
#[derive(Clone)]
pub struct DiscountDraft {
    pub code: String,
    pub kind: String,
    pub percent: String,
    pub amount: String,
    pub currency: String,
    pub min_subtotal: String,
    /// As a `datetime-local` input holds it, in UTC: `2026-12-01T09:00`.
    pub starts_at: String,
    pub ends_at: String,
    pub usage_limit: String,
    pub per_customer_limit: String,
    /// The categories ticked.
    pub category_ids: Vec<String>,
    /// Product ids as typed, one a line (or separated by commas or spaces).
    pub product_ids: String,
    pub active: bool,
    pub version: i64,
}

/// A moment as a `datetime-local` input holds it (UTC), seconds only when it has them.
fn local_input(at: &DateTime<Utc>) -> String {
    let format = if at.second() == 0 {
        "%Y-%m-%dT%H:%M"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    at.format(format).to_string()
}

/// A moment as typed in UTC: what a `datetime-local` input sends (`2026-12-01T09:00`,
/// with or without seconds), a date alone (its midnight), or RFC 3339; `None` when left
/// empty.
fn parse_utc(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Some(at.and_utc()));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| Some(at.and_utc()))
        .ok_or_else(|| "must be a date and time in UTC, like 2026-12-01T09:00".into())
}

/// Money typed in major units of `currency`; the currency left empty, the message
/// cannot name it (the API then asks for it beside its own field).
fn money(text: &str, currency: &str) -> Result<Option<i64>, String> {
    match parse_amount(text, currency) {
        Err(_) if currency.is_empty() => Err("must be an amount, like 12.50".into()),
        other => other,
    }
}

/// A whole number, or `None` when left empty.
fn whole(text: &str, like: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("must be a whole number, like {like}"))
}

/// Ids typed or ticked, each checked to be a UUID; the ones that are not are named.
fn ids<'a>(typed: impl Iterator<Item = &'a str>, what: &str) -> Result<Vec<String>, String> {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for id in typed.map(str::trim).filter(|id| !id.is_empty()) {
        match id.parse::<uuid::Uuid>() {
            Ok(id) => good.push(id.to_string()),
            Err(_) => bad.push(format!("\u{201c}{id}\u{201d}")),
        }
    }
    if bad.is_empty() {
        Ok(good)
    } else {
        Err(format!("{} is not {what} id", bad.join(", ")))
    }
}

impl DiscountDraft {
    /// An empty form: a percentage code, active, for every product.
    pub(super) fn new() -> Self {
        Self {
            code: String::new(),
            kind: "percentage".into(),
            percent: String::new(),
            amount: String::new(),
            currency: String::new(),
            min_subtotal: String::new(),
            starts_at: String::new(),
            ends_at: String::new(),
            usage_limit: String::new(),
            per_customer_limit: String::new(),
            category_ids: Vec::new(),
            product_ids: String::new(),
            active: true,
            version: 0,
        }
    }

    pub(super) fn of(d: &ApiDiscount) -> Self {
        let currency = d.currency.clone().unwrap_or_default();
        let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let minor = |n: Option<i64>| n.map(|n| major(n, &currency)).unwrap_or_default();
        Self {
            code: d.code.clone(),
            kind: d.kind.clone(),
            percent: d.percent.map(|p| p.to_string()).unwrap_or_default(),
            amount: minor(d.amount),
            currency: currency.clone(),
            min_subtotal: minor(d.min_subtotal),
            starts_at: d.starts_at.as_ref().map(local_input).unwrap_or_default(),
            ends_at: d.ends_at.as_ref().map(local_input).unwrap_or_default(),
            usage_limit: count(d.usage_limit),
            per_customer_limit: count(d.per_customer_limit),
            category_ids: d.applies_to.category_ids.clone(),
            product_ids: d.applies_to.product_ids.join("\n"),
            active: d.active,
            version: d.version,
        }
    }

    /// The draft from a posted form (`category_ids` comes once per ticked category; an
    /// unticked `active` is not sent).
    pub(super) fn posted(pairs: Vec<(String, String)>) -> Self {
        let mut d = Self {
            kind: String::new(),
            active: false,
            ..Self::new()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "code" => d.code = value,
                "kind" => d.kind = value,
                "percent" => d.percent = value,
                "amount" => d.amount = value,
                "currency" => d.currency = value.trim().to_ascii_uppercase(),
                "min_subtotal" => d.min_subtotal = value,
                "starts_at" => d.starts_at = value,
                "ends_at" => d.ends_at = value,
                "usage_limit" => d.usage_limit = value,
                "per_customer_limit" => d.per_customer_limit = value,
                "category_ids" => d.category_ids.push(value),
                "product_ids" => d.product_ids = value,
                "active" => d.active = value == "true",
                "version" => d.version = value.trim().parse().unwrap_or_default(),
                _ => {}
            }
        }
        d
    }

    pub fn kinds(&self) -> Vec<KindChoice> {
        KINDS
            .iter()
            .map(|&(value, label)| KindChoice {
                value,
                label,
                selected: self.kind == value,
            })
            .collect()
    }

    /// The API's body, or the fields typed so that the page cannot read them (told
    /// before asking the API). Only the figure the kind uses is sent (the other is
    /// cleared), so switching a code's kind needs no emptying of fields.
    pub(super) fn body(&self, editing: bool) -> Result<Map<String, Value>, Vec<FieldError>> {
        let mut wrong = Vec::new();
        let mut read = |field: &str, answer: Result<Value, String>| {
            answer.unwrap_or_else(|message| {
                wrong.push(FieldError {
                    field: field.into(),
                    message,
                });
                Value::Null
            })
        };
        let currency = self.currency.trim();
        let percent = match self.kind.as_str() {
            "percentage" => read("percent", whole(&self.percent, "10").map(|p| json!(p))),
            _ => Value::Null,
        };
        let amount = match self.kind.as_str() {
            "fixed_amount" => read("amount", money(&self.amount, currency).map(|a| json!(a))),
            _ => Value::Null,
        };
        let min_subtotal = read(
            "min_subtotal",
            money(&self.min_subtotal, currency).map(|m| json!(m)),
        );
        let moment = |typed: &str| {
            parse_utc(typed)
                .map(|at| json!(at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))))
        };
        let starts_at = read("starts_at", moment(&self.starts_at));
        let ends_at = read("ends_at", moment(&self.ends_at));
        let usage_limit = read(
            "usage_limit",
            whole(&self.usage_limit, "100").map(|n| json!(n)),
        );
        let per_customer_limit = read(
            "per_customer_limit",
            whole(&self.per_customer_limit, "1").map(|n| json!(n)),
        );
        let category_ids = read(
            "applies_to.category_ids",
            ids(self.category_ids.iter().map(String::as_str), "a category").map(|c| json!(c)),
        );
        let typed = self
            .product_ids
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace());
        let product_ids = read(
            "applies_to.product_ids",
            ids(typed, "a product").map(|p| json!(p)),
        );
        if !wrong.is_empty() {
            return Err(wrong);
        }
        let mut body = Map::new();
        body.insert("code".into(), json!(self.code.trim()));
        body.insert("kind".into(), json!(self.kind));
        body.insert("percent".into(), percent);
        body.insert("amount".into(), amount);
        body.insert(
            "currency".into(),
            json!((!currency.is_empty()).then_some(currency)),
        );
        body.insert("min_subtotal".into(), min_subtotal);
        body.insert("starts_at".into(), starts_at);
        body.insert("ends_at".into(), ends_at);
        body.insert("usage_limit".into(), usage_limit);
        body.insert("per_customer_limit".into(), per_customer_limit);
        body.insert(
            "applies_to".into(),
            json!({"category_ids": category_ids, "product_ids": product_ids}),
        );
        body.insert("active".into(), json!(self.active));
        if editing {
            body.insert("version".into(), json!(self.version));
        }
        Ok(body)
    }
}

/// The API's refusal beside the fields: a taken code beside the code, and a message
/// for a field the form does not show at the top.
pub(super) fn refused(p: &Problem) -> Form {
    let mut form = Form::refused(p);
    if p.code == "discount_code_taken" {
        form.errors.push(FieldError {
            field: "code".into(),
            message: "another live code is spelled so; choose another".into(),
        });
    }
    let unshown: Vec<String> = form
        .errors
        .iter()
        .filter(|e| !SHOWN.contains(&e.field.as_str()))
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    if !unshown.is_empty() {
        let general = form.problem.take().unwrap_or_default();
        form.problem = Some(format!("{general} {}", unshown.join("; ")));
    }
    form
}

/// The page's status for the API's refusal of the form (409 or 422).
pub(super) fn status_of(p: &Problem) -> StatusCode {
    StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(fields: &[(&str, &str)]) -> DiscountDraft {
        DiscountDraft::posted(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn times_are_read_as_utc_and_put_back_as_typed() {
        let at = parse_utc("2026-12-01T09:30")
            .expect("read")
            .expect("a time");
        assert_eq!(at.to_rfc3339(), "2026-12-01T09:30:00+00:00");
        assert_eq!(local_input(&at), "2026-12-01T09:30");
        assert_eq!(
            parse_utc("2026-12-01")
                .ok()
                .flatten()
                .map(|a| a.to_rfc3339()),
            Some("2026-12-01T00:00:00+00:00".to_owned())
        );
        assert_eq!(parse_utc(" "), Ok(None));
        assert!(parse_utc("1 December").is_err());
        assert!(parse_utc("2026-13-01T00:00").is_err());
    }

    #[test]
    fn only_the_figure_the_kind_uses_is_sent_in_minor_units() {
        let body = typed(&[
            ("code", " TENOFF "),
            ("kind", "fixed_amount"),
            ("percent", "15"),
            ("amount", "10.00"),
            ("currency", "usd"),
            ("min_subtotal", "50"),
            ("product_ids", ""),
        ])
        .body(false)
        .expect("readable");
        assert_eq!(body["code"], "TENOFF");
        assert_eq!(body["percent"], Value::Null);
        assert_eq!(body["amount"], 1_000);
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["min_subtotal"], 5_000);
        assert_eq!(body["active"], false);
        assert!(!body.contains_key("version"));
    }

    #[test]
    fn unreadable_text_is_told_beside_its_field() {
        let errors = typed(&[
            ("kind", "percentage"),
            ("percent", "ten"),
            ("min_subtotal", "12.505"),
            ("currency", "USD"),
            ("ends_at", "tomorrow"),
            ("product_ids", "0190e0a4-0000-7000-8000-000000000001, nope"),
        ])
        .body(true)
        .expect_err("unreadable");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "percent",
                "min_subtotal",
                "ends_at",
                "applies_to.product_ids"
            ]
        );
        assert_eq!(
            errors[3].message,
            "\u{201c}nope\u{201d} is not a product id"
        );
    }
}
