//! The shop-wide audit log, for admins: every service keeps the trail of its own staff
//! actions, and this page reads them all at once and merges them newest first. Entry ids
//! are UUIDv7, ordered by time across services, so one id (`before`) pages through every
//! trail together; filters by actor, entity and dates go to each service as they are.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use futures::future::join_all;
use serde::Deserialize;
use serde_json::Value;

use super::{AdminLayout, failure, forbidden, sign_in_first};
use crate::WebState;
use crate::api::{FieldError, Problem};
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

const HERE: &str = "/admin/audit";
/// Entries per page.
const PAGE: usize = 30;

/// Each service's trail, with the name the page gives it when it cannot be read.
const TRAILS: [(&str, &str); 6] = [
    ("/api/v1/staff/audit-log", "Staff and customers"),
    ("/api/v1/catalog/audit-log", "Catalog"),
    ("/api/v1/media/audit-log", "Pictures and banners"),
    ("/api/v1/admin/orders/audit-log", "Orders"),
    ("/api/v1/admin/payments/audit-log", "Payments"),
    ("/api/v1/admin/shipping/audit-log", "Shipping"),
];

/// The kinds of entity the services record actions on, for the filter.
const KINDS: [(&str, &str); 10] = [
    ("order", "Orders"),
    ("payment", "Payments"),
    ("product", "Products"),
    ("category", "Categories"),
    ("review", "Reviews"),
    ("banner", "Banners"),
    ("zone", "Shipping zones"),
    ("rate", "Shipping rates"),
    ("staff", "Staff"),
    ("customer", "Customers"),
];

#[derive(Deserialize)]
struct ApiEntry {
    id: String,
    actor_id: String,
    action: String,
    target_kind: String,
    target_id: String,
    #[serde(default)]
    details: Value,
    client_ip: String,
    at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ApiEntries {
    items: Vec<ApiEntry>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ApiMember {
    id: String,
    name: String,
    email: String,
}

#[derive(Deserialize)]
struct ApiMembers {
    items: Vec<ApiMember>,
}

/// The filters as the page's form sends them.
#[derive(Clone, Default, Deserialize)]
pub(super) struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

impl Filters {
    /// The query each service is asked, or the fields to correct. Dates are whole days
    /// in UTC, both ends included.
    fn api_query(&self) -> Result<String, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut query = format!("limit={PAGE}");
        let mut add = |name: &str, value: &str| {
            if !value.is_empty() {
                query.push_str(&format!("&{name}={}", form_urlencoded(value)));
            }
        };
        let uuid = |field: &str, value: &str, errors: &mut Vec<FieldError>| {
            if !value.is_empty() && uuid::Uuid::parse_str(value).is_err() {
                errors.push(error(field, "is not an id from this log"));
            }
        };
        uuid("actor", self.actor.trim(), &mut errors);
        uuid("before", self.before.trim(), &mut errors);
        add("actor_id", self.actor.trim());
        add("before", self.before.trim());
        add("target_kind", self.kind.trim());
        add("target_id", self.target.trim());
        let day = |field: &str, text: &str, errors: &mut Vec<FieldError>| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            if parsed.is_none() {
                errors.push(error(field, "must be a date, like 2026-12-01"));
            }
            parsed
        };
        let from = day("from", &self.from, &mut errors);
        let to = day("to", &self.to, &mut errors);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            errors.push(error("to", "must be on or after the first day"));
        }
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true))
        };
        if let Some(start) = from.and_then(midnight) {
            add("from", &start);
        }
        if let Some(end) = to
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .and_then(midnight)
        {
            add("to", &end);
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }

    /// This page with these filters, older than the entry `before` where given.
    fn url(&self, before: Option<&str>) -> String {
        let pairs = [
            ("actor", self.actor.as_str()),
            ("kind", &self.kind),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
            ("before", before.unwrap_or_default()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| format!("{name}={}", form_urlencoded(value.trim())))
            .collect();
        format!("{HERE}?{}", query.join("&"))
    }
}

fn error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

pub struct Row {
    pub at: String,
    pub actor: String,
    pub actor_url: String,
    pub action: String,
    pub kind: String,
    pub target: String,
    /// The entity's own page in the dashboard, where it has one.
    pub target_url: Option<String>,
    /// This log narrowed to the entity.
    pub only_this: String,
    pub details: String,
    pub client_ip: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: AdminLayout,
    form: Form,
    actors: Vec<Choice>,
    kinds: Vec<Choice>,
    target: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    /// Trails that could not be read just now: the page says so rather than hide it.
    unread: Vec<&'static str>,
    next: Option<String>,
    filtered: bool,
}

pub(super) async fn page(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<Filters>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    if !staff.may(contracts::claims::StaffRole::Admin) {
        return forbidden(&web, &staff);
    }
    let filters = query.map(|Query(f)| f).unwrap_or_default();
    let members = web
        .api
        .get::<ApiMembers>(&staff.caller, "/api/v1/staff?limit=100")
        .await;
    let members = match members {
        Ok(m) => m.items,
        Err(p) => return failure(&web, &staff, HERE, &p),
    };
    let (form, status, entries, unread, more) = match filters.api_query() {
        Err(errors) => {
            let form = Form {
                problem: Some("Some filters need another look; each says what is wrong.".into()),
                errors,
            };
            (
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                Vec::new(),
                Vec::new(),
                false,
            )
        }
        Ok(query) => match read_trails(&web, &staff, &query).await {
            Ok((entries, unread, more)) => (Form::default(), StatusCode::OK, entries, unread, more),
            Err(p) if p.is(422) => {
                let form = Form::refused(&p);
                (
                    form,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Vec::new(),
                    Vec::new(),
                    false,
                )
            }
            Err(p) => return failure(&web, &staff, HERE, &p),
        },
    };
    let next = more
        .then(|| entries.last().map(|e| filters.url(Some(&e.id))))
        .flatten();
    let rows = entries
        .into_iter()
        .map(|e| row(e, &members, &filters))
        .collect();
    let actors = members
        .iter()
        .map(|m| Choice {
            selected: m.id == filters.actor.trim(),
            label: format!("{} ({})", m.name, m.email),
            value: m.id.clone(),
        })
        .collect();
    let kinds = KINDS
        .iter()
        .map(|(value, label)| Choice {
            selected: *value == filters.kind.trim(),
            label: (*label).to_owned(),
            value: (*value).to_owned(),
        })
        .collect();
    let filtered = [
        &filters.actor,
        &filters.kind,
        &filters.target,
        &filters.from,
        &filters.to,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    render_status(
        status,
        &AuditPage {
            layout: AdminLayout::new(&web, &staff, "audit"),
            form,
            actors,
            kinds,
            target: filters.target.trim().to_owned(),
            from: filters.from.trim().to_owned(),
            to: filters.to.trim().to_owned(),
            rows,
            unread,
            next,
            filtered,
        },
    )
}

/// Every trail's page for `query`, merged newest first and cut to one page; the trails
/// that could not be read; and whether older entries remain in any of them.
async fn read_trails(
    web: &WebState,
    staff: &StaffMember,
    query: &str,
) -> Result<(Vec<ApiEntry>, Vec<&'static str>, bool), Problem> {
    let paths: Vec<String> = TRAILS
        .iter()
        .map(|(path, _)| format!("{path}?{query}"))
        .collect();
    let reads = paths
        .iter()
        .map(|path| web.api.get::<ApiEntries>(&staff.caller, path));
    let answers = join_all(reads).await;
    let (mut entries, mut unread, mut more) = (Vec::new(), Vec::new(), false);
    for ((_, name), answer) in TRAILS.iter().zip(answers) {
        match answer {
            Ok(page) => {
                more |= page.next_cursor.is_some();
                entries.extend(page.items);
            }
            // One service down hides its entries, not the whole log.
            Err(p) if p.status >= 500 => unread.push(*name),
            Err(p) => return Err(p),
        }
    }
    // UUIDv7 in their text form sort as they were made.
    entries.sort_by(|a, b| b.id.cmp(&a.id));
    more |= entries.len() > PAGE;
    entries.truncate(PAGE);
    Ok((entries, unread, more))
}

fn row(e: ApiEntry, members: &[ApiMember], filters: &Filters) -> Row {
    let actor = members.iter().find(|m| m.id == e.actor_id).map_or_else(
        || format!("Staff member {}", short(&e.actor_id)),
        |m| m.name.clone(),
    );
    let target_url = match e.target_kind.as_str() {
        "order" => Some(format!("/admin/orders/{}", e.target_id)),
        "product" => Some(format!("/admin/products/{}", e.target_id)),
        "category" => Some(format!("/admin/categories/{}", e.target_id)),
        "zone" => Some(format!("/admin/shipping/zones/{}", e.target_id)),
        "staff" => Some(format!("/admin/staff/{}", e.target_id)),
        "customer" => Some(format!("/admin/customers/{}", e.target_id)),
        _ => None,
    };
    let only = Filters {
        kind: e.target_kind.clone(),
        target: e.target_id.clone(),
        ..filters.clone()
    };
    let only_this = only.url(None);
    Row {
        at: e.at.format("%-d %b %Y %H:%M:%S UTC").to_string(),
        actor_url: format!("/admin/staff/{}", e.actor_id),
        actor,
        action: e.action,
        kind: e.target_kind,
        target: short(&e.target_id).to_owned(),
        target_url,
        only_this,
        details: details(&e.details),
        client_ip: e.client_ip,
    }
}

/// The last block of an id, enough to tell entities apart on a page (a UUIDv7 begins
/// with its time, so the first blocks of ids made together are alike).
fn short(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

/// The details as `key: value` pairs by name, leaving out what is empty.
fn details(details: &Value) -> String {
    let Some(map) = details.as_object() else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}: {value}", k.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_with_both_ends_included() {
        let f = Filters {
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            ..Filters::default()
        };
        let q = f.api_query().expect("valid");
        assert!(q.contains("&from=2026-12-01T00%3A00%3A00Z"), "{q}");
        assert!(q.contains("&to=2026-12-02T00%3A00%3A00Z"), "{q}");
    }

    #[test]
    fn wrong_filters_are_said_beside_their_fields() {
        let f = Filters {
            actor: "ana".into(),
            from: "2026-12-05".into(),
            to: "2026-12-01".into(),
            before: "x".into(),
            ..Filters::default()
        };
        let fields: Vec<String> = f
            .api_query()
            .expect_err("refused")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["actor", "before", "to"]);
        let f = Filters {
            from: "yesterday".into(),
            ..Filters::default()
        };
        assert_eq!(f.api_query().expect_err("refused")[0].field, "from");
    }

    #[test]
    fn details_read_as_pairs_without_the_empty_ones() {
        let d = serde_json::json!({"from": "paid", "to": "shipped", "tracking_number": "JNE 1", "reason": null});
        assert_eq!(
            details(&d),
            "from: paid, to: shipped, tracking number: JNE 1"
        );
    }

    #[test]
    fn a_page_link_keeps_the_filters() {
        let f = Filters {
            kind: "order".into(),
            target: "a b".into(),
            ..Filters::default()
        };
        assert_eq!(
            f.url(Some("01")),
            "/admin/audit?kind=order&target=a+b&before=01"
        );
        assert_eq!(f.url(None), "/admin/audit?kind=order&target=a+b");
    }
}
