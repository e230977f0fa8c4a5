//! The dashboard's order list filtered over HTTP, as a browser without JavaScript sends
//! the form: by status, by the days placed (UTC, both included) and by number, alone and
//! together; the next page keeps the filters; a refused filter is told beside its field
//! with what was typed kept; an empty result says so.

use chrono::{Days, NaiveDate};
use serde_json::Value;
use testkit::pages::{Browser, Page};
use testkit::shop::{self, shipping_to_indonesia};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

/// The short number the dashboard shows for an order id.
fn short(id: &str) -> String {
    id[id.len() - 8..].to_owned()
}

/// The UTC day an order was placed, and the days either side, as a date field sends them.
fn days_around(order: &Value) -> (String, String, String) {
    let placed = order["placed_at"].as_str().expect("placed_at");
    let day = NaiveDate::parse_from_str(&placed[..10], "%Y-%m-%d").expect("a date");
    let text = |d: Option<NaiveDate>| d.expect("a day").format("%Y-%m-%d").to_string();
    (
        text(day.checked_sub_days(Days::new(1))),
        text(Some(day)),
        text(day.checked_add_days(Days::new(1))),
    )
}

/// A paid order of one unit for a new customer of the shop.
async fn paid_order(app: &TestApp, product: &str) -> Value {
    let customer = app.customer_token().await;
    shop::paid_order(app, &customer, product, 1).await
}

/// Asserts the page lists the orders numbered `wanted` and none numbered `not` (a
/// number typed in the form is in the page too, so rows are told by their link).
#[track_caller]
fn shows(page: &Page, wanted: &[&str], not: &[&str]) {
    page.assert_status(200);
    for n in wanted {
        page.assert_contains(&format!(">{n}</a>"));
    }
    for n in not {
        page.assert_lacks(&format!(">{n}</a>"));
    }
}

pub async fn staff_filter_orders_by_status_days_and_number(backend: Backend) {
    let app = open_shop(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(&app, &inventory, 1_250, 10).await;
    let first = paid_order(&app, &product).await;
    let second = paid_order(&app, &product).await;
    let [one, two] = [&first, &second].map(|o| o["id"].as_str().expect("id").to_owned());
    let [n1, n2] = [short(&one), short(&two)];
    let (yesterday, today, tomorrow) = days_around(&second);
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;

    // By number: the short number, in either case, or the whole id.
    let page = clerk.get(&format!("/admin/orders?number={n1}")).await;
    shows(&page, &[n1.as_str()], &[n2.as_str()]);
    assert_eq!(page.input_value("number").as_deref(), Some(n1.as_str()));
    let upper = clerk
        .get(&format!("/admin/orders?number={}", n2.to_uppercase()))
        .await;
    shows(&upper, &[n2.as_str()], &[n1.as_str()]);
    shows(
        &clerk.get(&format!("/admin/orders?number={two}")).await,
        &[n2.as_str()],
        &[n1.as_str()],
    );

    // By the days placed, both ends included.
    let (from, to) = if first["placed_at"].as_str().map(|p| &p[..10]) == Some(today.as_str()) {
        (today.clone(), today.clone())
    } else {
        // The first was placed the day before (a run across midnight UTC).
        (yesterday.clone(), today.clone())
    };
    let range = clerk
        .get(&format!("/admin/orders?from={from}&to={to}"))
        .await;
    shows(&range, &[n1.as_str(), n2.as_str()], &[]);
    assert_eq!(range.input_value("from").as_deref(), Some(from.as_str()));
    assert_eq!(range.input_value("to").as_deref(), Some(to.as_str()));
    for later in [
        format!("/admin/orders?from={tomorrow}"),
        format!("/admin/orders?to={yesterday}&number={n2}"),
    ] {
        let page = clerk.get(&later).await;
        shows(&page, &[], &[n1.as_str(), n2.as_str()]);
        page.assert_contains("No order matches these filters.");
    }

    // Together, each must hold; the form shows every filter as chosen.
    let both = clerk
        .get(&format!(
            "/admin/orders?status=paid&from={today}&to={today}&number={n2}"
        ))
        .await;
    shows(&both, &[n2.as_str()], &[n1.as_str()]);
    both.assert_contains("<option value=\"paid\" selected>");
    assert_eq!(both.input_value("number").as_deref(), Some(n2.as_str()));
    let delivered = clerk
        .get(&format!("/admin/orders?status=delivered&number={n2}"))
        .await;
    shows(&delivered, &[], &[n1.as_str(), n2.as_str()]);
    delivered.assert_contains("No order matches these filters.");
}

/// Twenty-six orders today after one placed two days before: the list pages at 25, the
/// link to the next page carries the filters, and the page it opens holds only what the
/// filters let through.
pub async fn the_next_page_of_a_filtered_list_keeps_the_filters(backend: Backend) {
    let app = open_shop(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(&app, &inventory, 1_000, 100).await;
    let old = paid_order(&app, &product).await;
    app.advance_clock(chrono::Duration::days(2));
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(&app, &inventory, 1_000, 100).await;
    let buyer = app.customer_token().await;
    let home = shop::address(&app, &buyer).await;
    let mut placed = Vec::new();
    for _ in 0..26 {
        shop::add(&app, &buyer, &product, 1).await;
        placed.push(shop::place(&app, &buyer, &home).await);
    }
    let (_, today, _) = days_around(&placed[0]);
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;

    let first = clerk.get(&format!("/admin/orders?from={today}")).await;
    first.assert_status(200);
    let link = first
        .html
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("cursor="))
        .expect("a link to the next page")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(link.contains(&format!("&from={today}")), "{link}");
    let newest = short(placed[25]["id"].as_str().expect("id"));
    let oldest_today = short(placed[0]["id"].as_str().expect("id"));
    let before = short(old["id"].as_str().expect("id"));
    shows(
        &first,
        &[newest.as_str()],
        &[oldest_today.as_str(), before.as_str()],
    );

    let next = clerk.get(&link).await;
    shows(
        &next,
        &[oldest_today.as_str()],
        &[newest.as_str(), before.as_str()],
    );
    next.assert_lacks("rel=\"next\"");
    assert_eq!(next.input_value("from").as_deref(), Some(today.as_str()));
}

pub async fn refused_filters_are_told_beside_their_fields_and_kept(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("finance").await;
    clerk
        .get("/admin/orders")
        .await
        .assert_status(200)
        .assert_contains("No orders yet.");

    // The API's own words for a range that ends before it starts, beside "from".
    let reversed = clerk
        .get("/admin/orders?status=paid&from=2026-12-05&to=2026-12-03")
        .await;
    reversed
        .assert_status(422)
        .assert_contains("id=\"from-error\">must be before to<")
        .assert_contains("<option value=\"paid\" selected>")
        .assert_lacks("No order");
    assert_eq!(reversed.input_value("from").as_deref(), Some("2026-12-05"));
    assert_eq!(reversed.input_value("to").as_deref(), Some("2026-12-03"));

    // A number that is neither the short number nor an id, in the API's words.
    let number = clerk.get("/admin/orders?number=%3Cb%3Eabc").await;
    number
        .assert_status(422)
        .assert_contains("id=\"number-error\">must be an order id or the order")
        .assert_lacks("<b>abc");
    assert_eq!(number.input_value("number").as_deref(), Some("<b>abc"));

    // A date no date field sends is refused by the page itself.
    let typed = clerk
        .get("/admin/orders?from=yesterday&to=2026-02-30&number=0000")
        .await;
    typed
        .assert_status(422)
        .assert_contains("id=\"from-error\">must be a date, like 2026-12-01<")
        .assert_contains("id=\"to-error\">must be a date, like 2026-12-01<");
    assert_eq!(typed.input_value("from").as_deref(), Some("yesterday"));
    assert_eq!(typed.input_value("to").as_deref(), Some("2026-02-30"));
    assert_eq!(typed.input_value("number").as_deref(), Some("0000"));

    // Fine filters that match nothing say so.
    clerk
        .get("/admin/orders?number=00000000&from=2026-12-01")
        .await
        .assert_status(200)
        .assert_contains("No order matches these filters.");
}

testkit::backend_tests!(
    staff_filter_orders_by_status_days_and_number,
    the_next_page_of_a_filtered_list_keeps_the_filters,
    refused_filters_are_told_beside_their_fields_and_kept,
);
