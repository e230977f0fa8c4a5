//! `GET /admin/orders` filtered the way the dashboard asks: by when the order was placed
//! (`from` inclusive, `to` exclusive, RFC 3339), by its number (the id or its last 8
//! digits), with status, each alone and together, paged with the filters kept, and
//! every bad value refused naming its parameter.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::checkout::{checkout, ready_customer, shipping_to_indonesia};
use crate::saga::settled;

const LIST: &str = "/api/v1/admin/orders";

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The ids a filtered list holds, asserting it is one page.
async fn listed(app: &TestApp, staff: &str, query: &str) -> Vec<String> {
    let res = app.get(&format!("{LIST}?{query}"), Some(staff)).await;
    res.assert_status(200);
    assert_eq!(res.body["next_cursor"], json!(null), "{query}: one page");
    ids(&res.body)
}

/// Every page of a filtered list, `limit` at a time, following the cursor with the
/// same filters.
async fn every_page(app: &TestApp, staff: &str, query: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{LIST}?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, Some(staff)).await;
        res.assert_status(200);
        pages.push(ids(&res.body));
        match res.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 10, "the cursor ends");
    }
}

/// Three orders by three customers, placed one after the other and past reservation;
/// the first and the last cancelled. Newest first: (ids, placed_at as listed).
async fn three_orders(app: &TestApp, staff: &str) -> (Vec<String>, Vec<String>) {
    shipping_to_indonesia(app).await;
    let mut placed = Vec::new();
    for key in ["one", "two", "three"] {
        let (token, home, _) = ready_customer(app).await;
        let body = json!({"address_id": home, "shipping_service": "standard"});
        let res = checkout(app, &token, Some(key), body).await;
        res.assert_status(201);
        let id = res.body["id"].as_str().expect("id").to_owned();
        settled(app, &token, &id).await;
        placed.push((id, token));
    }
    for (id, token) in [&placed[0], &placed[2]] {
        app.post(
            &format!("/api/v1/orders/{id}/cancel"),
            Some(token),
            json!({}),
        )
        .await
        .assert_status(200);
    }
    let all = app.get(LIST, Some(staff)).await;
    all.assert_status(200);
    let newest_first: Vec<String> = placed.iter().rev().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids(&all.body), newest_first);
    let at = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["placed_at"].as_str().expect("placed_at").to_owned())
        .collect();
    (newest_first, at)
}

pub async fn staff_filter_orders_by_date_range_and_number_alone_and_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_token("finance").await;
    let (ids, at) = three_orders(&app, &staff).await;
    let [third, second, first] = [&ids[0], &ids[1], &ids[2]].map(String::as_str);
    let [at3, at2, at1] = [&at[0], &at[1], &at[2]].map(String::as_str);

    // The range: `from` includes its instant, `to` leaves its instant out.
    assert_eq!(
        listed(&app, &staff, &format!("from={at2}")).await,
        [third, second]
    );
    assert_eq!(listed(&app, &staff, &format!("to={at2}")).await, [first]);
    assert_eq!(
        listed(&app, &staff, &format!("from={at1}&to={at3}")).await,
        [second, first]
    );
    assert_eq!(
        listed(&app, &staff, "from=2999-01-01T00:00:00Z").await,
        Vec::<String>::new()
    );
    // A day in UTC as the dashboard asks for it, and an offset other than Z.
    let day = &at2[..10];
    let next_day = (chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a date")
        + chrono::Days::new(1))
    .format("%Y-%m-%d");
    let whole_day = listed(
        &app,
        &staff,
        &format!("from={day}T00:00:00Z&to={next_day}T00:00:00%2B00:00"),
    )
    .await;
    assert!(whole_day.iter().any(|id| id == second), "{whole_day:?}");

    // The number: the whole id, or its last 8 digits in either case.
    assert_eq!(
        listed(&app, &staff, &format!("number={second}")).await,
        [second]
    );
    let short = &second[second.len() - 8..];
    assert_eq!(
        listed(&app, &staff, &format!("number={short}")).await,
        [second]
    );
    assert_eq!(
        listed(&app, &staff, &format!("number={}", short.to_uppercase())).await,
        [second]
    );
    assert_eq!(
        listed(&app, &staff, "number=00000000-0000-0000-0000-000000000000").await,
        Vec::<String>::new()
    );

    // Together, every filter must hold.
    assert_eq!(
        listed(&app, &staff, &format!("status=cancelled&to={at3}")).await,
        [first]
    );
    assert_eq!(
        listed(&app, &staff, &format!("status=cancelled&from={at2}")).await,
        [third]
    );
    let short_third = &third[third.len() - 8..];
    assert_eq!(
        listed(
            &app,
            &staff,
            &format!("status=cancelled&from={at1}&to=2999-01-01T00:00:00Z&number={short_third}")
        )
        .await,
        [third]
    );
    assert_eq!(
        listed(&app, &staff, &format!("status=cancelled&number={second}")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&app, &staff, &format!("to={at2}&number={third}")).await,
        Vec::<String>::new()
    );
}

/// The cursor keeps its place inside the filtered list: an order the filters leave out
/// never appears, and the pages end where the filtered list does.
pub async fn a_filtered_list_is_paged_with_its_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_token("inventory").await;
    let (ids, at) = three_orders(&app, &staff).await;
    let [third, second, first] = [&ids[0], &ids[1], &ids[2]].map(String::as_str);
    let at1 = at[2].as_str();

    assert_eq!(
        every_page(&app, &staff, "status=cancelled", 1).await,
        [vec![third.to_owned()], vec![first.to_owned()]],
        "the uncancelled order between them is left out"
    );
    assert_eq!(
        every_page(
            &app,
            &staff,
            &format!("from={at1}&to=2999-01-01T00:00:00Z"),
            2
        )
        .await,
        [
            vec![third.to_owned(), second.to_owned()],
            vec![first.to_owned()]
        ]
    );
    let cancelled_since_first = format!("status=cancelled&from={at1}");
    assert_eq!(
        every_page(&app, &staff, &cancelled_since_first, 2).await,
        [vec![third.to_owned(), first.to_owned()]]
    );
}

pub async fn bad_filter_values_are_refused_naming_their_parameter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff = app.staff_token("inventory").await;
    for (query, field) in [
        ("status=lost", "status"),
        ("customer_id=someone", "customer_id"),
        ("from=yesterday", "from"),
        // Date-times only: a plain date has no time or offset to compare with.
        ("from=2026-12-01", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from"),
        ("from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z", "from"),
        ("number=", "number"),
        ("number=1234567", "number"),
        ("number=123456789", "number"),
        ("number=zzzzzzzz", "number"),
        // The id without its hyphens, or braced, is not what the shop ever shows.
        ("number=0193a1b27c4d7e5f8a9b0c1d2e3f4a5b", "number"),
        (
            "number=%7B0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b%7D",
            "number",
        ),
        ("limit=0", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let res = app.get(&format!("{LIST}?{query}"), Some(&staff)).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.body);
    }
    // Orders do not record the customer's email, so there is no such filter: it is
    // refused rather than ignored.
    app.get(&format!("{LIST}?email=ann@example.test"), Some(&staff))
        .await
        .assert_problem(422);
    // Every mistake at once, each named.
    let res = app
        .get(
            &format!(
                "{LIST}?status=lost&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z&number=x"
            ),
            Some(&staff),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["status", "from", "number"]);
}

testkit::backend_tests!(
    staff_filter_orders_by_date_range_and_number_alone_and_together,
    a_filtered_list_is_paged_with_its_filters,
    bad_filter_values_are_refused_naming_their_parameter,
);
