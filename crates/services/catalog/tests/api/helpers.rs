//! Small helpers the catalog suites share: tokens for each kind of caller, a valid
//! product body, one helper per catalog endpoint and cursor paging, and a shop whose
//! customers buy and review.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::shop::{paid_order, product, shipping_to_indonesia};
use testkit::{TestApp, TestResponse};
use uuid::Uuid;

pub const CATEGORIES: &str = "/api/v1/categories";
pub const PRODUCTS: &str = "/api/v1/products";
/// Passes the customer password policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// A short random suffix, for emails and names no other call uses.
pub fn unique(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..10])
}

/// A string field of a JSON answer (an id, a token), or a panic naming it.
pub fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {body}"))
}

/// The access token of a fresh staff member with `role` (`inventory`, `finance`, `admin`).
pub async fn staff(app: &TestApp, role: &str) -> String {
    let email = format!("{}@shop.test", unique(role));
    let pair = app.staff_with_role(&email, role).await;
    text(&pair, "access_token").to_owned()
}

/// The access token of a fresh inventory staff member.
pub async fn inventory(app: &TestApp) -> String {
    staff(app, "inventory").await
}

/// The access token of a fresh, verified customer.
pub async fn customer(app: &TestApp) -> String {
    let email = format!("{}@example.test", unique("shopper"));
    let pair = app.verified_customer(&email, PASSWORD).await;
    text(&pair, "access_token").to_owned()
}

pub fn product_path(id: &str) -> String {
    format!("{PRODUCTS}/{id}")
}

pub fn stock_path(id: &str) -> String {
    format!("{PRODUCTS}/{id}/stock")
}

pub fn category_path(id: &str) -> String {
    format!("{CATEGORIES}/{id}")
}

/// A complete, valid product body.
pub fn product_body(name: &str, price: i64) -> Value {
    json!({
        "name": name,
        "description": format!("All about {name}."),
        "price": price,
        "currency": "USD",
        "weight_grams": 350,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 100,
        "category_ids": [],
        "stock": 5,
    })
}

/// Creates a product from `body`; returns the created (staff) view.
pub async fn create_product_with(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post(PRODUCTS, Some(token), body).await;
    res.assert_status(201);
    res.body
}

/// Creates a product named `name` at `price` with 5 in stock.
pub async fn create_product(app: &TestApp, token: &str, name: &str, price: i64) -> Value {
    create_product_with(app, token, product_body(name, price)).await
}

/// Creates a category; returns its node.
pub async fn create_category(
    app: &TestApp,
    token: &str,
    name: &str,
    parent_id: Option<&str>,
) -> Value {
    let res = app
        .post(
            CATEGORIES,
            Some(token),
            json!({"name": name, "parent_id": parent_id}),
        )
        .await;
    res.assert_status(201);
    res.body
}

/// Sends a request with extra headers (`If-Match`, `If-None-Match`) and an optional body.
pub async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> TestResponse {
    app.send_with(method, path, token, headers, body).await
}

/// A write with `If-Match: "<version>"`.
pub async fn if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    version: i64,
    body: Option<Value>,
) -> TestResponse {
    let tag = format!("\"{version}\"");
    send_with(app, method, path, Some(token), &[("If-Match", &tag)], body).await
}

/// An anonymous `GET` with `If-None-Match: <tag>`.
pub async fn if_none_match(app: &TestApp, path: &str, tag: &str) -> TestResponse {
    send_with(
        app,
        Method::GET,
        path,
        None,
        &[("If-None-Match", tag)],
        None,
    )
    .await
}

/// `PUT /products/{id}/stock` with `body`.
pub async fn put_stock(app: &TestApp, token: Option<&str>, id: &str, body: Value) -> TestResponse {
    app.send(Method::PUT, &stock_path(id), token, Some(body))
        .await
}

/// A product as staff see it (with `stock`).
pub async fn staff_view(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app.get(&product_path(id), Some(token)).await;
    res.assert_status(200);
    res.body
}

/// `GET /products?<query>` without a token, expecting 200.
pub async fn list(app: &TestApp, query: &str) -> TestResponse {
    let res = app.get(&format!("{PRODUCTS}?{query}"), None).await;
    res.assert_status(200);
    res
}

/// The ids of a listing's items, in order.
pub fn ids(res: &TestResponse) -> Vec<String> {
    res.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", res.text))
        .iter()
        .map(|p| text(p, "id").to_owned())
        .collect()
}

/// Percent-encodes a query value (cursors are opaque).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The path of the page after `res` for `query`, or `None` on the last page.
pub fn next_page(query: &str, res: &TestResponse) -> Option<String> {
    let cursor = res.body["next_cursor"].as_str()?;
    Some(format!("{query}&cursor={}", encode(cursor)))
}

/// Every id of a listing, following `next_cursor` to the end.
pub async fn page_all(app: &TestApp, query: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut next = Some(query.to_owned());
    let mut pages = 0;
    while let Some(q) = next {
        let res = list(app, &q).await;
        all.extend(ids(&res));
        next = next_page(query, &res);
        pages += 1;
        assert!(pages < 100, "paging does not end");
    }
    all
}

/// The `id` of a JSON answer, owned.
pub fn id_of(body: &Value) -> String {
    text(body, "id").to_owned()
}

/// The named fields of a JSON object, as an object: compares several fields at once.
pub fn pick(body: &Value, fields: &[&str]) -> Value {
    fields
        .iter()
        .map(|f| ((*f).to_owned(), body[*f].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Where staff hide and show reviews.
pub const ADMIN_REVIEWS: &str = "/api/v1/admin/reviews";

pub fn reviews_path(product_id: &str) -> String {
    format!("{}/reviews", product_path(product_id))
}

pub fn review_path(product_id: &str, review_id: &str) -> String {
    format!("{}/reviews/{review_id}", product_path(product_id))
}

pub fn moderation_path(review_id: &str) -> String {
    format!("{ADMIN_REVIEWS}/{review_id}")
}

/// A shop that ships to Indonesia and sells one product; returns the inventory token and
/// the product's id.
pub async fn shop(app: &TestApp) -> (String, String) {
    shipping_to_indonesia(app).await;
    let staff = inventory(app).await;
    let product_id = product(app, &staff, 1500, 50).await;
    (staff, product_id)
}

/// A fresh customer with a paid order for the product.
pub async fn buyer(app: &TestApp, product_id: &str) -> String {
    let token = customer(app).await;
    paid_order(app, &token, product_id, 1).await;
    token
}

/// `POST /products/{id}/reviews`, answered once.
pub async fn post_review(
    app: &TestApp,
    token: &str,
    product_id: &str,
    body: Value,
) -> TestResponse {
    app.post(&reviews_path(product_id), Some(token), body).await
}

pub use testkit::shop::{post_as_buyer, review};

/// The product's public `rating` summary.
pub async fn rating(app: &TestApp, product_id: &str) -> Value {
    let res = app.get(&product_path(product_id), None).await;
    res.assert_status(200);
    res.body["rating"].clone()
}

/// The ids of a review list's items, as `token` sees it.
pub async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let res = app.get(path, token).await;
    res.assert_status(200);
    res.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", res.text))
        .iter()
        .map(id_of)
        .collect()
}

/// A product's `rating` summary, as the product view shows it.
pub fn rated(average: f64, count: i64) -> Value {
    json!({"average": average, "count": count})
}
