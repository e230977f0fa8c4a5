//! `GET /api/v1/products`: sorts, filters and keyset paging, which sees every product
//! that existed when paging began exactly once, even while new products arrive.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{
    PRODUCTS, create_category, create_product, create_product_with, id_of, ids, inventory, list,
    next_page, page_all, product_body, product_path, put_stock, text,
};

/// Creates products named `P0`, `P1`… with these prices, oldest first; returns their ids.
async fn seed(app: &TestApp, token: &str, prices: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        out.push(id_of(
            &create_product(app, token, &format!("P{i}"), *price).await,
        ));
    }
    out
}

fn prices(res: &testkit::TestResponse) -> Vec<i64> {
    res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["price"].as_i64().expect("price"))
        .collect()
}

pub async fn products_are_listed_newest_first_by_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = seed(&app, &token, &[300, 100, 200]).await;

    let default = list(&app, "").await;
    let newest = list(&app, "sort=newest").await;

    let expected: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&default), expected);
    assert_eq!(ids(&newest), expected);
    assert_eq!(default.body["next_cursor"], json!(null));
    assert!(default.body["items"][0].get("stock").is_none());
    assert_eq!(default.headers["cache-control"], "public, max-age=30");
    let as_staff = app.get(&format!("{PRODUCTS}?limit=1"), Some(&token)).await;
    assert_eq!(as_staff.body["items"][0]["stock"]["on_hand"], 5);
    assert_eq!(as_staff.headers["cache-control"], "private, no-store");
}

pub async fn products_sort_by_price_both_ways(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    seed(&app, &token, &[300, 100, 200, 100]).await;

    assert_eq!(
        prices(&list(&app, "sort=price_asc").await),
        [100, 100, 200, 300]
    );
    assert_eq!(
        prices(&list(&app, "sort=price_desc").await),
        [300, 200, 100, 100]
    );
    assert_eq!(
        list(&app, "sort=rating").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
}

pub async fn price_bounds_filter_the_listing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    seed(&app, &token, &[100, 200, 300, 400]).await;

    let q = |query: &'static str| list(&app, query);
    assert_eq!(
        prices(&q("min_price=200&sort=price_asc").await),
        [200, 300, 400]
    );
    assert_eq!(prices(&q("max_price=200&sort=price_asc").await), [100, 200]);
    assert_eq!(
        prices(&q("min_price=150&max_price=350&sort=price_asc").await),
        [200, 300]
    );
    assert_eq!(prices(&q("min_price=300&max_price=300").await), [300]);
    assert!(prices(&q("min_price=401").await).is_empty());
}

pub async fn the_in_stock_filter_leaves_out_sold_out_products(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = seed(&app, &token, &[100, 200, 300]).await;
    put_stock(
        &app,
        Some(&token),
        &created[1],
        json!({"on_hand": 0, "version": 1}),
    )
    .await
    .assert_status(200);

    let in_stock = list(&app, "in_stock=true").await;
    let everything = list(&app, "in_stock=false").await;

    assert_eq!(ids(&in_stock), [created[2].clone(), created[0].clone()]);
    assert_eq!(ids(&everything).len(), 3);
}

pub async fn a_category_filter_includes_its_subcategories(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let shoes = create_category(&app, &token, "Shoes", None).await;
    let running = create_category(&app, &token, "Running", Some(text(&shoes, "id"))).await;
    let bags = create_category(&app, &token, "Bags", None).await;
    let in_category = |name: &str, category: &serde_json::Value| {
        let mut b = product_body(name, 1000);
        b["category_ids"] = json!([category["id"]]);
        b
    };
    let loafer = id_of(&create_product_with(&app, &token, in_category("Loafer", &shoes)).await);
    let racer = id_of(&create_product_with(&app, &token, in_category("Racer", &running)).await);
    create_product_with(&app, &token, in_category("Tote", &bags)).await;
    create_product(&app, &token, "Uncategorised", 1000).await;

    let parent = list(&app, &format!("category={}", text(&shoes, "id"))).await;
    let child = list(&app, &format!("category={}", text(&running, "id"))).await;
    let unknown = list(&app, &format!("category={}", uuid::Uuid::now_v7())).await;

    assert_eq!(ids(&parent), [racer.clone(), loafer]);
    assert_eq!(ids(&child), [racer]);
    assert!(ids(&unknown).is_empty());
}

pub async fn bad_listing_parameters_are_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    seed(&app, &token, &[100, 200, 300]).await;
    let newest_cursor = list(&app, "limit=1").await.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let cases = [
        ("sort=cheapest", "sort"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=eyJzb3J0IjoibmV3In0", "cursor"),
        ("min_price=-1", "min_price"),
        ("min_price=500&max_price=100", "min_price"),
        ("q=a&sort=bogus", "sort"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("category=shoes", "category"),
        ("in_stock=maybe", "in_stock"),
        ("min_price=1.5", "min_price"),
    ];
    for (query, field) in cases {
        let res = app.get(&format!("{PRODUCTS}?{query}"), None).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.text);
    }
    let long = app
        .get(&format!("{PRODUCTS}?q={}", "a".repeat(201)), None)
        .await;
    long.assert_problem(422);
    assert_eq!(long.error_fields(), ["q"]);
    let other_sort = app
        .get(
            &format!(
                "{PRODUCTS}?sort=price_asc&cursor={}",
                crate::helpers::encode(&newest_cursor)
            ),
            None,
        )
        .await;
    other_sort.assert_problem(422);
    assert_eq!(other_sort.error_fields(), ["cursor"]);
    list(&app, "limit=100").await;
    list(&app, "limit=1").await;
}

pub async fn archived_products_are_listed_for_staff_only_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let c = create_category(&app, &token, "Mugs", None).await;
    let mut body = product_body("Archived Mug", 500);
    body["category_ids"] = json!([c["id"]]);
    let archived = id_of(&create_product_with(&app, &token, body).await);
    let live = id_of(&create_product(&app, &token, "Live Mug", 500).await);
    app.delete(&product_path(&archived), Some(&token))
        .await
        .assert_status(204);

    for query in [
        "",
        "sort=price_asc",
        "sort=price_desc",
        "sort=rating",
        "in_stock=true",
        "q=mug",
        "min_price=500",
    ] {
        assert_eq!(ids(&list(&app, query).await), [live.as_str()], "{query}");
    }
    assert!(ids(&list(&app, &format!("category={}", text(&c, "id"))).await).is_empty());
    let as_staff = app.get(PRODUCTS, Some(&token)).await;
    assert_eq!(ids(&as_staff), [live.as_str()]);

    // Staff may ask for the archived too (the dashboard's product list); no one else.
    let everything = app
        .get(
            &format!("{PRODUCTS}?archived=true&sort=newest"),
            Some(&token),
        )
        .await;
    everything.assert_status(200);
    assert_eq!(ids(&everything), [live.as_str(), archived.as_str()]);
    assert_eq!(everything.body["items"][1]["active"], false);
    let refused = app.get(&format!("{PRODUCTS}?archived=true"), None).await;
    refused.assert_problem(422);
    assert_eq!(refused.body["errors"][0]["field"], "archived");
}

pub async fn paging_with_a_small_limit_returns_each_product_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let created = seed(&app, &token, &[5, 3, 3, 9, 1, 7, 3, 8, 2, 6]).await;

    for sort in ["newest", "price_asc", "price_desc"] {
        let query = format!("sort={sort}&limit=3");
        let first = list(&app, &query).await;
        assert_eq!(ids(&first).len(), 3);
        let seen = page_all(&app, &query).await;
        let mut sorted = seen.clone();
        sorted.sort();
        let mut expected = created.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{sort}: {seen:?}");
    }
    let desc = page_all(&app, "sort=newest&limit=3").await;
    assert_eq!(desc, created.iter().rev().cloned().collect::<Vec<_>>());
}

/// Pages through 12 products with `sort`, 4 at a time, while 5 products are added
/// between page requests and 5 more by a concurrent task.
async fn page_while_products_are_added(backend: Backend, sort: &str) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let originals = seed(
        &app,
        &token,
        &[300, 100, 200, 100, 500, 400, 300, 200, 600, 100, 700, 300],
    )
    .await;

    let (client, url, bearer) = (app.client.clone(), app.url(PRODUCTS), token.clone());
    let inserter = tokio::spawn(async move {
        for i in 0..5_i64 {
            let res = client
                .post(&url)
                .bearer_auth(&bearer)
                .json(&product_body(&format!("Spawned {i}"), 100 + i * 150))
                .send()
                .await
                .expect("sent");
            assert_eq!(res.status().as_u16(), 201);
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    });
    let query = format!("sort={sort}&limit=4");
    let (mut seen, mut prices_seen, mut added) = (Vec::new(), Vec::new(), 0);
    let mut next = Some(query.clone());
    while let Some(q) = next {
        let res = list(&app, &q).await;
        seen.extend(ids(&res));
        prices_seen.extend(prices(&res));
        next = next_page(&query, &res);
        for _ in 0..3.min(5 - added) {
            create_product(&app, &token, &format!("Between {added}"), 100 * (added + 1)).await;
            added += 1;
        }
        assert!(seen.len() < 100, "paging does not end");
    }
    inserter.await.expect("the inserter finished");

    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in &seen {
        *counts.entry(id).or_default() += 1;
    }
    for id in &originals {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{sort}: {id} seen {:?} times",
            counts.get(id)
        );
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "{sort}: a product was seen twice: {seen:?}"
    );
    match sort {
        "newest" => assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest order broke: {seen:?}"
        ),
        _ => assert!(
            prices_seen.windows(2).all(|w| w[0] <= w[1]),
            "price order broke: {prices_seen:?}"
        ),
    }
    assert_eq!(page_all(&app, "limit=100").await.len(), 22);
}

pub async fn paging_newest_first_while_products_are_added_sees_each_earlier_product_once(
    backend: Backend,
) {
    page_while_products_are_added(backend, "newest").await;
}

pub async fn paging_by_price_while_products_are_added_sees_each_earlier_product_once(
    backend: Backend,
) {
    page_while_products_are_added(backend, "price_asc").await;
}

testkit::backend_tests!(
    products_are_listed_newest_first_by_default,
    products_sort_by_price_both_ways,
    price_bounds_filter_the_listing,
    the_in_stock_filter_leaves_out_sold_out_products,
    a_category_filter_includes_its_subcategories,
    bad_listing_parameters_are_rejected,
    archived_products_are_listed_for_staff_only_when_asked,
    paging_with_a_small_limit_returns_each_product_once,
    paging_newest_first_while_products_are_added_sees_each_earlier_product_once,
    paging_by_price_while_products_are_added_sees_each_earlier_product_once,
);
