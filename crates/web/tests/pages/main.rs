//! The storefront's pages over HTTP, as a browser without JavaScript sees them: status,
//! content, escaping, forms with the API's messages beside their fields, sessions, and
//! the refusal of cross-site posts. Both back-ends.

mod account;
mod browsing;

use account::*;
use browsing::*;

use serde_json::json;
use testkit::TestApp;

/// A shop whose cookies work over plain http://127.0.0.1 (browsers treat localhost as
/// secure; this client does not).
pub async fn shop(backend: testkit::Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| s.http.secure_cookies = false).await
}

/// A product named `name` in a category shown on the home page; returns (product id,
/// product slug, category slug).
pub async fn product_on_home(app: &TestApp, name: &str, stock: i64) -> (String, String, String) {
    let inventory = app.staff_token("inventory").await;
    let category = app
        .post(
            "/api/v1/categories",
            Some(&inventory),
            json!({"name": testkit::unique("Kitchen"), "show_on_home": true}),
        )
        .await;
    category.assert_status(201);
    let product = app
        .post(
            "/api/v1/products",
            Some(&inventory),
            json!({"name": name, "description": "Hand-thrown stoneware.\nDishwasher safe.", "price": 1250,
                   "currency": "USD", "weight_grams": 1250, "length_mm": 300, "width_mm": 200, "height_mm": 45,
                   "category_ids": [category.body["id"]], "stock": stock}),
        )
        .await;
    product.assert_status(201);
    (
        product.body["id"].as_str().expect("id").to_owned(),
        product.body["slug"].as_str().expect("slug").to_owned(),
        category.body["slug"].as_str().expect("slug").to_owned(),
    )
}

testkit::backend_tests!(
    the_home_page_shows_the_categories_marked_for_it_with_their_products,
    a_product_page_shows_price_stock_measures_and_search_engine_data,
    a_product_named_like_a_script_shows_as_text_on_every_page,
    listings_search_filter_and_explain_bad_filters_beside_them,
    unknown_pages_and_products_get_the_not_found_page,
    assets_are_immutable_and_compressed,
    a_visitor_registers_verifies_by_the_mailed_link_and_signs_in,
    a_wrong_password_is_shown_on_the_form_and_keeps_the_email,
    a_forgotten_password_is_reset_through_the_mailed_link,
    the_account_page_sends_a_visitor_to_sign_in_and_back,
    a_cross_site_form_post_is_refused,
);
