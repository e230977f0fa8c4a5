//! What staff send to set up or edit a discount code, checked field by field (and the
//! rules across fields) before anything is stored.

use chrono::{DateTime, Utc};
use platform::error::ApiResult;
use platform::validate::{Fields, MAX_COUNT, parse_currency};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::discount::Kind;
use crate::store::discounts::{Discount, ids};

/// The largest amount a code may take off or require, in minor units.
const MAX_AMOUNT: i64 = 10_000_000_000;
/// Most products, and most categories, one code may be limited to.
const MAX_TARGETS: usize = 100;

/// What a code is limited to; both lists empty (or absent): every product.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// Products filed directly in one of these categories.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub product_ids: Vec<Uuid>,
}

/// A code to set up (`code` and `kind` required) or an edit (every field optional;
/// `null` clears an optional one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountInput {
    /// What customers type; letters, digits, `-` and `_`, 3 to 32. Case does not
    /// matter when it is typed, and no two live codes are the same.
    #[schema(pattern = "^[ \\t]*[A-Za-z0-9_-]{3,32}[ \\t]*$")]
    pub code: Option<String>,
    /// `percentage` (send `percent`), `fixed_amount` (send `amount` and `currency`) or
    /// `free_shipping`.
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    /// 1 to 100, for a percentage code.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub percent: Option<Option<i32>>,
    /// Minor units of `currency`, for a fixed amount code.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10_000_000_000_i64)]
    pub amount: Option<Option<i64>>,
    /// Of `amount` and `min_subtotal`; a code with a currency applies to carts priced
    /// in it only.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(schema_with = platform::schema::currency_or_null)]
    pub currency: Option<Option<String>>,
    /// The cart's subtotal must reach this (minor units of `currency`).
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_i64)]
    pub min_subtotal: Option<Option<i64>>,
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub starts_at: Option<Option<DateTime<Utc>>>,
    /// The first moment the code no longer applies.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    /// Orders that may use it, all customers together.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000_i64)]
    pub usage_limit: Option<Option<i64>>,
    /// Orders one customer may use it on.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000_000_i64)]
    pub per_customer_limit: Option<Option<i64>>,
    /// Absent on a create, `{}` (or `null`): every product.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(value_type = AppliesTo)]
    pub applies_to: Option<Option<AppliesTo>>,
    /// Whether customers can use it now (default true).
    pub active: Option<bool>,
    /// The version you read, for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

fn kind_schema() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated_or_null(&Kind::NAMES)
}

/// A sent value, or the stored one on an edit, or nothing.
fn merged<T: Clone>(sent: &Option<Option<T>>, kept: Option<T>) -> Option<T> {
    match sent {
        Some(v) => v.clone(),
        None => kept,
    }
}

/// Validates `input` over `base` (an edit) or from nothing (a create), every field at
/// once, into the code to store (its version moved on by one).
pub(super) fn parse(
    input: &DiscountInput,
    base: Option<&Discount>,
    now: DateTime<Utc>,
) -> ApiResult<Discount> {
    let mut f = Fields::new();
    let code = match (&input.code, base) {
        (Some(c), _) => f.parse("code", code_text(c)),
        (None, Some(b)) => Some(b.code.clone()),
        (None, None) => {
            f.add("code", "is required");
            None
        }
    };
    let kind = match (&input.kind, base) {
        (Some(k), _) if Kind::NAMES.contains(&k.as_str()) => Some(k.clone()),
        (Some(_), _) => {
            f.add("kind", "must be percentage, fixed_amount or free_shipping");
            None
        }
        (None, Some(b)) => Some(b.kind.clone()),
        (None, None) => {
            f.add("kind", "is required");
            None
        }
    };
    let kind = kind.as_deref().unwrap_or_default();
    // A value the kind does not use is dropped when the kind changes, and refused
    // when sent.
    let kept = |field: Option<i64>, wanted: bool| if wanted { field } else { None };
    let percent = merged(
        &input.percent.map(|p| p.map(i64::from)),
        kept(
            base.and_then(|b| b.percent).map(i64::from),
            kind == "percentage",
        ),
    );
    let amount = merged(
        &input.amount,
        kept(base.and_then(|b| b.amount), kind == "fixed_amount"),
    );
    match (kind, percent) {
        ("percentage", None) => f.add("percent", "is required for a percentage code"),
        ("percentage", Some(p)) => f.check((1..=100).contains(&p), "percent", "must be 1 to 100"),
        (_, Some(_)) => f.add("percent", "is only for percentage codes"),
        _ => {}
    }
    match (kind, amount) {
        ("fixed_amount", None) => f.add("amount", "is required for a fixed amount code"),
        ("fixed_amount", Some(a)) => f.check(
            (1..=MAX_AMOUNT).contains(&a),
            "amount",
            "must be 1 to 10000000000",
        ),
        (_, Some(_)) => f.add("amount", "is only for fixed amount codes"),
        _ => {}
    }
    let currency = match &input.currency {
        Some(Some(c)) => f.parse("currency", parse_currency(c)),
        Some(None) => None,
        None => base.and_then(|b| b.currency.clone()),
    };
    let min_subtotal = merged(&input.min_subtotal, base.and_then(|b| b.min_subtotal));
    if let Some(m) = min_subtotal {
        f.check(
            (0..=MAX_AMOUNT).contains(&m),
            "min_subtotal",
            "must be 0 to 10000000000",
        );
    }
    let needs_currency = kind == "fixed_amount" || min_subtotal.is_some();
    if needs_currency && currency.is_none() && !matches!(&input.currency, Some(Some(_))) {
        f.add(
            "currency",
            "is required with an amount or a minimum subtotal",
        );
    }
    let starts_at = merged(&input.starts_at, base.and_then(|b| b.starts_at));
    let ends_at = merged(&input.ends_at, base.and_then(|b| b.ends_at));
    if let (Some(from), Some(to)) = (starts_at, ends_at) {
        f.check(to > from, "ends_at", "must be after starts_at");
    }
    let usage_limit = merged(&input.usage_limit, base.and_then(|b| b.usage_limit));
    let per_customer_limit = merged(
        &input.per_customer_limit,
        base.and_then(|b| b.per_customer_limit),
    );
    for (field, limit) in [
        ("usage_limit", usage_limit),
        ("per_customer_limit", per_customer_limit),
    ] {
        if let Some(n) = limit {
            f.check(
                (1..=MAX_COUNT).contains(&n),
                field,
                "must be 1 to 1000000000",
            );
        }
    }
    let scope = match &input.applies_to {
        Some(scope) => scope.clone().unwrap_or_default(),
        None => base.map_or_else(AppliesTo::default, |b| AppliesTo {
            category_ids: ids(&b.category_ids),
            product_ids: ids(&b.product_ids),
        }),
    };
    f.check(
        scope.category_ids.len() <= MAX_TARGETS,
        "applies_to.category_ids",
        "at most 100 categories",
    );
    f.check(
        scope.product_ids.len() <= MAX_TARGETS,
        "applies_to.product_ids",
        "at most 100 products",
    );
    f.finish()?;
    Ok(Discount {
        id: base.map_or_else(Uuid::now_v7, |b| b.id),
        code: code.unwrap_or_default(),
        kind: kind.to_owned(),
        percent: percent.and_then(|p| i32::try_from(p).ok()),
        amount,
        currency,
        min_subtotal,
        starts_at,
        ends_at,
        usage_limit,
        per_customer_limit,
        product_ids: serde_json::json!(dedup(scope.product_ids)),
        category_ids: serde_json::json!(dedup(scope.category_ids)),
        active: input.active.or(base.map(|b| b.active)).unwrap_or(true),
        times_used: base.map_or(0, |b| b.times_used),
        version: base.map_or(1, |b| b.version + 1),
        created_at: base.map_or(now, |b| b.created_at),
        updated_at: now,
        deleted_at: None,
    })
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.dedup();
    ids
}

fn code_text(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if (3..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(code.to_owned())
    } else {
        Err("3 to 32 letters, digits, - or _".into())
    }
}

#[cfg(test)]
mod tests {
    use platform::error::ApiError;
    use serde_json::json;

    use super::*;

    fn fields(body: serde_json::Value, base: Option<&Discount>) -> Vec<String> {
        let input: DiscountInput = serde_json::from_value(body).expect("an input");
        match parse(&input, base, Utc::now()) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => vec![other.to_string()],
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn each_kind_takes_its_own_figures() {
        assert!(
            fields(
                json!({"code": "SPRING10", "kind": "percentage", "percent": 10}),
                None
            )
            .is_empty()
        );
        assert_eq!(
            fields(json!({"code": "SPRING10", "kind": "percentage"}), None),
            ["percent"]
        );
        assert_eq!(
            fields(
                json!({"code": "TENOFF", "kind": "fixed_amount", "amount": 1000}),
                None
            ),
            ["currency"]
        );
        assert_eq!(
            fields(
                json!({"code": "FREE", "kind": "free_shipping", "percent": 5}),
                None
            ),
            ["percent"]
        );
        assert_eq!(
            fields(json!({"code": "x", "kind": "bogus"}), None),
            ["code", "kind"]
        );
        assert_eq!(
            fields(
                json!({"code": "LATE", "kind": "free_shipping", "min_subtotal": 100}),
                None
            ),
            ["currency"]
        );
        assert_eq!(
            fields(
                json!({"code": "WINDOW", "kind": "free_shipping",
                       "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}),
                None
            ),
            ["ends_at"]
        );
    }

    #[test]
    fn changing_the_kind_drops_the_figures_it_no_longer_uses() {
        let input: DiscountInput = serde_json::from_value(
            json!({"code": "SPRING10", "kind": "percentage", "percent": 10}),
        )
        .expect("an input");
        let stored = parse(&input, None, Utc::now()).expect("valid");
        assert!(fields(json!({"kind": "free_shipping"}), Some(&stored)).is_empty());
        assert_eq!(
            fields(json!({"kind": "fixed_amount"}), Some(&stored)),
            ["amount", "currency"]
        );
        assert!(
            fields(
                json!({"percent": null, "kind": "free_shipping"}),
                Some(&stored)
            )
            .is_empty()
        );
    }
}
