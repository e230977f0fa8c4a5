//! `GET /api/v1/catalog/stock-summary`: the dashboard's stock figures, counted over
//! active products only, with the lowest listed first.

use serde_json::Value;
use testkit::{Backend, TestApp};

use crate::helpers::{create_product_with, customer, inventory, product_body, staff, text};

const SUMMARY: &str = "/api/v1/catalog/stock-summary";

async fn stocked(app: &TestApp, token: &str, name: &str, stock: i64) -> String {
    let mut body = product_body(name, 1_000);
    body["stock"] = stock.into();
    text(&create_product_with(app, token, body).await, "id").to_owned()
}

fn names(summary: &Value) -> Vec<&str> {
    summary["lowest"]
        .as_array()
        .expect("lowest")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect()
}

pub async fn the_stock_summary_counts_sold_out_and_low_products(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let empty = app.get(SUMMARY, Some(&token)).await;
    empty.assert_status(200);
    assert_eq!(
        (&empty.body["out_of_stock"], &empty.body["low_stock"]),
        (&Value::from(0), &Value::from(0))
    );
    stocked(&app, &token, "Sold-out Kettle", 0).await;
    stocked(&app, &token, "Last Two Mugs", 2).await;
    stocked(&app, &token, "Four Bowls", 4).await;
    stocked(&app, &token, "Plenty of Spoons", 50).await;
    let archived = stocked(&app, &token, "Archived Teapot", 0).await;
    app.delete(&format!("/api/v1/products/{archived}"), Some(&token))
        .await
        .assert_status(204);

    let summary = app.get(SUMMARY, Some(&token)).await;
    summary.assert_status(200);
    assert_eq!(summary.body["below"], 5);
    assert_eq!(summary.body["out_of_stock"], 1, "{}", summary.body);
    assert_eq!(summary.body["low_stock"], 2, "{}", summary.body);
    assert_eq!(
        names(&summary.body),
        vec!["Sold-out Kettle", "Last Two Mugs", "Four Bowls"]
    );
    assert_eq!(summary.body["lowest"][1]["available"], 2);

    let tighter = app.get(&format!("{SUMMARY}?below=3"), Some(&token)).await;
    assert_eq!(tighter.body["low_stock"], 1, "{}", tighter.body);
    assert_eq!(
        names(&tighter.body),
        vec!["Sold-out Kettle", "Last Two Mugs"]
    );
    for role in ["finance", "admin"] {
        let other = staff(&app, role).await;
        app.get(SUMMARY, Some(&other)).await.assert_status(200);
    }
}

pub async fn the_stock_summary_is_for_staff_and_explains_a_bad_threshold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get(SUMMARY, None).await.assert_problem(401);
    let shopper = customer(&app).await;
    app.get(SUMMARY, Some(&shopper)).await.assert_problem(403);
    let token = inventory(&app).await;
    for below in ["0", "1000001", "few", "-3"] {
        let res = app
            .get(&format!("{SUMMARY}?below={below}"), Some(&token))
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["below"], "{below}: {}", res.body);
    }
}

testkit::backend_tests!(
    the_stock_summary_counts_sold_out_and_low_products,
    the_stock_summary_is_for_staff_and_explains_a_bad_threshold,
);
