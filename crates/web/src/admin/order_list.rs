//! The staff's list of orders, newest first: filtered by status, by the days they were
//! placed (UTC, both days included) and by number (the short number customers quote, or
//! the whole id), a page at a time with the filters kept on the next page's link. A
//! filter the API refuses is said beside its field, with what was typed kept.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::orders::label;
use super::{AdminLayout, failure, sign_in_first};
use crate::WebState;
use crate::api::FieldError;
use crate::pages::orders::{ApiOrder, number};
use crate::pages::render_status;
use crate::session::StaffMember;
use crate::view::{Form, form_urlencoded};

/// Every status an order can have, in the order a purchase moves through them.
const STATUSES: [&str; 10] = [
    "pending",
    "awaiting_payment",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "rejected",
    "cancelled",
    "payment_failed",
    "refunded",
];

/// Orders per page of the list.
const PAGE: u32 = 25;

#[derive(Deserialize)]
struct ApiPage {
    items: Vec<ApiOrder>,
    next_cursor: Option<String>,
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct Row {
    pub url: String,
    pub number: String,
    pub placed: String,
    pub status: &'static str,
    pub items: i64,
    pub total: String,
}

/// The filters as typed, shown again in the form and carried by the next page's link.
#[derive(Default)]
pub struct Filters {
    pub status: Option<&'static str>,
    pub from: String,
    pub to: String,
    pub number: String,
}

impl Filters {
    fn read(q: ListQuery) -> Self {
        Self {
            // An unknown status in a hand-made URL filters nothing, rather than failing.
            status: STATUSES.iter().find(|s| **s == q.status).copied(),
            from: q.from.trim().to_owned(),
            to: q.to.trim().to_owned(),
            number: q.number.trim().trim_start_matches('#').to_owned(),
        }
    }

    fn any(&self) -> bool {
        self.status.is_some()
            || !self.from.is_empty()
            || !self.to.is_empty()
            || !self.number.is_empty()
    }

    /// `&status=…&from=…` for the filters set, as the dashboard's own URL carries them.
    fn query(&self) -> String {
        let mut query = String::new();
        let fields = [
            ("status", self.status.unwrap_or_default()),
            ("from", &self.from),
            ("to", &self.to),
            ("number", &self.number),
        ];
        for (name, value) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
            query.push_str(&format!("&{name}={}", form_urlencoded(value)));
        }
        query
    }

    /// The API's query for these filters. The API takes instants: a day typed here is
    /// from its midnight UTC to the next one, so the `to` day is included whole. A date
    /// the browser should not have sent (or one past the years the API reads, 1 to
    /// 9999) is refused here, beside its field.
    fn api_query(&self) -> Result<String, Vec<FieldError>> {
        let mut query = String::new();
        let mut errors = Vec::new();
        if let Some(status) = self.status {
            query.push_str(&format!("&status={status}"));
        }
        for (field, text, days_on) in [("from", &self.from, 0), ("to", &self.to, 1)] {
            if text.is_empty() {
                continue;
            }
            let asked = day(text)
                .and_then(|d| d.checked_add_days(chrono::Days::new(days_on)))
                .filter(|d| (1..=9999).contains(&d.year()));
            match asked {
                Some(d) => query.push_str(&format!("&{field}={}T00:00:00Z", d.format("%Y-%m-%d"))),
                None => errors.push(FieldError {
                    field: field.into(),
                    message: "must be a date, like 2026-12-01".into(),
                }),
            }
        }
        if !self.number.is_empty() {
            query.push_str(&format!("&number={}", form_urlencoded(&self.number)));
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }
}

/// A date as a date field sends it (`2026-12-01`).
fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct ListPage {
    layout: AdminLayout,
    form: Form,
    statuses: Vec<Choice>,
    filters: Filters,
    rows: Vec<Row>,
    next: Option<String>,
}

#[derive(Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    cursor: String,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let here = "/admin/orders";
    if !staff.signed_in() {
        return sign_in_first(here);
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let cursor = q.cursor.clone();
    let filters = Filters::read(q);
    let empty = || ApiPage {
        items: Vec::new(),
        next_cursor: None,
    };
    let (page, form, status) = match filters.api_query() {
        Ok(api_query) => {
            let mut path = format!("/api/v1/admin/orders?limit={PAGE}{api_query}");
            if !cursor.is_empty() {
                path.push_str(&format!("&cursor={}", form_urlencoded(&cursor)));
            }
            match web.api.get::<ApiPage>(&staff.caller, &path).await {
                Ok(page) => (page, Form::default(), StatusCode::OK),
                // The API's words for a filter it refuses, beside the field.
                Err(p) if p.is(422) => {
                    (empty(), Form::refused(&p), StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(p) => return failure(&web, &staff, here, &p),
            }
        }
        Err(errors) => {
            let form = Form {
                problem: Some("Some fields need another look; each says what is wrong.".into()),
                errors,
            };
            (empty(), form, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let rows = page
        .items
        .iter()
        .map(|o| Row {
            url: format!("/admin/orders/{}", o.id),
            number: number(&o.id),
            placed: o.placed_at.format("%-d %b %Y, %H:%M").to_string(),
            status: label(&o.status),
            items: o.lines.iter().map(|l| l.quantity).sum(),
            total: contracts::money::display(o.totals.total, &o.totals.currency),
        })
        .collect();
    let next = page
        .next_cursor
        .map(|c| format!("{here}?cursor={}{}", form_urlencoded(&c), filters.query()));
    render_status(
        status,
        &ListPage {
            layout: AdminLayout::new(&web, &staff, "orders"),
            form,
            statuses: STATUSES
                .iter()
                .map(|s| Choice {
                    value: s,
                    label: label(s),
                    selected: Some(*s) == filters.status,
                })
                .collect(),
            filters,
            rows,
            next,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(from: &str, to: &str) -> Filters {
        Filters {
            from: from.into(),
            to: to.into(),
            ..Filters::default()
        }
    }

    #[test]
    fn a_day_range_asks_the_api_for_whole_utc_days() {
        assert_eq!(
            typed("2026-12-01", "2026-12-31")
                .api_query()
                .ok()
                .as_deref(),
            Some("&from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z")
        );
        assert_eq!(typed("", "").api_query().ok().as_deref(), Some(""));
        for wrong in [
            "yesterday",
            "2026-02-30",
            "01/12/2026",
            "10000-01-01",
            "9999-12-31x",
        ] {
            let errors = typed(wrong, "").api_query().expect_err(wrong);
            assert_eq!(errors[0].field, "from", "{wrong}");
        }
        // The last day there is has no next midnight for `to`.
        assert!(typed("", "9999-12-31").api_query().is_err());
    }

    #[test]
    fn the_next_page_carries_the_filters_as_typed() {
        let f = Filters {
            status: Some("paid"),
            number: "ab 12".into(),
            ..typed("2026-12-01", "")
        };
        assert_eq!(f.query(), "&status=paid&from=2026-12-01&number=ab+12");
        assert!(f.any());
        assert!(!Filters::default().any());
    }
}
